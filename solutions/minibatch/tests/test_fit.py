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


def fit_part(key):
    "Compare the (loss, accuracy) fit returned, or the weights after training."
    what = "(loss, accuracy) returned" if key == "result" else "weights after training"

    def cmp(exp, got):
        p = compare.values(exp[key], got[key], atol=1e-4, rtol=1e-3)
        return p and f"{what}: {p}"

    return cmp


@pytest.mark.points(1)
def test_returns_last_loss_and_accuracy(student, reference):
    expect(
        student.run("fit", *BASIC),
        reference.run("fit", *BASIC),
        "fit(2, model, loss_func, opt, "
        "train_dl, valid_dl) on 24 training and 12 validation rows, batches of 4",
        args=BASIC,
        compare_with=fit_part("result"),
        hints=[hint(FIT_LAST, when=always)],
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
