"""fit: public checks, on fixed inputs (their expected answers ship in the student bundle). The
probe builds the model and data from its own RNG seed, the same on both sides."""

import pytest

from autograder import compare
from autograder.testing import always, expect, hint

FIT_LAST = (
    "return the validation loss and accuracy of the last epoch, averaged over that "
    "epoch's samples: reset the totals at the start of each epoch's validation"
)
BASIC = (2, 24, 12, 4, 0.1, 1.0)  # epochs, training rows, validation rows, bs, lr, loss scale


NAMES = {
    "result": {0: "the loss fit returned", 1: "the accuracy fit returned"},
    "params": {0: "the model's weight after training", 1: "the model's bias after training"},
}


def fit_part(key):
    "Compare the (loss, accuracy) fit returned, or the weights after training."
    return lambda exp, got: compare.values(exp[key], got[key], 1e-4, 1e-3, names=NAMES[key])


def trained_right(a) -> bool:
    "The weights after training are right: what went wrong is what fit returned."
    return fit_part("params")(a.expected, a.got) is None


@pytest.mark.points(1)
def test_returns_last_loss_and_accuracy(student, reference):
    expect(
        student.run("fit", *BASIC),
        reference.run("fit", *BASIC),
        "fit(2, model, loss_func, opt, "
        "train_dl, valid_dl) on 24 training and 12 validation rows, batches of 4",
        args=BASIC,
        compare_with=fit_part("result"),
        hints=[hint(FIT_LAST, when=trained_right)],
    )


@pytest.mark.points(1)
def test_trains_the_model(student, reference):
    expect(
        student.run("fit", *BASIC),
        reference.run("fit", *BASIC),
        "the model's weights after fit(2, ...)",
        args=BASIC,
        compare_with=fit_part("params"),
        hints=[
            hint("each batch needs loss.backward(), opt.step() and opt.zero_grad()", when=always)
        ],
    )


EVAL = "fit ran the validation batches in training mode: call model.eval() before validating"
NO_GRAD = "fit validated with autograd on: wrap validation in torch.no_grad()"
TRAIN = "call model.train() at the start of each epoch"


def modes(exp, got):
    """How fit called the model: on every batch of both loaders, training in train mode with
    autograd on, validating in eval mode with autograd off (model.eval(), torch.no_grad())."""
    calls = got["calls"]
    for src, per_epoch, noun in zip(("train", "valid"), exp["batches"], ("training", "validation")):
        want, seen = (sum(c[0] == src for c in cs) for cs in (exp["calls"], calls))
        if seen < want:
            return (
                f"fit called the model on {seen} {noun} batches, expected {want} "
                f"({per_epoch} per epoch)"
            )
    validated = False
    for src, training, grad in calls:
        if src == "valid" and (training or grad):
            return EVAL if training else NO_GRAD
        if src == "train" and not training:
            why = "after validating" if validated else "(the model came in eval mode)"
            return f"fit trained in eval mode {why}: {TRAIN}"
        if src == "train" and not grad:
            return "fit trained with autograd off: keep torch.no_grad() for validation only"
        validated = validated or src == "valid"
    return None


MODES = (2, 8, 6, 4, 0.1)  # epochs, training rows, validation rows, bs, lr


@pytest.mark.points(1)
def test_train_and_eval_modes(student, reference):
    expect(
        student.run("fit_modes", *MODES),
        reference.run("fit_modes", *MODES),
        "fit(2, model, loss_func, opt, train_dl, valid_dl) on 2 training and 2 validation "
        "batches, with a model that records the mode it is called in",
        args=MODES,
        compare_with=modes,
    )
