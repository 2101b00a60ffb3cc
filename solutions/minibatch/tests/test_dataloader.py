"""dataloader: public checks, on fixed inputs (their expected answers ship in the student
bundle)."""

import pytest
import torch

from autograder.testing import expect, hint, passes, raised, randn

SAME_BATCHES = passes("the DataLoader", "batches", key="batches")


def expect_loaded(student, reference, args, what, hints=()):
    "Iterate a DataLoader over a neutral dataset and batch list: its passes and batches."
    expect(
        student.run("dataloader", *args),
        reference.run("dataloader", *args),
        what,
        args=args,
        compare_with=SAME_BATCHES,
        hints=hints,
    )


@pytest.mark.points(1)
def test_yields_collated_batches(student, reference):
    args = (randn(0, 10, 2), torch.arange(10), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], 1, False)
    expect_loaded(
        student,
        reference,
        args,
        "list(DataLoader(ds, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], collate_fn=f))",
        [
            hint(
                "use the attributes stored on self (self.batchs, "
                "self.collate_fn), not names from the notebook",
                when=raised("not defined"),
            )
        ],
    )
