"""batch_sampler: hidden checks: drop_last, the default, the sampler's order (a random order from
the grading seed) and a batch larger than the data."""

import pytest
import torch
from test_batch_sampler import expect_batches  # noqa: I001  (the public file, beside this folder)

from autograder.testing import always, gen, hint


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
                when=lambda a: len(a.got[0]) < len(a.expected[0]),
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
        [hint("drop_last defaults to False", when=always)],
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
                when=always,
            )
        ],
    )


@pytest.mark.points(1)
def test_batch_larger_than_data(student, reference):
    expect_batches(
        student, reference, (list(range(5)), 8, False, 1), "list(BatchSampler(range(5), 8))"
    )
