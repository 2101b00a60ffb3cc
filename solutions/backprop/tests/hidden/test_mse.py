"""mse: hidden tests, on random batch sizes and dtypes drawn from the grading seed."""

import pytest
import torch
from backprop_helpers import digits, dtype_of  # noqa: I001  (the public folder's helpers)
from test_mse import HINTS

from autograder.testing import expect_each, gen, randn


@pytest.mark.points(1)
def test_random_batches(student, reference, seed, grading_seed):
    g = gen(seed)
    # the batch of one last: many mistakes (a sum for the mean, the root) are right there
    sizes = [*[int(torch.randint(3, 300, (1,), generator=g)) for _ in range(4)], 2, 1]
    inputs = [
        (
            randn(seed + i, n, 1, scale=3.0, dtype=dtype_of(i)) + 4.0,
            digits(seed + 100 + i, n, dtype_of(i)),
        )
        for i, n in enumerate(sizes)
    ]
    what = "mse(output, targ) on random batches, output (N, 1) and targ (N,)"
    expect_each(student, reference, "mse", inputs, what, hints=HINTS, seed=grading_seed)
