"""relu: public tests, on a fixed batch: its values, and its input left as it was."""

import pytest
import torch
from torch import tensor

from autograder.testing import close_to, expect, hint

X = tensor([[-1.5, 0.0, 2.0, -0.25], [3.0, -4.0, 0.5, 1.0]])
NEW_TENSOR = "return a new tensor and leave x as it was: x.clamp_min(0.0) or x * (x > 0)"
HINTS = [
    hint(
        "that is min(x, 0): relu keeps the positive part, max(x, 0)",
        when=close_to(lambda x: x.clamp_max(0.0)),
    ),
    hint(
        "negative entries become 0, not their absolute value: max(x, 0)",
        when=close_to(lambda x: x.abs()),
    ),
    hint(
        "x > 0 is the mask (True where relu keeps the entry); multiply it with x: x * (x > 0)",
        when=close_to(lambda x: x > 0),
    ),
]


def out_of(answer):
    "relu's output, from relu_fresh's answer (an error stays the error)."
    return answer["out"] if isinstance(answer, dict) and "out" in answer else answer


def unchanged(exp, got):
    "relu must not write into its input, nor hand the input back as its answer."
    if not isinstance(got, dict):
        return "the answer had an unexpected form"
    before, after = exp["x_after"], got.get("x_after")
    if isinstance(after, torch.Tensor) and not torch.equal(after, before):
        i = tuple(int(k) for k in (after != before).nonzero()[0])
        return (
            f"relu(x) changed x in place: x{list(i)} was {before[i].item():g} and is now "
            f"{after[i].item():g}; {NEW_TENSOR}"
        )
    if got.get("same_object"):
        return f"relu(x) returned x itself, not a new tensor; {NEW_TENSOR}"
    return None


@pytest.mark.points(1)
def test_fixed_batch(student, reference):
    expect(
        out_of(student.run("relu_fresh", X)),
        out_of(reference.run("relu_fresh", X)),
        "relu(x) on a (2, 4) batch",
        args=(X,),
        call="relu",
        hints=HINTS,
    )


@pytest.mark.points(1)
def test_input_unchanged(student, reference):
    expect(
        student.run("relu_fresh", X),
        reference.run("relu_fresh", X),
        "relu(x) leaves x unchanged",
        compare_with=unchanged,
    )
