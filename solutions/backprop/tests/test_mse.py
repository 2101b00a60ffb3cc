"""mse: public tests, an (N, 1) output against an (N,) target (their answers ship to students)."""

import pytest
from backprop_helpers import BROADCAST, digits  # noqa: I001  (the helpers beside this file)

from autograder.testing import close_to, expect, hint, randn

MEAN = "mse is the mean of the squared differences: divide their sum by N (or use .mean())"
SQUARE = (
    "square each difference, (out[:, 0] - targ)**2; the absolute value gives the mean absolute "
    "error instead"
)
ROOT = "that is the root of the mean squared error; mse itself takes no square root"
HINTS = [
    hint(BROADCAST, when=close_to(lambda out, t: (out - t).pow(2).mean())),
    hint(MEAN, when=close_to(lambda out, t: (out[:, 0] - t).pow(2).sum())),
    hint(SQUARE, when=close_to(lambda out, t: (out[:, 0] - t).abs().mean())),
    hint(ROOT, when=close_to(lambda out, t: (out[:, 0] - t).pow(2).mean().sqrt())),
]


@pytest.mark.points(1)
def test_fixed_batch(student, reference):
    out, targ = randn(5, 5, 1, scale=3.0) + 4.0, digits(6, 5)
    want = reference.mse(out, targ)  # first: a self-check runs the student's code on these tensors
    expect(
        student.mse(out, targ),
        want,
        "mse(output, targ) with output (5, 1) and targ (5,)",
        args=(out, targ),
        call="mse",
        hints=HINTS,
    )
