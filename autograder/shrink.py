"""Shrink a failing randomized input to the smallest one that still fails, and say how to replay.

A randomized check failed on some (N, C) batch. We try smaller pieces of that same input (fewer
rows, fewer columns), smallest first, asking the worker for the student's answer and the reference
for the expected one, and report the first piece that still fails: a minimal example a student
can paste into a cell. The grading seed in the message replays the whole check.
"""

from __future__ import annotations

import contextlib
import io
from itertools import product

import torch

from autograder import compare, probes
from autograder.checks import ProbeError, Run

MAX_TRIES = 10
SHRINK_TIMEOUT = 5.0  # seconds per try: a piece that hangs ends the search as the smallest failure


def failing_input(exp: list, got: list) -> int | None:
    "Which input of a call_each run failed first."
    for i, (e, g) in enumerate(zip(exp, got)):
        if "error" in g or compare.values(e.get("value"), g.get("value")):
            return i
    return None


def pieces(args: tuple) -> list[tuple]:
    "Smaller inputs cut from args, smallest first: rows for every argument, columns for a lone x."
    x = args[0]
    n, c = x.shape
    out = []
    cols = [k for k in (1, 2, 3) if k < c] if len(args) == 1 else []
    for r, k in product([k for k in (1, 2, 3) if k <= n], [*cols, c]):
        if (r, k) != (n, c):
            out.append(tuple(a[:r, :k] if a.dim() == 2 else a[:r] for a in args))
    return sorted(out, key=lambda a: a[0].numel())[:MAX_TRIES]


def shrink(session, run: Run, args: tuple, exp: list, got: list, ref_ns: dict, seed: int) -> str:
    "A line to add to the message: the smallest failing input found, or '' if none smaller."
    i = failing_input(exp, got)
    if i is None or ref_ns is None:
        return ""
    name, inputs = args[0], args[1][i]
    smallest = None
    for piece in pieces(inputs):
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                want = probes.call(ref_ns, name, *piece)
            except Exception:
                continue
        one = Run(run.name + "_shrink", run.exercise, "call", lambda s: (), timeout=SHRINK_TIMEOUT)
        have, _ = session.probe(one, (name, *piece), run.rng_seed(seed), [])
        if isinstance(have, ProbeError) or compare.values(want, have):
            smallest = (piece, want, have)
            break
    if smallest is None:
        return ""
    piece, want, have = smallest
    shown = ", ".join(show(a) for a in piece)
    got_text = have.text if isinstance(have, ProbeError) else show(have)
    return (
        f"\nSmallest failing input found: {name}({shown})\n  expected {show(want)}\n"
        f"  got      {got_text}"
    )


def show(v) -> str:
    "A value as a student would type it: tensors rounded to 4 decimals, on one line."
    if isinstance(v, torch.Tensor):
        with torch.no_grad():
            text = repr(v.double().round(decimals=4).to(v.dtype) if v.is_floating_point() else v)
        return " ".join(text.split())
    return compare.describe(v)
