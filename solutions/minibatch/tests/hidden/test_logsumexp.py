"""logsumexp: hidden checks, on random shapes (the grading seed), extreme values, gradients."""

import pytest
from hypothesis import example, given, settings
from test_logsumexp import HINTS  # noqa: I001  (the public file, beside this folder)

from autograder.testing import (
    EXAMPLES,
    batches,
    edge_batches,
    expect,
    expect_each,
    randn,
    with_neg_inf,
)


@pytest.mark.points(1)
@settings(max_examples=EXAMPLES)
@example(calls=edge_batches())
@given(calls=batches())
def test_random_shapes(student, reference, calls, grading_seed):
    "Random (N, C) batches from Hypothesis (the grading seed); a failure shows the smallest."
    what = "logsumexp(x) on random (N, C) batches"
    expect_each(
        student, reference, "logsumexp", calls, what, hints=HINTS, seed=grading_seed, shrink=False
    )


@pytest.mark.points(1)
def test_gradient(student, reference, seed):
    args = ("logsumexp", randn(seed, 5, 4, scale=2.0), randn(seed + 1, 5, 1))
    expect(
        student.run("call_grad", *args),
        reference.run("call_grad", *args),
        "the gradient of logsumexp(x) (autograd through it)",
    )


@pytest.mark.points(1)
def test_large_values(student, reference):
    x = randn(11, 5, 4, scale=1e4)
    expect(
        student.logsumexp(x),
        reference.logsumexp(x),
        "logsumexp(x) with |x| ≈ 1e4",
        args=(x,),
        call="logsumexp",
        hints=HINTS,
        atol=1e-2,
    )


@pytest.mark.points(1)
def test_neg_inf_entries(student, reference):
    x = with_neg_inf(12)
    expect(
        student.logsumexp(x),
        reference.logsumexp(x),
        "logsumexp(x) with some -inf entries",
        args=(x,),
        call="logsumexp",
        hints=HINTS,
    )
