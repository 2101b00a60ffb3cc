"""batch_sampler: public checks, on fixed inputs (their expected answers ship in the student
bundle)."""

import pytest

from autograder.testing import expect, hint, passes

SAME_BATCHES = passes("the BatchSampler", "batches")


def one_batch_short(a):
    "The first pass has one batch fewer than expected."
    return isinstance(a.got, list) and len(a.got[0]) == len(a.expected[0]) - 1


def expect_batches(student, reference, args, what, hints=()):
    "Iterate a BatchSampler over a neutral sampler: the passes, their batches, their indices."
    expect(
        student.run("batch_sampler", *args),
        reference.run("batch_sampler", *args),
        what,
        args=args,
        compare_with=SAME_BATCHES,
        hints=hints,
    )


@pytest.mark.points(1)
def test_divides_evenly(student, reference):
    expect_batches(
        student,
        reference,
        (list(range(12)), 4, False, 1),
        "list(BatchSampler(range(12), 4))",
        [hint("the last full batch went missing: check your loop's end", when=one_batch_short)],
    )


@pytest.mark.points(1)
def test_keeps_short_last_batch(student, reference):
    expect_batches(
        student,
        reference,
        (list(range(10)), 4, False, 1),
        "list(BatchSampler(range(10), 4, drop_last=False))",
        [
            hint(
                "with drop_last=False the short last batch [8, 9] must be kept",
                when=one_batch_short,
            )
        ],
    )
