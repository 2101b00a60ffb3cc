"""optimizer: public checks, stepping the student's Optimizer with given gradients."""

import pytest
import torch

from autograder import compare
from autograder.testing import count, expect, hint, raised, randn

NO_GRAD = "updating a parameter in place needs autograd off: wrap step's loop in torch.no_grad()"


def equal(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def other_default_lr(a) -> bool:
    "No lr given, and the first step went down the gradient, at a rate other than 0.5."
    if a.args[2] is not None:
        return False
    p0, g, p1 = (
        torch.cat([t.flatten() for t in ts]) for ts in (a.args[0], a.args[1][0], a.got["params"][0])
    )
    rate = float((p0 - p1) @ g / (g @ g))
    return rate > 0 and abs(rate - 0.5) > 1e-3 and compare.values(p0 - rate * g, p1) is None


HINTS = [
    hint(NO_GRAD, when=raised("leaf Variable", "in-place operation")),
    hint(
        "the parameters did not change: update them in place (p -= lr * p.grad); "
        "rebinding p = p - ... changes only the loop variable",
        when=lambda a: isinstance(a.got, dict) and equal(a.got["params"][0], a.args[0]),
    ),
    hint(
        "p.grad is None before the first backward; step should use p.grad as set",
        when=raised("NoneType"),
    ),
    hint(
        "only the first step changed anything: params may be a generator (model.parameters() is "
        "one), which runs out after one pass; keep list(params)",
        when=lambda a: (
            len(a.got["params"]) > 1
            and equal(a.got["params"][1], a.got["params"][0])
            and not equal(a.expected["params"][1], a.expected["params"][0])
        ),
    ),
    hint("the default learning rate is 0.5", when=other_default_lr),
]


def opt_params(args):
    "Compare the parameters after each step; name a wrong sign or an ignored lr."

    def cmp(exp, got):
        p = count(got["params"], len(exp["params"]), "the Optimizer took {} steps")
        for k, (e, g) in enumerate(zip(exp["params"], got["params"])):
            names = {i: f"parameter {i + 1}" for i in range(len(e))}
            p = p or compare.values(e, g, path=f"after step {k + 1}", names=names)
        if p and args[2] is not None:
            lr = args[2]
            sgn = [[p0 + lr * g for p0, g in zip(args[0], args[1][0])]]
            if compare.values(sgn, got["params"][:1]) is None:
                return p + "; the update has the wrong sign: subtract lr * p.grad"
            fixed = [[p0 - 0.5 * g for p0, g in zip(args[0], args[1][0])]]
            if lr != 0.5 and compare.values(fixed, got["params"][:1]) is None:
                return p + f"; step used lr 0.5, not the lr={lr} it was given: use self.lr"
        return p

    return cmp


def check_steps(student, reference, args, what, compare_with=None, hints=HINTS):
    "Run optimizer_steps(params0, grads, lr, default_lr) on both sides and compare."
    expect(
        student.run("optimizer_steps", *args),
        reference.run("optimizer_steps", *args),
        what,
        args=args,
        compare_with=compare_with or opt_params(args),
        hints=hints,
    )


@pytest.mark.points(1)
def test_one_step(student, reference):
    s = 5
    args = ([randn(s, 3, 2), randn(s + 1, 2)], [[randn(s + 2, 3, 2), randn(s + 3, 2)]], 0.1, False)
    check_steps(student, reference, args, "Optimizer(params, lr=0.1).step() once")


@pytest.mark.points(1)
def test_default_lr(student, reference):
    s = 9
    args = ([randn(s, 4)], [[randn(s + 1, 4)], [randn(s + 2, 4)]], None, True)
    check_steps(student, reference, args, "Optimizer(params) (default lr) for two steps")
