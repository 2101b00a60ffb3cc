"""nll: hidden checks, on random batches (the grading seed) and its gradient."""

import pytest
import torch
from test_nll import HINTS  # noqa: I001  (the public file, beside this folder)

from autograder.testing import expect, expect_each, gen, randn, random_shapes


def rand_logprobs(seed):
    "Random batches of log-probabilities and targets, including one row and one class."
    out = []
    for i, (n, c) in enumerate(random_shapes(seed)):
        x = randn(seed + i, n, c)
        out.append((x - x.logsumexp(1, keepdim=True), torch.randint(0, c, (n,), generator=gen(i))))
    return out


@pytest.mark.points(1)
def test_random_shapes(student, reference, seed, grading_seed):
    expect_each(
        student,
        reference,
        "nll",
        rand_logprobs(seed),
        "nll(pred, y) on random batches",
        hints=HINTS,
        seed=grading_seed,
    )


@pytest.mark.points(1)
def test_gradient(student, reference, seed):
    pred, y = rand_logprobs(seed)[2]
    args = ("nll", pred, torch.tensor(1.7), y)
    expect(
        student.run("call_grad", *args),
        reference.run("call_grad", *args),
        "the gradient of nll(pred, y) with respect to pred",
    )
