"""Comparing a student's answer with the reference's, in words a student can act on."""

from __future__ import annotations

import torch

from autograder.protocol import Opaque

Problem = str | None  # None means the answers agree


def describe(v) -> str:
    "A short, printable description of a value, as a student would write it."
    if isinstance(v, torch.Tensor):
        if v.numel() <= 12:
            vals = v.detach().double().round(decimals=4) if v.is_floating_point() else v
            return f"tensor({vals.tolist()}, dtype={v.dtype})"
        return f"a tensor of shape {tuple(v.shape)}, dtype {v.dtype}"
    if isinstance(v, Opaque):
        return f"a {v.type} ({v.repr})"
    if isinstance(v, (tuple, list)) and any(isinstance(x, torch.Tensor) for x in v):
        text = f"a {type(v).__name__} of {len(v)}: " + ", ".join(describe(x) for x in v[:3])
        return text + (", ..." if len(v) > 3 else "")
    text = repr(v)
    return text if len(text) < 120 else text[:117] + "..."


def kind(v) -> str:
    return v.type if isinstance(v, Opaque) else type(v).__name__


def tensors(exp: torch.Tensor, got, atol=1e-5, rtol=1e-4, check_dtype=True) -> Problem:
    "Same type, shape, dtype and values (inf and -inf where expected, no nan where not)."
    if not isinstance(got, torch.Tensor):
        return f"expected a torch.Tensor, got {describe(got)}"
    if tuple(got.shape) != tuple(exp.shape):
        return f"expected shape {tuple(exp.shape)}, got shape {tuple(got.shape)}"
    if check_dtype and got.dtype != exp.dtype:
        return f"expected dtype {exp.dtype}, got {got.dtype}"
    if exp.numel() == 0:
        return None
    e, g = exp.double(), got.double()
    bad_nan = g.isnan() & ~e.isnan()
    if bad_nan.any():
        return f"got nan at {_first(bad_nan)} where {_at(e, bad_nan)} was expected"
    bad_inf = g.isinf() & (g != e)
    if bad_inf.any():
        return f"got {_at(g, bad_inf)} at {_first(bad_inf)} where {_at(e, bad_inf)} was expected"
    fin = e.isfinite() & g.isfinite()
    diff = torch.where(fin, (e - g).abs(), torch.zeros_like(e))
    tol = atol + rtol * e.abs().where(fin, torch.zeros_like(e))
    wrong = (diff > tol) | (e.isinf() & (g != e))
    if not wrong.any():
        return None
    i = _first(wrong)
    return (
        f"values differ at {i}: expected {e[i].item():.6g}, got {g[i].item():.6g} "
        f"({int(wrong.sum())} of {e.numel()} entries wrong, largest difference {diff.max():.3g})"
    )


def _first(mask: torch.Tensor) -> tuple:
    return tuple(int(v) for v in mask.nonzero()[0])


def _at(t: torch.Tensor, mask: torch.Tensor) -> str:
    return f"{t[_first(mask)].item():.6g}"


def where(path: str, at: tuple, names=None) -> str:
    """A part of an answer in words: `names` maps a top-level key or index to a phrase ("xs",
    "calls to collate_fn"); other steps read "item 2" (of a list or tuple) or the dict key."""
    steps = [str(k) if isinstance(k, str) else f"item {k + 1}" for k in at]
    if at and names and at[0] in names:
        steps[0] = names[at[0]]
    return ", ".join([path, *steps] if path else steps)


def values(exp, got, atol=1e-5, rtol=1e-4, check_dtype=True, path="", names=None, at=()) -> Problem:
    """Compare nested tuples, lists, dicts and tensors; the message names the part that differs in
    words (`where`): `path` names the whole answer, `names` its top-level parts."""
    here = where(path, at, names)
    say = lambda p: f"{here}: {p}" if here else p
    rec = lambda e, g, k: values(e, g, atol, rtol, check_dtype, path, names, (*at, k))
    if isinstance(exp, torch.Tensor):
        p = tensors(exp, got, atol, rtol, check_dtype)
        return p and say(p)
    if isinstance(exp, (tuple, list)):
        noun = f"a {type(exp).__name__} of {len(exp)} items"
        if not isinstance(got, (tuple, list)):
            return say(f"expected {noun}, got {describe(got)}")
        if len(got) != len(exp):
            return say(f"expected {len(exp)} items, got {len(got)}")
        return next((p for k, (e, g) in enumerate(zip(exp, got)) if (p := rec(e, g, k))), None)
    if isinstance(exp, dict):
        if not isinstance(got, dict):
            return say(f"expected a dict, got {describe(got)}")
        return next((p for k in exp if (p := rec(exp[k], got.get(k), k))), None)
    if isinstance(exp, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        ok = abs(exp - got) <= atol + rtol * abs(exp)
        return None if ok else say(f"expected {exp:.6g}, got {got:.6g}")
    if exp != got or type(exp) is not type(got):
        return say(f"expected {describe(exp)}, got {describe(got)}")
    return None
