"""model: public tests of Model(w1, b1, w2, b2) on a fixed small network, with our Lin, Relu and
Mse as its layers (each exercise is graded on its own): what it builds, the loss model(x, targ)
returns, and every .g model.backward() leaves, against torch's autograd."""

import pytest
from backprop_helpers import GRADS, mlp_args, parts  # noqa: I001  (the helpers beside this file)

from autograder.testing import always, expect, hint, raised

ARGS = mlp_args(40, 6, 5, 4)  # inp (6, 5), targ (6,), w1 (5, 4), b1 (4,), w2 (4, 1), b2 (1,)
REVERSED = (
    "backward runs the chain from the loss back to the input: self.loss.backward() first, then "
    "each layer's backward() in reversed(self.layers), so every layer finds its output's .g set"
)
BUILD = (
    "Model.__init__ builds self.layers = [Lin(w1, b1), Relu(), Lin(w2, b2)], in the order the "
    "data goes through them, and self.loss = Mse()"
)
RETURN = "model(x, targ) returns the loss: return self.loss(x, targ) after the layers"
HINTS = [
    hint(REVERSED, when=raised("no .g on its output", "no attribute 'g'")),
    hint(RETURN, when=lambda a: a.got.get("loss", 0) is None),
]


def structure(exp, got):
    "The classes Model.__init__ put in self.layers and self.loss."
    for key, what in (("layers", "the classes in model.layers"), ("loss_fn", "model.loss")):
        g = got.get(key) if isinstance(got, dict) else None
        if not isinstance(g, dict):
            return "the answer had an unexpected form"
        if "error" in g:
            return f"{what}: reading it raised {g['error']}"
        if g.get("value") != exp[key]["value"]:
            return f"{what} should be {exp[key]['value']}, got {g.get('value')}"
    return None


def check(student, reference, compare_with, what, args=ARGS, expected="autograd_mlp"):
    expect(
        student.run("model_run", *args),
        reference.run(expected, *args),
        what,
        args=args[:6],
        compare_with=compare_with,
        hints=HINTS,
    )


@pytest.mark.points(1)
def test_structure(student, reference):
    weights = ARGS[2:]
    expect(
        student.run("model_structure", *weights),
        reference.run("model_structure", *weights),
        "Model(w1, b1, w2, b2): its layers and its loss",
        compare_with=structure,
        hints=[hint(BUILD, when=always)],
    )


@pytest.mark.points(1)
def test_loss(student, reference):
    what = "the loss model(x, targ) returns, x (6, 5)"
    check(student, reference, parts("loss", who="Model"), what, expected="model_run")


@pytest.mark.points(2)
def test_gradients(student, reference):
    what = "inp.g, w1.g, b1.g, w2.g and b2.g after model(x, targ) and model.backward()"
    check(student, reference, parts(*GRADS, who="model.backward()"), what)
