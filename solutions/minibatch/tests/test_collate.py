"""collate: public checks, on fixed inputs (their expected answers ship in the student bundle)."""

import pytest
import torch

from autograder import compare
from autograder.testing import expect, hint, raised, randn, swapped

STACK = "torch.stack adds a batch dim in front; torch.cat joins along an existing one"
HINTS = [
    hint("xs and ys are swapped: return (xs, ys), inputs first", when=swapped),
    hint(
        STACK + " (and cannot join 0-d targets)",
        when=raised("zero-dimensional", "cannot be concatenated"),
    ),
    hint(
        STACK,
        when=lambda a: (
            isinstance(a.got, (tuple, list))
            and isinstance(a.got[0], torch.Tensor)
            and a.got[0].dim() == a.expected[0].dim() - 1
        ),
    ),
    hint(
        "return a tuple (xs, ys) of two tensors",
        when=lambda a: not isinstance(a.got, (tuple, list)),
    ),
]


def expect_collated(student, reference, args, what):
    "collate of the samples zip(xs, ys) against the reference's (xs, ys)."
    expect(
        student.run("collate", *args),
        reference.run("collate", *args),
        what,
        args=args,
        compare_with=lambda e, g: compare.values(e, g, names={0: "xs", 1: "ys"}),
        hints=HINTS,
    )


@pytest.mark.points(1)
def test_stacks_pairs(student, reference):
    args = (list(randn(0, 5, 3)), list(torch.arange(5) * 3 % 5))
    expect_collated(student, reference, args, "collate([(x0, y0), ..., (x4, y4)]), x of shape (3,)")
