"""An assignment's checks: the public module, plus the hidden one when it is there and wanted."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from autograder.checks import Check, Run


@dataclass(frozen=True)
class Suite:
    runs: list[Run]
    checks: list[Check]


def load_suite(name: str, hidden: bool = True) -> Suite:
    "Runs and checks of an assignment; hidden ones only if asked for and installed."
    mods = [importlib.import_module(f"autograder.checks.{name}")]
    if hidden:
        try:
            mods.append(importlib.import_module(f"autograder.checks.{name}_hidden"))
        except ModuleNotFoundError:
            pass  # the student bundle ships without hidden checks
    runs = [r for m in mods for r in m.RUNS]
    checks = [c for m in mods for c in m.CHECKS]
    names = {r.name for r in runs}
    missing = [c.name for c in checks if c.run not in names]
    assert not missing, f"checks refer to unknown runs: {missing}"
    return Suite(runs, checks)
