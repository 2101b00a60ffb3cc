"""accuracy: hidden checks, on random batches drawn by Hypothesis from the grading seed."""

import pytest
import torch
from hypothesis import example, given, settings
from test_accuracy import HINTS  # noqa: I001  (the public file, beside this folder)

from autograder.testing import EXAMPLES, batches, edge_batches, expect_each, gen, randn


def scores(seed, n, c, dtype):
    "Random (n, c) scores and targets in range(c)."
    return randn(seed, n, c, dtype=dtype), torch.randint(0, c, (n,), generator=gen(seed))


@pytest.mark.points(1)
@settings(max_examples=EXAMPLES)
@example(calls=edge_batches(scores))
@given(calls=batches(scores))
def test_random_shapes(student, reference, calls, grading_seed):
    "Random batches from Hypothesis (the grading seed); a failure shows the smallest."
    what = "accuracy(ypred, ytrue) on random batches"
    expect_each(
        student, reference, "accuracy", calls, what, hints=HINTS, seed=grading_seed, shrink=False
    )
