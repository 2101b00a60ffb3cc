"""batch_sampler: public checks, on fixed inputs (their expected answers ship in the student
bundle)."""

import pytest

from autograder.testing import count, expect, hint


def same_batches(exp, got):
    "How many batches each pass yielded, then each batch's indices, in order."
    p = count(got, len(exp), "the BatchSampler was iterated {} times")
    for k, (ep, gp) in enumerate(zip(exp, got)):
        lead = f"pass {k + 1}: " if len(exp) > 1 else ""
        p = p or count(gp, len(ep), lead + "the BatchSampler yielded {} batches")
    if p:
        return p
    for k, (ep, gp) in enumerate(zip(exp, got)):
        for b, (eb, gb) in enumerate(zip(ep, gp)):
            name = f"pass {k + 1}, batch {b + 1}" if len(exp) > 1 else f"batch {b + 1}"
            if len(gb) != len(eb):
                return f"{name} holds {len(gb)} indices {gb}, expected {len(eb)}: {eb}"
            if gb != eb:
                return f"{name} is {gb}, expected {eb}"
    return None


def too_big(a):
    "A batch holds more indices than the expected one."
    return any(len(g) > len(e) for g, e in zip(a.got[0], a.expected[0]))


SIZE = hint("each batch holds self.bs indices (only the last may hold fewer)", when=too_big)


def one_batch_short(a):
    "The first pass has one batch fewer than expected, and none too big (that is SIZE's mistake)."
    return isinstance(a.got, list) and len(a.got[0]) == len(a.expected[0]) - 1 and not too_big(a)


def expect_batches(student, reference, args, what, hints=()):
    "Iterate a BatchSampler over a neutral sampler: the passes, their batches, their indices."
    expect(
        student.run("batch_sampler", *args),
        reference.run("batch_sampler", *args),
        what,
        args=args,
        compare_with=same_batches,
        hints=[*hints, SIZE],
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
