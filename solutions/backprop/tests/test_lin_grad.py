"""lin_grad: public tests. out = inp @ w + b with a given out.g; the student's lin_grad sets
inp.g, w.g and b.g, each compared with torch's autograd on the same tensors."""

import pytest
from backprop_helpers import LIN_GRAD_HINTS, parts  # noqa: I001  (the helpers beside this file)

from autograder.testing import expect, randn

ARGS = (randn(10, 4, 3), randn(11, 3, 2), randn(12, 2), randn(13, 4, 2))  # inp, w, b, out.g


def check(student, reference, key, what, args=ARGS):
    "The student's lin_grad against autograd's gradients of inp @ w + b for the upstream out.g."
    expect(
        student.run("lin_grad_from", *args),
        reference.run("autograd_lin", *args),
        what,
        args=args,
        compare_with=parts(*key, who="lin_grad"),
        hints=LIN_GRAD_HINTS,
    )


@pytest.mark.points(1)
def test_input_gradient(student, reference):
    check(student, reference, ["inp.g"], "inp.g after lin_grad(inp, out, w, b), inp (4, 3)")


@pytest.mark.points(1)
def test_weight_gradient(student, reference):
    check(student, reference, ["w.g"], "w.g after lin_grad(inp, out, w, b), w (3, 2)")


@pytest.mark.points(1)
def test_bias_gradient(student, reference):
    check(student, reference, ["b.g"], "b.g after lin_grad(inp, out, w, b), b (2,)")
