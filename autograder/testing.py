"""What an instructor's tests import: `expect`, hints, and small input makers.

An assignment's checks are ordinary pytest tests in its folder (`solutions/NAME/tests/`, hidden
ones in `tests/hidden/`). Each test takes the `student` and `reference` fixtures, asks both the
same question, and hands the two answers to `expect`:

    @pytest.mark.points(1)
    def test_small_batch(student, reference):
        x = randn(0, 4, 3)
        expect(student.f(x), reference.f(x), "f(x) on a (4, 3) batch",
               args=(x,), hints=[hint("sum over dim=1", when=close_to(lambda x: x.sum(0)))])

`student.f(x)` runs in the sandboxed worker and returns data, or a `ProbeError` when the
student's code raised; `reference.f(x)` runs here (or replays an answer recorded at
release, in the student bundle). A failed `expect` raises `CheckFailed` with the whole message a
student reads: what was called, expected against got, the call when it is small, and the first
hint whose `when` matches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import torch

from autograder import compare
from autograder.model import NOT_IMPLEMENTED, ProbeError  # noqa: F401  (part of the API)


class CheckFailed(pytest.fail.Exception):
    "A check did not pass; its text is the message the student reads (no traceback: it is ours)."

    def __init__(self, msg: str):
        super().__init__(msg, pytrace=False)


@dataclass(frozen=True)
class Answer:
    "What a hint's `when` sees: the expected and the student's answer, and the inputs."

    expected: Any
    got: Any
    args: tuple


@dataclass(frozen=True)
class File:
    """A data file a probe reads, as an argument of `student.run` (or `reference.run`): the file
    is bound read-only into the worker (a new one is started if the current one lacks it) and the
    probe gets its path there; the reference gets the path itself. Only files the parent names
    ever enter the sandbox: keep held-out data (a test split) out of them."""

    path: str


@dataclass(frozen=True)
class Hint:
    "Advice for one known mistake: `say` is shown when `when(answer)` is true."

    say: str
    when: Callable[[Answer], bool]


def hint(say: str, *, when: Callable[[Answer], bool]) -> Hint:
    return Hint(say, when)


def first_hint(hints: Sequence[Hint], answer: Answer) -> str:
    for h in hints:
        try:
            if h.when(answer):
                return h.say
        except Exception:  # a hint that cannot judge this answer stays silent
            continue
    return ""


def problem_of(got, expected, compare_with=None, **tol) -> str | None:
    "What is wrong with got, or None: an error the student's code raised, or a comparison."
    if isinstance(got, ProbeError):
        return got.message
    if compare_with is not None:
        return compare_with(expected, got)
    return compare.values(expected, got, **tol)


def expect(
    got,
    expected,
    what: str,
    *,
    args: tuple = (),
    hints: Sequence[Hint] = (),
    compare_with: Callable[[Any, Any], str | None] | None = None,
    call: str | None = None,
    **tol,
) -> None:
    """Pass if `got` matches `expected` (values, shapes, dtypes within atol/rtol), else raise
    CheckFailed naming `what`, the problem, the call (when `call` names the function and the
    tensors in `args` are small) and the first matching hint. `compare_with(expected, got)` may
    replace the comparison: it returns what is wrong, or None."""
    try:
        problem = problem_of(got, expected, compare_with, **tol)
    except Exception as e:  # the student's data had a form the comparison did not expect
        problem = f"the answer had an unexpected form ({type(e).__name__}: {str(e)[:200]})"
    if problem:
        fail(what, problem, Answer(expected, got, tuple(args)), hints, call)


def fail(what: str, problem: str, answer: Answer | None = None, hints=(), call=None):
    "Raise CheckFailed with the whole message: what, the problem, the call, the hint."
    msg = f"{what}: {problem}"
    if (
        call
        and answer is not None
        and (not isinstance(answer.got, ProbeError) or _hintable(answer))
    ):
        msg += called(call, answer.args)
    if answer is not None and not isinstance(answer.got, ProbeError) or _hintable(answer):
        h = first_hint(hints, answer)
        msg += f"\nHint: {h}" if h else ""
    raise CheckFailed(msg)


def _hintable(answer: Answer | None) -> bool:
    "Errors the student's code raised get hints too (a known message); a dead worker does not."
    return (
        answer is not None
        and isinstance(answer.got, ProbeError)
        and answer.got.kind not in ("WorkerGone", "NotImplementedError", "CellError")
    )


def called(name: str, args: tuple) -> str:
    "The call and its inputs, when they are small enough to print and paste into a cell."
    if not args or not all(isinstance(t, torch.Tensor) and t.numel() <= 24 for t in args):
        return ""
    return f"\nCalled: {name}({', '.join(show(t) for t in args)})"


def show(v) -> str:
    "A value as a student would type it: tensors rounded to 4 decimals, on one line."
    if isinstance(v, torch.Tensor):
        with torch.no_grad():
            text = repr(v.double().round(decimals=4).to(v.dtype) if v.is_floating_point() else v)
        return " ".join(text.split())
    return compare.describe(v)


# --- hint predicates -----------------------------------------------------------------------------


def close_to(fn: Callable) -> Callable[[Answer], bool]:
    """The student's answer is what a known mistake, fn(*args), would give, and that mistake is
    wrong here: on an input where it gives the right values (min(x, 0) on a lone 0, say)
    the answer failed for another reason, a dtype perhaps, and the mistake explains nothing."""

    def when(a: Answer) -> bool:
        want = fn(*a.args)
        return (
            isinstance(a.got, torch.Tensor)
            and compare.values(want, a.got, check_dtype=False) is None
            and compare.values(a.expected, want, check_dtype=False) is not None
        )

    return when


def raised(*words: str) -> Callable[[Answer], bool]:
    "The student's code raised an error whose text contains one of the words."
    return lambda a: isinstance(a.got, ProbeError) and any(w in a.got.text for w in words)


def nonfinite(a: Answer) -> bool:
    "The student's answer has inf or nan where the expected one is finite."
    return (
        isinstance(a.got, torch.Tensor)
        and not bool(a.got.isfinite().all())
        and bool(a.expected.isfinite().all())
    )


def swapped(a: Answer) -> bool:
    "The answer is a pair in the wrong order."
    g, e = a.got, a.expected
    return (
        isinstance(g, (tuple, list))
        and len(g) == 2
        and compare.values(e, type(e)(reversed(g))) is None
    )


def always(a: Answer) -> bool:
    "For the one hint of a check that has a single likely cause."
    return True


def part_raised(key: str, *words: str) -> Callable[[Answer], bool]:
    "One part of a multi-part answer ({key: {'value'|'error'}}) raised with one of the words."
    return lambda a: any(w in str(a.got[key].get("error", "")) for w in words)


# --- comparisons for compare_with= (expected, got) -> what is wrong, or None ---------------------


def count(got, n: int, what: str) -> str | None:
    """Checked before any list's contents, so no check passes on an empty answer: `what` is
    '<who> yielded {} <things>' and the message names both counts."""
    if not isinstance(got, (list, tuple)):
        return f"{what.format('no list of')}, expected {n}; got {compare.describe(got)}"
    return None if len(got) == n else f"{what.format(len(got))}, expected {n}"


def passes(who: str, noun: str, then=None, key=None):
    """For answers that are a list of passes over an iterable (sampler, batch sampler, loader):
    the number of passes, then the length of each pass, then `then` (default: compare.values)."""
    then = then or compare.values

    def cmp(exp, got):
        e, g = (exp[key], got[key]) if key else (exp, got)
        p = count(g, len(e), f"{who} was iterated {{}} times")
        for k, (ep, gp) in enumerate(zip(e, g)):
            p = p or count(gp, len(ep), f"pass {k + 1}: {who} yielded {{}} {noun}")
        return p or then(exp, got)

    return cmp


def part(key: str, cmp=None):
    "Compare one named part of an answer whose parts are {'value'|'error'} (several questions)."

    def check(exp, got):
        g = got[key]
        if isinstance(g, dict) and "error" in g:
            return f"raised {g['error']}"
        return (cmp or compare.values)(exp[key]["value"], g["value"])

    return check


def items(labels):
    "Compare the {'value'|'error'} parts under 'items', naming each by its label."

    def cmp(exp, got):
        p = count(got["items"], len(exp["items"]), "the probe returned {} items")
        if p:
            return p
        for label, e, g in zip(labels, exp["items"], got["items"]):
            if isinstance(g, dict) and "error" in g:
                return f"{label} raised {g['error']}"
            p = compare.values(e["value"], g["value"])
            if p and swapped(Answer(e["value"], g["value"], ())):
                return f"{label}: {p}; x and y are swapped: return (x[i], y[i]), inputs first"
            if p:
                return f"{label}: {p}"
        return None

    return cmp


# --- inputs --------------------------------------------------------------------------------------


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(seed: int, *shape, scale=1.0, dtype=torch.float32) -> torch.Tensor:
    "A reproducible normal tensor: the same seed gives the same values on every machine."
    return (torch.randn(*shape, generator=gen(seed), dtype=torch.float64) * scale).to(dtype)


def random_shapes(seed: int, count=6) -> list[tuple[int, int]]:
    "Shapes including the edge cases a row-wise function gets wrong: one row, one column."
    g = gen(seed)
    rnd = lambda hi: int(torch.randint(1, hi, (1,), generator=g))
    return [(1, 5), (7, 1), *[(rnd(40), rnd(15)) for _ in range(count - 2)]]


# --- several inputs at once ----------------------------------------------------------------------

REPLAY = "\nReplay: autograder grade NOTEBOOK --out DIR --seed {seed}"
SHRINK_TRIES = 10


def expect_each(
    student,
    reference,
    name: str,
    inputs: list[tuple],
    what: str,
    *,
    hints=(),
    seed=None,
    shrink=True,
    **tol,
):
    """Call `name` on each input (one round trip); the first input that fails is shrunk to the
    smallest piece of it (fewer rows, fewer columns) that still fails, and shown with the call.
    Meant for randomized hidden tests: `seed` (the grading seed) goes into the replay line.
    shrink=False under `@given(batches(...))`: Hypothesis shrinks the list itself, and a small
    failing input is shown whole."""
    got = student.run("call_each", name, inputs)
    exp = reference.run("call_each", name, inputs)
    if isinstance(got, ProbeError):
        fail(what, got.message, Answer(exp, got, ()), hints)
    wrong = count(got, len(inputs), "the probe returned {} answers (one per input)")
    if wrong:
        fail(what, wrong)
    for i, (e, g) in enumerate(zip(exp, got)):
        args = tuple(inputs[i])
        shape = tuple(args[0].shape)
        if not isinstance(g, dict) or not ("value" in g or "error" in g):
            fail(what, f"on an input of shape {shape}: the answer had an unexpected form")
        if "error" in g:
            kind = g.get("kind", "")
            if kind == "NotImplementedError":
                fail(what, NOT_IMPLEMENTED.format(gid=name))
            err = ProbeError(str(g["error"]), str(kind))
            problem = f"on an input of shape {shape}: raised {err.text}"
            answer = Answer(e.get("value"), err, args)
        else:
            problem = compare.values(e["value"], g["value"], **tol)
            problem = problem and f"on an input of shape {shape} ({args[0].dtype}): {problem}"
            answer = Answer(e["value"], g["value"], args)
        if problem:
            if shrink:
                extra = _smallest(student, reference, name, args) if len(args) else ""
            elif sum(a.numel() for a in args if isinstance(a, torch.Tensor)) <= 24:
                extra = f"\nFailing input: {name}({', '.join(show(a) for a in args)})"
            else:
                extra = ""
            extra += REPLAY.format(seed=seed) if seed is not None else ""
            h = first_hint(hints, answer)
            raise CheckFailed(f"{what}: {problem}{extra}" + (f"\nHint: {h}" if h else ""))


def pieces(args: tuple) -> list[tuple]:
    "Smaller inputs cut from args, smallest first: rows for every argument, columns for a lone x."
    x = args[0]
    if not isinstance(x, torch.Tensor) or x.dim() != 2:
        return []
    n, c = x.shape
    cols = [k for k in (1, 2, 3) if k < c] if len(args) == 1 else []
    out = [
        tuple(a[:r, :k] if a.dim() == 2 else a[:r] for a in args)
        for r in [k for k in (1, 2, 3) if k <= n]
        for k in [*cols, c]
        if (r, k) != (n, c)
    ]
    return sorted(out, key=lambda a: a[0].numel())[:SHRINK_TRIES]


def _smallest(student, reference, name, args) -> str:
    "The smallest piece of a failing input that still fails, as a line to paste; '' if none."
    try:
        for piece in pieces(args):
            try:
                want = reference.run("call", name, *piece)
            except Exception:
                continue
            have = student.run("call", name, *piece, timeout=5.0)
            if isinstance(have, ProbeError) or compare.values(want, have):
                got_text = have.text if isinstance(have, ProbeError) else show(have)
                shown = ", ".join(show(a) for a in piece)
                return (
                    f"\nSmallest failing input found: {name}({shown})\n  expected {show(want)}\n"
                    f"  got      {got_text}"
                )
    except Exception:  # shrinking is a courtesy: it must never cost the report
        return ""
    return ""


# --- random batches ------------------------------------------------------------------------------


# lists Hypothesis draws per randomized test, beside its @example cases: each is one round trip
EXAMPLES = 3


def x_only(seed: int, n: int, c: int, dtype) -> tuple[torch.Tensor]:
    "One random (n, c) batch of logits (scale 3), as the one argument of a call."
    return (randn(seed, n, c, scale=3.0, dtype=dtype),)


def batches(make=x_only, count=6, max_rows=40, max_cols=15, dtypes=(torch.float32, torch.float64)):
    """A Hypothesis strategy for `expect_each`: a list of 1 to `count` calls' arguments, each
    `make(seed, n, c, dtype)` on a shape and seed Hypothesis draws (torch makes the values, so a
    draw is cheap). All of one list go to the worker in one round trip; a failing list shrinks
    to fewer, smaller batches. The runner seeds Hypothesis from the grading seed."""
    from hypothesis import strategies as st

    one = st.builds(
        make,
        st.integers(0, 2**16),
        st.integers(1, max_rows),
        st.integers(1, max_cols),
        st.sampled_from(dtypes),
    )
    return st.lists(one, min_size=1, max_size=count)


def edge_batches(make=x_only) -> list[tuple]:
    "The shapes a row-wise function most often gets wrong, for `@example`: one row, one column."
    return [make(1, 1, 5, torch.float32), make(2, 7, 1, torch.float64)]


def with_neg_inf(seed: int, scale=3.0) -> torch.Tensor:
    """A random (6, 5) batch with a few -inf entries (masked logits): two in one row, one in
    another, never a whole row."""
    x = randn(seed, 6, 5, scale=scale)
    x[0, 1] = x[3, 0] = x[3, 4] = float("-inf")
    return x


def tensors(max_side: int = 8, dims: int = 2, scale: float = 10.0, dtypes=(torch.float32,)):
    """A Hypothesis strategy of float tensors with `dims` dimensions of 1 to `max_side`, values in
    [-scale, scale]: for `@given` in hidden tests, where the runner seeds it from the grading
    seed and its shrinking finds the smallest failing input. (Public tests replay recorded
    answers, which cover no shrunk inputs: keep them on fixed inputs.)"""
    import numpy as np
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    shapes = hnp.array_shapes(min_dims=dims, max_dims=dims, min_side=1, max_side=max_side)

    def arrays(dtype):
        width = 32 if dtype == torch.float32 else 64
        values = st.floats(-scale, scale, width=width, allow_nan=False)
        return hnp.arrays(np.float32 if width == 32 else np.float64, shapes, elements=values)

    return st.sampled_from(dtypes).flatmap(arrays).map(lambda a: torch.from_numpy(a.copy()))


def per_epoch(v, limit: int) -> list:
    """A training curve the worker reported, [a, b] per epoch (at most `limit` of them), kept only
    if it is what it claims to be, for `record`: [] otherwise, and None for a diverged point
    (nan, inf), so the report stays strict JSON."""
    import math

    ok = (
        isinstance(v, list)
        and len(v) <= limit
        and all(isinstance(p, list) and len(p) == 2 and all(type(x) is float for x in p) for p in v)
    )
    return [[round(x, 6) if math.isfinite(x) else None for x in p] for p in v] if ok else []
