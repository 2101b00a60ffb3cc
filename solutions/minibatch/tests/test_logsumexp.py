"""logsumexp: public checks, on fixed inputs (their expected answers ship in the student bundle)."""

import pytest
import torch
from test_softmax import KEEPDIM  # noqa: I001  (the public file beside this one)

from autograder.testing import close_to, expect, hint, nonfinite, raised, randn

MAXTRICK = "exp overflows for large inputs: subtract each row's max first (the logsumexp trick)"
HINTS = [
    hint(
        "logsumexp should return shape (N, 1), one value per row kept as a column: " + KEEPDIM,
        when=lambda a: isinstance(a.got, torch.Tensor) and a.got.shape == a.expected.shape[:1],
    ),
    hint(
        "you subtracted the max inside the exp but did not add it back outside the log",
        when=close_to(
            lambda x: (x - x.max(1, keepdim=True).values).exp().sum(1, keepdim=True).log()
        ),
    ),
    hint(MAXTRICK, when=nonfinite),
    hint(KEEPDIM, when=raised("must match", "size of tensor")),
]


@pytest.mark.points(1)
def test_small_batch(student, reference):
    x = randn(2, 4, 3, scale=2.0)
    expect(
        student.logsumexp(x),
        reference.logsumexp(x),
        "logsumexp(x) on a (4, 3) batch",
        args=(x,),
        call="logsumexp",
        hints=HINTS,
    )
