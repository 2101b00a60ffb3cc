"""accuracy: public checks, on fixed inputs (their expected answers ship in the student bundle)."""

import pytest
import torch

from autograder.testing import close_to, expect, hint

HINTS = [
    hint(
        "compare, then turn booleans into floats before the mean: (...).float().mean()",
        when=lambda a: isinstance(a.got, torch.Tensor) and a.got.dtype in (torch.bool, torch.int64),
    ),
    hint(
        "that is a count; divide by the number of rows (use .mean())",
        when=close_to(lambda p, y: (p.argmax(1) == y).float().sum()),
    ),
    hint(
        "argmax over dim=1", when=close_to(lambda p, y: (p.argmax(0)[: len(y)] == y).float().mean())
    ),
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
