"""optimizer: hidden checks, several steps (the grading seed), zero_grad, the lesson's loop."""

import pytest
import torch
from test_optimizer import HINTS, check_steps  # noqa: I001  (the public file)

from autograder import compare
from autograder.testing import count, expect, randn

LAYERS = {0: "layer 1's weight", 1: "layer 1's bias", 2: "layer 2's weight", 3: "layer 2's bias"}


def several(seed):
    "optimizer_steps args: two parameters, four steps of given gradients, lr=0.03."
    return (
        [randn(seed, 3, 4), randn(seed + 1, 4)],
        [[randn(seed + 10 * k, 3, 4), randn(seed + 10 * k + 1, 4)] for k in range(1, 5)],
        0.03,
        False,
    )


def zero_grad_clears(args):
    def cmp(exp, got):
        after = got["grads_after_zero"]
        p = count(after, len(args[1]), "zero_grad() was seen after {} steps")
        for k, grads in enumerate(after if not p else ()):
            p = p or count(grads, len(args[0]), f"after step {k + 1}, {{}} gradients were reported")
        if p:
            return p
        for grads in after:
            if any(
                g is not None and (not isinstance(g, torch.Tensor) or g.abs().sum() > 0)
                for g in grads
            ):
                return "after zero_grad() every p.grad should be zero (or None)"
        return None

    return cmp


def leaves(args):
    def cmp(exp, got):
        p = count(got["leaves"], len(args[0]), "{} parameters were reported")
        if p:
            return p
        if got["leaves"] != [True] * len(got["leaves"]):
            return (
                "after step() the parameters must still be leaf tensors that require grad: "
                "update them in place (p -= ...) under torch.no_grad()"
            )
        return None

    return cmp


@pytest.mark.points(1)
def test_several_steps(student, reference, seed):
    check_steps(student, reference, several(seed), "four steps of Optimizer(params, lr=0.03)")


@pytest.mark.points(1)
def test_large_lr(student, reference):
    s = 15
    args = ([randn(s, 2, 2)], [[randn(s + 1, 2, 2)], [randn(s + 2, 2, 2)]], 1.7, False)
    check_steps(student, reference, args, "two steps of Optimizer(params, lr=1.7)")


@pytest.mark.points(1)
def test_zero_grad_clears(student, reference, seed):
    args = several(seed)
    check_steps(
        student, reference, args, "p.grad after opt.zero_grad()", zero_grad_clears(args), hints=()
    )


@pytest.mark.points(1)
def test_params_stay_trainable(student, reference, seed):
    args = several(seed)
    check_steps(student, reference, args, "the parameters after opt.step()", leaves(args), hints=())


@pytest.mark.points(1)
def test_lesson_training_loop(student, reference):
    args = (6, 0.2)
    expect(
        student.run("optimizer_training", *args),
        reference.run("optimizer_training", *args),
        "the weights after six steps of backward(), opt.step(), opt.zero_grad() on a "
        "Linear(6, 5), ReLU, Linear(5, 3) model",
        args=args,
        compare_with=lambda e, g: compare.values(e, g, names=LAYERS),
        hints=HINTS,
    )
