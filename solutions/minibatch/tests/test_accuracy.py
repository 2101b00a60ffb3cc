"""accuracy: public checks, on fixed inputs (their expected answers ship in the student bundle)."""

import pytest
import torch

from autograder.testing import close_to, expect, hint, raised

HINTS = [
    # a bool tensor's .mean() raises "could not infer output dtype"; .sum() gives an int64
    hint(
        "compare, then turn booleans into floats before the mean: (...).float().mean()",
        when=lambda a: (
            (isinstance(a.got, torch.Tensor) and a.got.dtype in (torch.bool, torch.int64))
            or raised("could not infer output dtype")(a)
        ),
    ),
    hint(
        "that is a count; divide by the number of rows (use .mean())",
        when=close_to(lambda p, y: (p.argmax(1) == y).float().sum()),
    ),
    # on one row or one column, argmax over dim 0 gives what .max(dim=1).values == y gives
    hint(
        "argmax over dim=1",
        when=lambda a: (
            min(a.args[0].shape) > 1
            and close_to(lambda p, y: (p.argmax(0)[: len(y)] == y).float().mean())(a)
        ),
    ),
    hint("argmax over dim=1", when=raised("size of tensor")),  # C argmaxes against N targets
]


@pytest.mark.points(1)
def test_small_batch(student, reference):
    ypred = torch.tensor([[0.1, 2.0, 0.3], [1.5, 0.2, 0.1], [0.0, 0.1, 0.9], [0.3, 0.2, 0.1]])
    ytrue = torch.tensor([1, 0, 1, 2])
    expect(
        student.accuracy(ypred, ytrue),
        reference.accuracy(ypred, ytrue),
        "accuracy(ypred, ytrue) on 4 rows",
        args=(ypred, ytrue),
        call="accuracy",
        hints=HINTS,
    )
