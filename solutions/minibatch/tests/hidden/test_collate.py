"""collate: hidden checks: samples that are images (random values from the grading seed) and a
batch of one."""

import pytest
import torch
from test_collate import expect_collated  # noqa: I001  (the public file, beside this folder)

from autograder.testing import randn


@pytest.mark.points(1)
def test_image_samples(student, reference, seed):
    args = (list(randn(seed, 3, 2, 2)), list(torch.tensor([4, 1, 9])))
    expect_collated(student, reference, args, "collate of three (2, 2) images")


@pytest.mark.points(1)
def test_single_sample(student, reference):
    args = ([randn(1, 4)], [torch.tensor(2)])
    expect_collated(student, reference, args, "collate of a single sample")
