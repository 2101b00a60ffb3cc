"""dataloader: public checks, on fixed inputs (their expected answers ship in the student
bundle)."""

import pytest
import torch

from autograder import compare
from autograder.testing import count, expect, hint, raised, randn


def batch_name(k: int, b: int, passes: int) -> str:
    "'batch 2', or 'pass 2, batch 1' when the loader was iterated more than once."
    return f"pass {k + 1}, batch {b + 1}" if passes > 1 else f"batch {b + 1}"


def same_batches(exp, got):
    """How many batches each pass yielded, then one call to collate_fn per batch, then what each
    batch holds: (xs, ys) as our collate_fn returned it."""
    e, g = exp["batches"], got["batches"]
    p = count(g, len(e), "the DataLoader was iterated {} times")
    for k, (ep, gp) in enumerate(zip(e, g)):
        lead = f"pass {k + 1}: " if len(e) > 1 else ""
        p = p or count(gp, len(ep), lead + "the DataLoader yielded {} batches")
    if p:
        return p
    want, calls = exp["collate_calls"], got["collate_calls"]
    if len(calls) != len(want):
        first = g[0][0] if g and g[0] else None  # what came back instead of collate_fn's batch
        shown = (
            f"; batch 1 was {compare.describe(first)}" if not calls and first is not None else ""
        )
        return (
            f"the DataLoader called collate_fn {len(calls)} times, expected {len(want)} "
            f"(once per batch, on that batch's samples){shown}"
        )
    for b, (n, m) in enumerate(zip(want, calls)):
        if n != m:
            return f"call {b + 1} to collate_fn got {m} samples, expected {n}"
    for k, (ep, gp) in enumerate(zip(e, g)):
        for b, (eb, gb) in enumerate(zip(ep, gp)):
            name = batch_name(k, b, len(e))
            if not isinstance(gb, (tuple, list)) or len(gb) != 2:
                return (
                    f"{name} should be what collate_fn returned, the pair (xs, ys); "
                    f"got {compare.describe(gb)}"
                )
            p = compare.values(eb, gb, path=name, names={0: "xs", 1: "ys"})
            if p:
                return p
    return None


def expect_loaded(student, reference, args, what, hints=()):
    "Iterate a DataLoader over a neutral dataset and batch list: its passes and batches."
    expect(
        student.run("dataloader", *args),
        reference.run("dataloader", *args),
        what,
        args=args,
        compare_with=same_batches,
        hints=hints,
    )


@pytest.mark.points(1)
def test_yields_collated_batches(student, reference):
    args = (randn(0, 10, 2), torch.arange(10), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], 1, False)
    expect_loaded(
        student,
        reference,
        args,
        "list(DataLoader(ds, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], collate_fn=f)), "
        "ds of 10 samples, f a collate function of ours",
        [
            hint(
                "use the attributes stored on self (self.batchs, "
                "self.collate_fn), not names from the notebook",
                when=raised("not defined"),
            ),
            hint(
                "for each batch of indices, call self.collate_fn on the list of those samples",
                when=lambda a: len(a.got["collate_calls"]) != len(a.expected["collate_calls"]),
            ),
        ],
    )
