"""dataloader: hidden checks: the batch sampler's order over two passes (random inputs from the
grading seed), and the collate_fn it was given."""

import pytest
import torch
from test_dataloader import expect_loaded  # noqa: I001  (the public file, beside this folder)

from autograder.testing import hint, raised, randn


def every_batch_collated(a) -> bool:
    "collate_fn made each batch the loader yielded: which batches, or how many passes, are off."
    return len(a.got["collate_calls"]) == sum(len(p) for p in a.got["batches"])


def not_a_name_error(a) -> bool:
    "Anything but a name the cell does not define (that has a hint of its own)."
    return not raised("not defined")(a)


@pytest.mark.points(1)
def test_honours_batch_sampler(student, reference, seed):
    args = (
        randn(seed, 10, 3),
        torch.arange(10) % 4,
        [[5, 1], [0, 2, 3], [9], [4, 8, 7, 6]],
        2,
        False,
    )
    expect_loaded(
        student,
        reference,
        args,
        "two passes of DataLoader(ds, [[5, 1], [0, 2, 3], [9], [4, 8, 7, 6]], collate_fn=f)",
        [
            hint(
                "iterate self.batchs afresh in "
                "__iter__ and index the dataset with each batch's indices",
                when=every_batch_collated,
            )
        ],
    )


@pytest.mark.points(1)
def test_uses_collate_fn(student, reference):
    args = (randn(1, 6, 2), torch.arange(6), [[0, 1, 2], [3, 4, 5]], 1, True)
    expect_loaded(
        student,
        reference,
        args,
        "DataLoader(..., collate_fn=f) with a custom f",
        [hint("call self.collate_fn, the one you were given", when=not_a_name_error)],
    )
