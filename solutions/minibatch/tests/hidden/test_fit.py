"""fit: hidden checks: short last batches, the loss_func argument and several epochs (the model
and data come from the probe's RNG, drawn from the grading seed where the old runs were random)."""

import pytest
from test_fit import FIT_LAST, fit_part, modes, trained_right  # noqa: I001  (the public file)

from autograder.testing import always, expect, hint


def expect_fit(student, reference, args, what, key, hints):
    expect(
        student.run("fit", *args),
        reference.run("fit", *args),
        what,
        args=args,
        compare_with=fit_part(key),
        hints=hints,
    )


@pytest.mark.points(1)
def test_weights_short_batches(student, reference):
    expect_fit(
        student,
        reference,
        (1, 20, 13, 5, 0.05, 1.0),
        "fit(1, ...) with 13 validation rows in batches of 5",
        "result",
        [
            hint(
                "average over samples, not batches: weight "
                "each batch's loss and accuracy by its size (len(xb)), then divide "
                "by the total count; " + FIT_LAST,
                when=trained_right,
            )
        ],
    )


@pytest.mark.points(1)
def test_uses_loss_func(student, reference):
    expect_fit(
        student,
        reference,
        (2, 16, 8, 4, 0.1, 3.0),
        "fit with a loss_func of 3 × cross-entropy",
        "result",
        [
            hint(
                "use the loss_func argument, for training and validation",
                when=lambda a: (
                    abs(a.got["result"][0] * 3 - a.expected["result"][0])
                    < 0.05 * a.expected["result"][0]
                ),
            ),
            hint(FIT_LAST, when=trained_right),
        ],
    )


@pytest.mark.points(1)
def test_several_epochs(student, reference):
    expect_fit(
        student,
        reference,
        (3, 12, 6, 4, 0.2, 1.0),
        "weights after fit(3, ...)",
        "params",
        [
            hint(
                "train for exactly `epochs` passes; each batch: backward, step, zero_grad",
                when=always,
            )
        ],
    )


@pytest.mark.points(1)
def test_modes_when_model_starts_in_eval(student, reference):
    args = (3, 10, 7, 4, 0.1, True)
    expect(
        student.run("fit_modes", *args),
        reference.run("fit_modes", *args),
        "fit(3, ...) on a model left in eval mode (as after an earlier fit), 3 training and "
        "2 validation batches, the last ones short",
        args=args,
        compare_with=modes,
    )
