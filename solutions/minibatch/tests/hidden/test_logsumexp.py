"""logsumexp: hidden checks, on random shapes (the grading seed), extreme values, gradients."""

import pytest
import torch
from test_logsumexp import HINTS  # noqa: I001  (the public file, beside this folder)

from autograder.testing import expect, expect_each, randn, random_shapes


def rand_inputs(seed, scale=3.0):
    "Random (N, C) batches, float32 and float64, including a single row and a single column."
    return [
        (randn(seed + i, *s, scale=scale, dtype=torch.float64 if i % 2 else torch.float32),)
        for i, s in enumerate(random_shapes(seed))
    ]


def with_neg_inf(seed):
    "A (6, 5) batch with a few -inf entries (masked logits), never a whole row."
    x = randn(seed, 6, 5, scale=3.0)
    x[0, 1] = x[3, 0] = x[3, 4] = float("-inf")
    return x


@pytest.mark.points(1)
def test_random_shapes(student, reference, seed, grading_seed):
    expect_each(
        student,
        reference,
        "logsumexp",
        rand_inputs(seed),
        "logsumexp(x) on random (N, C) batches",
        hints=HINTS,
        seed=grading_seed,
    )


@pytest.mark.points(1)
def test_gradient(student, reference, seed):
    args = ("logsumexp", randn(seed, 5, 4, scale=2.0), randn(seed + 1, 5, 1))
    expect(
        student.run("call_grad", *args),
        reference.run("call_grad", *args),
        "the gradient of logsumexp(x) (autograd through it)",
    )


@pytest.mark.points(1)
def test_large_values(student, reference):
    x = randn(11, 5, 4, scale=1e4)
    expect(
        student.logsumexp(x),
        reference.logsumexp(x),
        "logsumexp(x) with |x| ≈ 1e4",
        args=(x,),
        call="logsumexp",
        hints=HINTS,
        atol=1e-2,
    )


@pytest.mark.points(1)
def test_neg_inf_entries(student, reference):
    x = with_neg_inf(12)
    expect(
        student.logsumexp(x),
        reference.logsumexp(x),
        "logsumexp(x) with some -inf entries",
        args=(x,),
        call="logsumexp",
        hints=HINTS,
    )
