"""fit: hidden checks: short last batches, the loss_func argument and several epochs (the model
and data come from the probe's RNG, drawn from the grading seed where the old runs were random)."""

import pytest
from test_fit import FIT_LAST  # noqa: I001  (the public file, beside this folder)

from autograder import compare
from autograder.testing import always, expect, hint


def expect_fit(student, reference, args, what, key, hints):
    expect(
        student.run("fit", *args),
        reference.run("fit", *args),
        what,
        args=args,
        compare_with=lambda e, g: compare.values(e[key], g[key], 1e-4, 1e-3),
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
                when=always,
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
            hint(FIT_LAST, when=always),
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
