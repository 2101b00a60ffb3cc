"""Expected answers: the reference run through the same probe, or answers recorded at release.

In the instructor's kit `reference` is importable and every expected answer is computed live, in
this trusted process. The student bundle ships no reference: its public checks read the inputs and
answers recorded by `record` when the bundle was built.
"""

from __future__ import annotations

import contextlib
import io
import random
from pathlib import Path

import torch

from autograder import probes, protocol
from autograder.checks import Run

RECORDED = Path(__file__).resolve().parent / "expected.bin"  # present only in the student bundle


def reference_namespace() -> dict | None:
    try:
        import reference
    except ImportError:
        return None
    return dict(vars(reference))


class Oracle:
    "Gives (args, expected) for a run at a seed; caches, since a batch shares the seed."

    def __init__(self, recorded: Path | None = None):
        recorded = recorded or RECORDED
        # recorded answers win when present: the bundle must not depend on a reference being around
        self.recorded = _load(recorded) if recorded.exists() else {}
        self.ns = None if self.recorded else reference_namespace()
        self.cache: dict = {}
        self.answers: dict = {}  # reference answers of the pytest tests, shared by a batch
        # the bundle's recorded answers of the pytest tests, by call (runner.call_key)
        self.calls = (
            self.recorded.get("calls") if isinstance(self.recorded.get("calls"), dict) else None
        )
        if self.ns is None and not self.recorded:
            raise RuntimeError(
                "neither the reference nor recorded answers are available; "
                "reinstall the kit or rebuild the bundle with `autograder release "
                "--bundle DIR`"
            )

    def get(self, run: Run, seed: int):
        key = (run.name, seed)
        if key not in self.cache:
            self.cache[key] = self._compute(run, seed)
        return self.cache[key]

    def _compute(self, run: Run, seed: int):
        if self.ns is None:
            if run.name not in self.recorded:
                raise KeyError(
                    f"no recorded answer for {run.name!r}; only public checks run "
                    "from the student bundle"
                )
            return self.recorded[run.name]
        args = run.make_args(seed)
        with torch.random.fork_rng():
            state = random.getstate()
            torch.manual_seed(run.rng_seed(seed))  # the same seed the worker's probe gets
            random.seed(run.rng_seed(seed))
            try:
                with contextlib.redirect_stdout(io.StringIO()):  # the reference's fit prints
                    expected = probes.PROBES[run.probe](self.ns, *args)
            finally:
                random.setstate(state)
        return args, expected


def record(runs: list[Run], path: Path, seed: int = 0, tests: Path | None = None) -> None:
    """Write the expected answers of the public checks, for the student bundle: the old checks'
    fixed-seed runs, and every reference call the public pytest tests make (`tests`)."""
    oracle = Oracle()
    data = {r.name: list(oracle.get(r, r.seed(seed))) for r in runs if r.fixed_seed}
    if tests is not None:
        data["calls"] = record_calls(tests, oracle.ns)
    path.write_bytes(protocol.encode(data))


def record_calls(tests: Path, ns: dict) -> dict:
    "Run the public tests with the reference on both sides; keep every reference answer they read."
    from autograder.assignment import get
    from autograder.runner import Grading, InstructorError, ReferenceSession, run_tests

    calls: dict = {}
    g = Grading(
        ReferenceSession(ns, probes.PROBES), ns, probes.PROBES, get().runtime_names, 0,
        record=calls,
    )  # fmt: skip
    run_tests(tests, g, hidden=False)
    wrong = [f"{r.exercise}::{r.name}: {r.message[:300]}" for r in g.results if not r.passed]
    if g.errors or wrong:
        raise InstructorError(
            "the reference does not pass the public tests in " + str(tests) + ":\n"
            + "\n".join(g.errors + wrong)
        )  # fmt: skip
    return calls


def _load(path: Path) -> dict:
    import struct

    blob = path.read_bytes()
    (n,) = struct.unpack(">Q", blob[:8])
    header = blob[8 : 8 + n]
    (m,) = struct.unpack(">Q", blob[8 + n : 16 + n])
    data = protocol.decode(header, blob[16 + n : 16 + n + m])
    return {k: v if k == "calls" else tuple(v) for k, v in data.items()}
