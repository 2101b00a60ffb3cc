"""nll: public checks, on fixed inputs (their expected answers ship in the student bundle)."""

import pytest
import torch

from autograder.testing import close_to, expect, gen, hint, randn

HINTS = [
    hint(
        "you summed; nll is the mean over the batch",
        when=close_to(lambda p, y: -p[range(len(y)), y].sum()),
    ),
    hint(
        "sign: nll is minus the mean log-probability",
        when=close_to(lambda p, y: p[range(len(y)), y].mean()),
    ),
    hint(
        "pred[:, y] picks whole columns; index rows and targets together: pred[range(len(y)), y]",
        when=close_to(lambda p, y: -p[:, y].mean()),
    ),
]


def logprobs(seed, n=5, c=4):
    "A batch of log-probabilities (each row's exp sums to 1) and targets."
    x = randn(seed, n, c)
    return x - x.logsumexp(dim=1, keepdim=True), torch.randint(0, c, (n,), generator=gen(seed + 1))


@pytest.mark.points(1)
def test_small_batch(student, reference):
    pred, y = logprobs(4)
    expect(
        student.nll(pred, y),
        reference.nll(pred, y),
        "nll(pred, y) with 5 rows of log-probabilities",
        args=(pred, y),
        call="nll",
        hints=HINTS,
    )
