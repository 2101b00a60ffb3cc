"""batch_sampler: hidden checks: drop_last, the default, the sampler's order (a random order from
the grading seed) and a batch larger than the data."""

import pytest
import torch
from test_batch_sampler import expect_batches, one_batch_short, too_big  # noqa: I001  (the public file)

from autograder.testing import gen, hint


def first_pass_counts(a) -> bool:
    "The first pass yielded as many batches as expected: their indices, or a later pass, are off."
    return isinstance(a.got, list) and len(a.got[0]) == len(a.expected[0])


@pytest.mark.points(1)
def test_drop_last_drops_short_batch(student, reference):
    expect_batches(
        student,
        reference,
        (list(range(10)), 4, True, 1),
        "list(BatchSampler(range(10), 4, drop_last=True))",
        [
            hint(
                "drop_last=True must drop the short last batch",
                when=lambda a: len(a.got[0]) > len(a.expected[0]),
            )
        ],
    )


@pytest.mark.points(1)
def test_drop_last_when_even(student, reference):
    expect_batches(
        student,
        reference,
        (list(range(12)), 3, True, 1),
        "list(BatchSampler(range(12), 3, drop_last=True))",
        [
            hint(
                "drop_last only drops a batch that is short; here every batch is full",
                when=lambda a: len(a.got[0]) < len(a.expected[0]) and not too_big(a),
            )
        ],
    )


@pytest.mark.points(1)
def test_default_keeps_last(student, reference):
    expect_batches(
        student,
        reference,
        (list(range(7)), 3, False, 1, False),
        "list(BatchSampler(range(7), 3))",
        [hint("drop_last defaults to False", when=one_batch_short)],  # the short one dropped
    )


@pytest.mark.points(1)
def test_follows_sampler_order(student, reference, seed):
    expect_batches(
        student,
        reference,
        (torch.randperm(23, generator=gen(seed)).tolist(), 5, False, 2),
        "two passes of BatchSampler over a shuffled sampler of 23, bs=5",
        [
            hint(
                "take indices from iter(self.sampler) in the order it "
                "yields them, on every pass, with self.bs",
                when=first_pass_counts,
            )
        ],
    )


@pytest.mark.points(1)
def test_batch_larger_than_data(student, reference):
    expect_batches(
        student, reference, (list(range(5)), 8, False, 1), "list(BatchSampler(range(5), 8))"
    )
