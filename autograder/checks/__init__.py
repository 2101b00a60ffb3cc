"""What a check is: a probe run on the same inputs for student and reference, and a comparison.

A `Run` names a probe and how to build its inputs from a seed; several checks may read one run.
A `Check` turns the two answers into a verdict and a message, with hints for known mistakes.
Public checks use fixed seeds (so their expected answers can be recorded at release); hidden,
randomized ones take the grading seed, which the report records so any failure can be replayed.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autograder.testing import ProbeError  # noqa: F401  (one class for both paths)

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

    def rng_seed(self, seed: int) -> int:
        """The seed the probe's own RNG starts from (torch.manual_seed, random.seed), on both
        sides, given `seed = self.seed(grading_seed)`. Public runs keep their public seed (the
        bundle's recorded answers); randomized runs get a one-way function of the grading seed
        and the run's name, so the worker never learns the seed its hidden inputs came from."""
        return seed if self.fixed_seed else derive_seed(seed, self.name)


def derive_seed(seed: int, name: str) -> int:
    "A 31-bit seed for one use (`name`) of `seed` that tells nothing about `seed` itself."
    key = int(seed).to_bytes(16, "big", signed=True)
    digest = hashlib.blake2b(name.encode(), key=key, digest_size=8, person=b"ag-worker-seed")
    return int.from_bytes(digest.digest(), "big") & 0x7FFFFFFF


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
