"""layers: public tests of Relu, Lin and Mse. Each layer is called, its output's .g set (Mse
starts the chain itself), backward() run, and every gradient compared with torch's autograd.
The layers run with our lin, relu, mse and lin_grad, should they call them."""

import pytest
from backprop_helpers import LIN_GRAD_HINTS, MASK, MSE_GRAD_HINTS, digits, parts, right  # noqa: I001

from autograder.testing import expect, hint, randn

RELU_ARGS = (randn(30, 4, 3), randn(31, 4, 3))  # x, out.g
LIN_ARGS = (randn(32, 4, 3), randn(33, 3, 2), randn(34, 2), randn(35, 4, 2))  # x, w, b, out.g
MSE_ARGS = (randn(36, 5, 1, scale=3.0) + 4.0, digits(37, 5))  # pred, targ
RELU_HINTS = [hint(MASK, when=lambda a: right(a, "out"))]
LAYERS = {  # the probe, its autograd twin, the parts compared, the hints
    "Relu": ("relu_layer", "autograd_relu", ("out", "inp.g"), RELU_HINTS),
    "Lin": ("lin_layer", "autograd_lin", ("out", "inp.g", "w.g", "b.g"), LIN_GRAD_HINTS),
    "Mse": ("mse_layer", "autograd_mse", ("loss", "inp.g"), MSE_GRAD_HINTS),
}


def check(student, reference, layer, args, what):
    probe, twin, keys, hints = LAYERS[layer]
    expect(
        student.run(probe, *args),
        reference.run(twin, *args),
        what,
        args=args,
        compare_with=parts(*keys, who=f"{layer}.backward()"),
        hints=hints,
    )


@pytest.mark.points(1)
def test_relu_layer(student, reference):
    what = "Relu(): out = layer(x) with x (4, 3), then out.g given and layer.backward()"
    check(student, reference, "Relu", RELU_ARGS, what)


@pytest.mark.points(1)
def test_lin_layer(student, reference):
    what = "Lin(w, b): out = layer(x) with x (4, 3), w (3, 2), then out.g and layer.backward()"
    check(student, reference, "Lin", LIN_ARGS, what)


@pytest.mark.points(1)
def test_mse_layer(student, reference):
    what = "Mse(): loss = layer(pred, targ) with pred (5, 1), targ (5,), then layer.backward()"
    check(student, reference, "Mse", MSE_ARGS, what)
