"""relu: hidden tests, on random shapes and dtypes drawn from the grading seed."""

import pytest
import torch
from test_relu import HINTS  # noqa: I001  (the public file, beside this folder)

from autograder.testing import expect_each, randn, random_shapes


@pytest.mark.points(1)
def test_random_shapes(student, reference, seed, grading_seed):
    dtypes = (torch.float32, torch.float64)
    inputs = [
        (randn(seed + i, *shape, scale=3.0, dtype=dtypes[i % 2]),)
        for i, shape in enumerate(random_shapes(seed))
    ]
    what = "relu(x) on random (N, C) batches"
    expect_each(student, reference, "relu", inputs, what, hints=HINTS, seed=grading_seed)
