"""softmax: hidden checks, on random shapes and dtypes drawn from the grading seed."""

import pytest
from hypothesis import example, given, settings
from test_softmax import HINTS  # noqa: I001  (the public file, beside this folder)

from autograder.testing import EXAMPLES, batches, edge_batches, expect, expect_each, randn


@pytest.mark.points(1)
@settings(max_examples=EXAMPLES)
@example(calls=edge_batches())
@given(calls=batches())
def test_random_shapes(student, reference, calls, grading_seed):
    "Random (N, C) batches from Hypothesis (the grading seed); a failure shows the smallest."
    what = "softmax(x) on random (N, C) batches"
    expect_each(
        student, reference, "softmax", calls, what, hints=HINTS, seed=grading_seed, shrink=False
    )


@pytest.mark.points(1)
def test_gradient(student, reference, seed):
    args = ("softmax", randn(seed, 5, 4, scale=2.0), randn(seed + 1, 5, 4))
    expect(
        student.run("call_grad", *args),
        reference.run("call_grad", *args),
        "the gradient of softmax(x) (autograd through it)",
    )


@pytest.mark.points(1)
def test_moderate_values(student, reference):
    x = randn(7, 6, 7, scale=20.0)
    expect(student.softmax(x), reference.softmax(x), "softmax(x) with |x| up to about 60")
