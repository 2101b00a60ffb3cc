"""dataset: hidden checks, on indices the public checks do not try."""

import pytest
import torch

from autograder.testing import expect, items, randn


@pytest.mark.points(1)
def test_list_negative_and_long_slice(student, reference):
    args = (randn(1, 12, 2, 2), torch.arange(12) % 5, [[4, 6, 7], -1, {"slice": [9, 30]}])
    expect(
        student.run("dataset", *args),
        reference.run("dataset", *args),
        "Dataset(x, y)[[4, 6, 7]], [-1] and [9:30]",
        args=args,
        compare_with=items(["ds[[4, 6, 7]]", "ds[-1]", "ds[9:30]"]),
    )
