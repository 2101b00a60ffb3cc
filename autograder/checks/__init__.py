"""What a check is: a probe run on the same inputs for student and reference, and a comparison.

A `Run` names a probe and how to build its inputs from a seed; several checks may read one run.
A `Check` turns the two answers into a verdict and a message, with hints for known mistakes.
Public checks use fixed seeds (so their expected answers can be recorded at release); hidden,
randomized ones take the grading seed, which the report records so any failure can be replayed.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Compare = Callable[[Any, Any, tuple], "str | None"]
Hint = tuple[Callable[[Any, Any, tuple], bool], str]


@dataclass(frozen=True)
class Run:
    "One probe call: the probe's name, its inputs from a seed, and whether the seed is fixed."

    name: str
    exercise: str
    probe: str
    make_args: Callable[[int], tuple]
    fixed_seed: bool = True
    timeout: float = 20.0

    def seed(self, grading_seed: int) -> int:
        return zlib.crc32(self.name.encode()) if self.fixed_seed else grading_seed


@dataclass(frozen=True)
class Check:
    "A verdict on one run: what was called (for the message), how to compare, points, visibility."

    exercise: str
    name: str
    run: str
    what: str
    compare: Compare
    points: float = 1.0
    hidden: bool = False
    hints: tuple[Hint, ...] = field(default=())


class ProbeError:
    "What a check sees when the student's code raised instead of answering."

    def __init__(self, text: str, kind: str = ""):
        self.text, self.kind = text, kind

    def __repr__(self):
        return f"error: {self.text}"


def no_error(part: dict) -> str | None:
    "For probes that return {'value'|'error'} parts: the error, if that part raised."
    return part.get("error") if isinstance(part, dict) and "error" in part else None


def first_hint(check: Check, expected, got, args) -> str:
    for test, text in check.hints:
        try:
            if test(expected, got, args):
                return text
        except Exception:  # a hint that cannot judge this answer simply stays silent
            continue
    return ""
