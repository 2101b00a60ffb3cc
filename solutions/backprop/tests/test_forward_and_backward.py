"""forward_and_backward: public tests on a fixed small network. The loss is compared with the
reference's, every gradient with torch's autograd on the same inputs. The student's function
runs with our lin, relu, mse and lin_grad (each is graded on its own)."""

import pytest
from backprop_helpers import MLP_HINTS, mlp_args, parts  # noqa: I001  (the helpers beside this file)

from autograder.testing import expect

ARGS = mlp_args(20, 6, 5, 4)  # inp (6, 5), targ (6,), w1 (5, 4), b1 (4,), w2 (4, 1), b2 (1,)
WHO = "forward_and_backward"


def check(student, reference, keys, what, args=ARGS, expected="autograd_mlp"):
    "The student's answer against autograd's (or, for the loss, the reference's)."
    expect(
        student.run("forward_backward", *args),
        reference.run(expected, *args),
        what,
        args=args,
        compare_with=parts(*keys, who=WHO),
        hints=MLP_HINTS,
    )


@pytest.mark.points(1)
def test_loss(student, reference):
    what = "the loss forward_and_backward(inp, targ, w1, b1, w2, b2) returns, inp (6, 5)"
    check(student, reference, ["loss"], what, expected="forward_backward")


@pytest.mark.points(1)
def test_second_layer_gradients(student, reference):
    check(student, reference, ["w2.g", "b2.g"], "w2.g and b2.g after forward_and_backward")


@pytest.mark.points(1)
def test_first_layer_gradients(student, reference):
    check(student, reference, ["w1.g", "b1.g"], "w1.g and b1.g after forward_and_backward")


@pytest.mark.points(1)
def test_input_gradient(student, reference):
    check(student, reference, ["inp.g"], "inp.g after forward_and_backward")
