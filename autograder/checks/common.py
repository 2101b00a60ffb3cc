"""Input makers, comparisons and hints that several exercises' checks share."""

from __future__ import annotations

import torch

from autograder import compare
from autograder.checks import ProbeError, no_error


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(seed: int, *shape, scale=1.0, dtype=torch.float32) -> torch.Tensor:
    return (torch.randn(*shape, generator=gen(seed), dtype=torch.float64) * scale).to(dtype)


def random_shapes(seed: int, count=6) -> list[tuple[int, int]]:
    "Shapes including the edge cases a row-wise function gets wrong: one row, one column."
    g = gen(seed)
    rnd = lambda hi: int(torch.randint(1, hi, (1,), generator=g))
    return [(1, 5), (7, 1), *[(rnd(40), rnd(15)) for _ in range(count - 2)]]


def count(got, n: int, what: str) -> str | None:
    """Checked before any list's contents, so no check passes on an empty answer: `what` is
    '<who> yielded {} <things>' and the message names both counts."""
    if not isinstance(got, (list, tuple)):
        return f"{what.format('no list of')}, expected {n}; got {compare.describe(got)}"
    return None if len(got) == n else f"{what.format(len(got))}, expected {n}"


def passes(who: str, noun: str, then=None, key=None):
    """For answers that are a list of passes over an iterable (sampler, batch sampler, loader):
    the number of passes, then the length of each pass, then `then` (default: same())."""
    then = then or same()

    def cmp(exp, got, args):
        e, g = (exp[key], got[key]) if key else (exp, got)
        p = count(g, len(e), f"{who} was iterated {{}} times")
        for k, (ep, gp) in enumerate(zip(e, g)):
            p = p or count(gp, len(ep), f"pass {k + 1}: {who} yielded {{}} {noun}")
        return p or then(exp, got, args)

    return cmp


def same(atol=1e-5, rtol=1e-4, check_dtype=True):
    "Compare whole answers."
    return lambda e, g, a: compare.values(e, g, atol, rtol, check_dtype)


def each(atol=1e-5, rtol=1e-4):
    "Compare lists of {'value'|'error'} parts, as call_each returns them; names the failing input."

    def cmp(exp, got, args):
        inputs = args[-1]
        p = count(got, len(exp), "the probe returned {} answers (one per input)")
        if p:
            return p
        for i, (e, g) in enumerate(zip(exp, got)):
            shape = tuple(inputs[i][0].shape)
            err = no_error(g)
            if err and g.get("kind") == "NotImplementedError":
                return "not implemented yet"
            if err:
                return f"on an input of shape {shape}: raised {err}"
            p = compare.values(e["value"], g["value"], atol, rtol)
            if p:
                return f"on an input of shape {shape} ({inputs[i][0].dtype}): {p}"
        return None

    return cmp


def part(key, cmp=None):
    "Compare one named part of a probe's answer (probes that return several {'value'} parts)."

    def check(exp, got, args):
        g = got[key]
        err = no_error(g)
        if err:
            return f"raised {err}"
        if cmp is not None:
            return cmp(exp[key]["value"], g["value"], args)
        return compare.values(exp[key]["value"], g["value"])

    return check


def part_raised(key, *words):
    "A hint test: one part of a multi-part answer raised an error containing one of the words."
    return lambda e, g, a: any(w in str(g[key].get("error", "")) for w in words)


def swapped(e, g, a):
    "A hint test: the answer is a pair in the wrong order."
    return (
        isinstance(g, (tuple, list))
        and len(g) == 2
        and compare.values(e, type(e)(reversed(g))) is None
    )


def raised(*words):
    "A hint test: the student's code raised an error whose text contains one of the words."
    return lambda e, g, a: isinstance(g, ProbeError) and any(w in g.text for w in words)


def close_to(fn):
    "A hint test: the student's answer matches what a known mistake, fn(args), would give."

    def test(e, g, a):
        want = fn(*a[1:]) if isinstance(a[0], str) else fn(*a)
        return isinstance(g, torch.Tensor) and compare.values(want, g, check_dtype=False) is None

    return test


def has_nonfinite(e, g, a):
    return isinstance(g, torch.Tensor) and not g.isfinite().all() and bool(e.isfinite().all())


def items(labels):
    "Compare the list of {'value'|'error'} parts under 'items', naming each by its label."

    def cmp(exp, got, args):
        p = count(got["items"], len(exp["items"]), "the probe returned {} items")
        if p:
            return p
        for label, e, g in zip(labels, exp["items"], got["items"]):
            err = no_error(g)
            if err:
                return f"{label} raised {err}"
            p = compare.values(e["value"], g["value"])
            if p and swapped(e["value"], g["value"], args):
                return f"{label}: {p}; x and y are swapped: return (x[i], y[i]), inputs first"
            if p:
                return f"{label}: {p}"
        return None

    return cmp
