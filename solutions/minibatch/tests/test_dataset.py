"""dataset: public checks, on fixed inputs (their expected answers ship in the student bundle)."""

import pytest
import torch

from autograder.testing import expect, items, part, randn


def basic_args():
    "Ten (3,) inputs with targets, read at one int and one slice."
    return (randn(0, 10, 3), torch.arange(10) * 7 % 10, [3, {"slice": [2, 7]}])


@pytest.mark.points(1)
def test_length(student, reference):
    args = basic_args()
    expect(
        student.run("dataset", *args),
        reference.run("dataset", *args),
        "len(Dataset(x, y)) with 10 items",
        args=args,
        compare_with=part("len"),
    )


@pytest.mark.points(1)
def test_int_and_slice(student, reference):
    args = basic_args()
    expect(
        student.run("dataset", *args),
        reference.run("dataset", *args),
        "Dataset(x, y)[3] and [2:7]",
        args=args,
        compare_with=items(["ds[3]", "ds[2:7]"]),
    )
