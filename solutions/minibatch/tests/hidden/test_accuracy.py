"""accuracy: hidden checks, on random batches drawn from the grading seed."""

import pytest
import torch
from test_accuracy import HINTS  # noqa: I001  (the public file, beside this folder)

from autograder.testing import expect_each, gen, randn, random_shapes


@pytest.mark.points(1)
def test_random_shapes(student, reference, seed, grading_seed):
    inputs = [
        (randn(seed + i, n, c), torch.randint(0, c, (n,), generator=gen(seed + i)))
        for i, (n, c) in enumerate(random_shapes(seed))
    ]
    expect_each(
        student,
        reference,
        "accuracy",
        inputs,
        "accuracy(ypred, ytrue) on random batches",
        hints=HINTS,
        seed=grading_seed,
    )
