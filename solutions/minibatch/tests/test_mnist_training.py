"""The graded MNIST run: the student's whole pipeline (Dataset, Sampler, BatchSampler, collate,
DataLoader, Optimizer, fit) trains the lesson's MLP in a fresh worker, which sees only the
training and validation file; the test split stays here, where the returned weights are judged.

Calibrated with bench/calibrate_training.py: the reference clears the threshold on 10 seeds."""

import pytest
import torch

from autograder import compare
from autograder.protocol import Opaque
from autograder.testing import File, ProbeError, fail, per_epoch

EPOCHS, BS, LR, N_TRAIN = 2, 128, 0.5, 50_000
THRESHOLD = 0.93
TIMEOUT = 300.0
SHAPES = {"0.weight": (50, 784), "0.bias": (50,), "2.weight": (10, 50), "2.bias": (10,)}
WHAT = f"training the lesson's MLP on MNIST with your pipeline ({EPOCHS} epochs, bs={BS}, lr={LR})"


def model_from(state) -> torch.nn.Module:
    "Rebuild the lesson's MLP from returned weights, refusing anything of the wrong shape."
    if not isinstance(state, dict):
        raise ValueError(f"expected the model's weights, got {compare.describe(state)}")
    for k, shape in SHAPES.items():
        t = state.get(k)
        if isinstance(t, Opaque) or not isinstance(t, torch.Tensor):
            raise ValueError(f"weight {k!r} missing or not a tensor")
        if tuple(t.shape) != shape or not t.dtype.is_floating_point:
            raise ValueError(f"weight {k!r} has shape {tuple(t.shape)}, expected {shape}")
    model = torch.nn.Sequential(torch.nn.Linear(784, 50), torch.nn.ReLU(), torch.nn.Linear(50, 10))
    model.load_state_dict({k: state[k].float() for k in SHAPES})
    return model


def test_accuracy(state, x_test, y_test) -> float:
    "Accuracy of the returned weights on the held-out test split; nan weights score 0."
    with torch.no_grad():
        preds = model_from(state)(x_test).argmax(dim=1)
    return float((preds == y_test).float().mean())


test_accuracy.__test__ = False  # a helper, not a test


def pipeline_counts(counts) -> str:
    "What is wrong with the work the pipeline reported doing, or '' (checked before accuracy)."
    if not isinstance(counts, dict):
        return "the run did not report what the pipeline did"
    full, whole = -(-N_TRAIN // BS), N_TRAIN // BS  # with the short last batch, or without
    lo, hi = EPOCHS * whole, EPOCHS * full
    want = f"{lo}" if lo == hi else f"{lo} to {hi}"
    n = lambda k: counts.get(k) if type(counts.get(k)) is int else -1  # noqa: E731
    if counts.get("init_kept") is not True:
        return (
            "the model's weights changed when your Optimizer was created, before any step; "
            "Optimizer.__init__ should only keep the parameters and lr"
        )
    if not lo <= n("steps") <= hi:
        return (
            f"the optimizer took {n('steps')} steps, expected {want} ({EPOCHS} epochs of "
            f"{N_TRAIN} items in batches of {BS}): fit should call opt.step() once per "
            "training batch"
        )
    if n("batches") < lo:
        return (
            f"the training loader yielded {n('batches')} batches, expected {want}: "
            "fit should iterate train_dl once per epoch"
        )
    if n("items") < EPOCHS * BS * whole:
        return (
            f"the DataLoader fetched {n('items')} items from the Dataset, expected "
            f"{EPOCHS * N_TRAIN} ({EPOCHS} epochs of {N_TRAIN}): each batch "
            "should index the dataset (ds[i]) for its indices"
        )
    return ""


@pytest.mark.training
@pytest.mark.points(5)
def test_reaches_accuracy(student, reference, mnist, device, record):
    args = (File(mnist.train_valid), EPOCHS, BS, LR, N_TRAIN)
    # a fresh worker: this result is visible, so the process whose error text and numbers it
    # shows must never have seen a hidden check's inputs
    got = student.run("train_mnist", *args, device, timeout=TIMEOUT, fresh=True)
    if isinstance(got, ProbeError):
        if got.kind == "NotImplementedError":
            fail(WHAT, "part of your pipeline is not implemented yet")
        fail(WHAT, got.message[:1500])
    if not isinstance(got, dict):
        fail(WHAT, "the run returned no weights")
    wrong = pipeline_counts(got.get("counts"))
    if wrong:
        fail(WHAT, wrong)
    try:
        acc = test_accuracy(got["state"], mnist.x_test, mnist.y_test)
    except Exception as e:
        fail(WHAT, f"the trained weights could not be used ({e})")
    ours = reference.run("train_mnist", *args, "cpu", keep=True)  # None in the student bundle
    seconds = got.get("seconds")
    record(
        "training",
        {
            "title": "MNIST run",
            "metric": "test accuracy",
            "value": round(acc, 4),
            "threshold": THRESHOLD,
            "higher_is_better": True,
            "curve": ["validation loss", "validation accuracy"],
            "test_accuracy": round(acc, 4),
            "valid": per_epoch([got.get("valid")], 1),
            "history": per_epoch(got.get("history"), EPOCHS + 2),
            "reference": per_epoch(ours.get("history"), EPOCHS + 2)
            if isinstance(ours, dict)
            else [],
            "seconds": seconds if type(seconds) is float else None,
        },
    )
    if acc < THRESHOLD:
        fail(
            WHAT,
            f"test accuracy {acc:.4f} is below the threshold {THRESHOLD:.2f}; check that fit "
            "trains on every batch and that the optimizer, sampler and loader work together",
        )
