"""sampler: hidden checks: the default, a new order on every pass (the probe's RNG comes from the
grading seed), and a dataset of one item."""

import pytest
from test_sampler import in_order  # noqa: I001  (the public file, beside this folder)

from autograder.testing import count, expect, hint


def covers_all(got, n, times=None):
    p = count(got, times, "the Sampler was iterated {} times") if times is not None else None
    if p:
        return p
    for k, p in enumerate(got):
        if sorted(p) != list(range(n)):
            return f"pass {k + 1} should yield every index 0..{n - 1} exactly once"
    return None


def shuffled(a) -> bool:
    "The pass yielded every index once, but not in order: it shuffled."
    return sorted(a.got[0]) == a.expected[0] != a.got[0]


def sampler_reshuffles(got, times):
    p = count(got, times, "the Sampler was iterated {} times")
    if p:
        return p
    if len({tuple(p) for p in got}) < len(got) - 1:
        return (
            "the order repeats from pass to pass: shuffle inside __iter__, so each pass "
            "(each epoch) gets a new order, not once in __init__"
        )
    if any(p == sorted(p) for p in got):
        return "a pass came out in order although shuffle=True"
    return None


@pytest.mark.points(1)
def test_default_is_in_order(student, reference):
    args = (7, False, 1, False)
    expect(
        student.run("sampler", *args),
        reference.run("sampler", *args),
        "list(Sampler(ds)) with no shuffle argument",
        args=args,
        compare_with=in_order,
        hints=[hint("shuffle defaults to False", when=shuffled)],
    )


@pytest.mark.points(1)
def test_reshuffles_every_pass(student, reference):
    args = (40, True, 4)
    expect(
        student.run("sampler", *args),
        reference.run("sampler", *args),
        "four passes of Sampler(ds, shuffle=True), len(ds) == 40",
        args=args,
        compare_with=lambda e, g: covers_all(g, 40, args[2]) or sampler_reshuffles(g, args[2]),
    )


@pytest.mark.points(1)
def test_single_item(student, reference):
    args = (1, True, 2)
    expect(
        student.run("sampler", *args),
        reference.run("sampler", *args),
        "Sampler over a dataset of one item",
        args=args,
        compare_with=in_order,
    )
