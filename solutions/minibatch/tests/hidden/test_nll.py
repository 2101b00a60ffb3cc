"""nll: hidden checks, on random batches (the grading seed) and its gradient."""

import pytest
import torch
from hypothesis import example, given, settings
from test_nll import HINTS  # noqa: I001  (the public file, beside this folder)

from autograder.testing import EXAMPLES, batches, edge_batches, expect, expect_each, gen, randn


def logprobs(seed, n, c, dtype):
    "Random (n, c) log-probabilities and targets in range(c)."
    x = randn(seed, n, c, dtype=dtype)
    return x - x.logsumexp(1, keepdim=True), torch.randint(0, c, (n,), generator=gen(seed))


@pytest.mark.points(1)
@settings(max_examples=EXAMPLES)
@example(calls=edge_batches(logprobs))
@given(calls=batches(logprobs))
def test_random_shapes(student, reference, calls, grading_seed):
    "Random batches from Hypothesis (the grading seed); a failure shows the smallest."
    what = "nll(pred, y) on random batches"
    expect_each(
        student, reference, "nll", calls, what, hints=HINTS, seed=grading_seed, shrink=False
    )


@pytest.mark.points(1)
def test_gradient(student, reference, seed):
    pred, y = logprobs(seed, 9, 6, torch.float32)
    args = ("nll", pred, torch.tensor(1.7), y)
    expect(
        student.run("call_grad", *args),
        reference.run("call_grad", *args),
        "the gradient of nll(pred, y) with respect to pred",
    )
