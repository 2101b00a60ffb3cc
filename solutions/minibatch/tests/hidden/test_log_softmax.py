"""log_softmax: hidden checks, on random shapes (the grading seed), extreme values, gradients."""

import pytest
from hypothesis import example, given, settings
from test_log_softmax import HINTS  # noqa: I001  (the public files, beside this folder)
from test_logsumexp import MAXTRICK

from autograder.testing import (
    EXAMPLES,
    batches,
    edge_batches,
    expect,
    expect_each,
    hint,
    randn,
    with_neg_inf,
)


@pytest.mark.points(1)
@settings(max_examples=EXAMPLES)
@example(calls=edge_batches())
@given(calls=batches())
def test_random_shapes(student, reference, calls, grading_seed):
    "Random (N, C) batches from Hypothesis (the grading seed); a failure shows the smallest."
    what = "log_softmax(x) on random (N, C) batches"
    expect_each(
        student, reference, "log_softmax", calls, what, hints=HINTS, seed=grading_seed, shrink=False
    )


@pytest.mark.points(1)
def test_gradient(student, reference, seed):
    args = ("log_softmax", randn(seed, 5, 4, scale=2.0), randn(seed + 1, 5, 4))
    expect(
        student.run("call_grad", *args),
        reference.run("call_grad", *args),
        "the gradient of log_softmax(x) (autograd through it)",
    )


@pytest.mark.points(1)
def test_large_values(student, reference):
    x = randn(13, 5, 4, scale=1e4)
    expect(
        student.log_softmax(x),
        reference.log_softmax(x),
        "log_softmax(x) with |x| ≈ 1e4",
        args=(x,),
        call="log_softmax",
        atol=1e-2,
        hints=[
            hint(
                MAXTRICK + ", via logsumexp: log_softmax(x) = x - logsumexp(x)",
                when=lambda a: not a.got.isfinite().all(),
            )
        ],
    )


@pytest.mark.points(1)
def test_neg_inf_entries(student, reference):
    x = with_neg_inf(14)
    expect(
        student.log_softmax(x),
        reference.log_softmax(x),
        "log_softmax(x) with some -inf entries",
        args=(x,),
        call="log_softmax",
    )
