"""softmax: hidden checks, on random shapes and dtypes drawn from the grading seed."""

import pytest
from test_softmax import HINTS  # noqa: I001  (the public file, beside this folder)

from autograder.testing import expect, expect_each, randn, random_batches


@pytest.mark.points(1)
def test_random_shapes(student, reference, seed, grading_seed):
    expect_each(
        student,
        reference,
        "softmax",
        random_batches(seed),
        "softmax(x) on random (N, C) batches",
        hints=HINTS,
        seed=grading_seed,
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
