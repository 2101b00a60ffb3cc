"""sampler: public checks, on fixed inputs (their expected answers ship in the student bundle)."""

import pytest

from autograder.testing import count, expect, passes


def in_order(exp, got):
    "Every pass yields the same indices as the reference's, in the same order."
    p = passes("the Sampler", "indices", then=lambda e, g: None)(exp, got)
    for k, (e, g) in enumerate(zip(exp, got)):
        lead = f"pass {k + 1} " if len(exp) > 1 else "the Sampler "
        p = p or (None if g == e else f"{lead}yielded {short(g)}, expected {short(e)}")
    return p


def short(idxs: list) -> str:
    "A list of indices, cut after 12."
    return str(idxs) if len(idxs) <= 12 else f"[{', '.join(map(str, idxs[:12]))}, ...]"


def covers(args):
    "Each of the args' passes yields every index of the args' dataset exactly once."
    n, _, times = args[:3]

    def cmp(exp, got):
        p = count(got, times, "the Sampler was iterated {} times")
        if p:
            return p
        for k, p in enumerate(got):
            if sorted(p) != list(range(n)):
                missing = sorted(set(range(n)) - set(p))[:5]
                return (
                    f"pass {k + 1} should yield every index 0..{n - 1} exactly once; "
                    f"got {len(p)} indices, missing {missing}"
                )
        return None

    return cmp


@pytest.mark.points(1)
def test_in_order_without_shuffle(student, reference):
    args = (10, False, 2)
    expect(
        student.run("sampler", *args),
        reference.run("sampler", *args),
        "list(Sampler(ds, shuffle=False)) twice, len(ds) == 10",
        args=args,
        compare_with=in_order,
    )


@pytest.mark.points(1)
def test_shuffle_covers_every_index(student, reference):
    args = (50, True, 3)
    expect(
        student.run("sampler", *args),
        reference.run("sampler", *args),
        "three passes of Sampler(ds, shuffle=True), len(ds) == 50",
        args=args,
        compare_with=covers(args),
    )
