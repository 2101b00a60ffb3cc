"""The graded training run: the lesson's 784-50-1 regression network, trained in a fresh worker
with the student's Model (its forward and its hand-written backward) and plain SGD on the `.g`
it leaves; the worker sees only the training and validation file, and the returned weights are
judged here on the test split. Calibrated with bench/calibrate_backprop.py (numbers in the
README): the reference clears the threshold on 10 seeds with margin."""

import math

import pytest
from backprop_helpers import TRAINING, test_mse

from autograder.testing import File, ProbeError, fail, per_epoch

T = TRAINING
WHAT = (
    f"training the lesson's 784-50-1 network on MNIST with your Model ({T['epochs']} epochs, "
    f"bs={T['bs']}, lr={T['lr']}, SGD on the .g your backward() leaves)"
)


@pytest.mark.training
@pytest.mark.points(5)
def test_reaches_mse(student, reference, mnist, device, record):
    args = (File(mnist.train_valid), T["epochs"], T["bs"], T["lr"], T["n_train"])
    # a fresh worker: the result is visible, so its process must not have seen hidden inputs
    got = student.run("train_model", *args, device, timeout=T["timeout"], fresh=True)
    if isinstance(got, ProbeError):
        if got.kind == "NotImplementedError":
            fail(WHAT, "part of your Model or its layers is not implemented yet")
        fail(WHAT, got.message[:1500])
    if not isinstance(got, dict):
        fail(WHAT, "the run returned no weights")
    try:
        mse = test_mse(got.get("state"), mnist.x_test, mnist.y_test)
    except ValueError as e:
        fail(WHAT, f"the trained weights could not be used ({e})")
    ours = reference.run("train_model", *args, "cpu", keep=True)  # None in the student bundle
    limit = T["epochs"] + 1
    record(
        "training",
        {
            "title": "training run",
            "metric": "test MSE",
            "value": round(mse, 4) if math.isfinite(mse) else None,
            "threshold": T["threshold"],
            "higher_is_better": False,
            "curve": ["training loss (your mse)", "validation MSE"],
            "history": per_epoch(got.get("history"), limit),
            "reference": per_epoch(ours.get("history"), limit) if isinstance(ours, dict) else [],
        },
    )
    if not mse <= T["threshold"]:
        shown = f"{mse:.4f}" if math.isfinite(mse) else "not finite (the weights blew up)"
        fail(
            WHAT,
            f"the test MSE is {shown}, above the threshold {T['threshold']:g}; predicting the "
            "mean digit gives about 8.3. Check lin_grad and each layer's backward() against "
            "the public tests: a gradient that is wrong but the right shape trains badly",
        )
