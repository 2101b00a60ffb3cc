"""The graded MNIST run: the student's pipeline trains in the worker; we judge the weights here.

The worker sees only the train/valid file; the test split stays in this trusted process, which
rebuilds the lesson's MLP from the returned weights and measures test accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

SHAPES = {"0.weight": (50, 784), "0.bias": (50,), "2.weight": (10, 50), "2.bias": (10,)}


@dataclass(frozen=True)
class TrainingConfig:
    "Chosen with bench/calibrate_training.py: the reference clears the threshold on 10 seeds."

    epochs: int = 2
    bs: int = 128
    lr: float = 0.5
    threshold: float = 0.93
    n_train: int = 50_000
    timeout: float = 300.0
    points: float = 5.0


def model_from(state: dict):
    "Rebuild the lesson's MLP from returned weights, refusing anything of the wrong shape."
    import torch

    from autograder import compare
    from autograder.protocol import Opaque

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


def test_accuracy(state: dict, x_test, y_test) -> float:
    "Accuracy of the returned weights on the held-out test split; nan weights score 0."
    import torch

    with torch.no_grad():
        preds = model_from(state)(x_test).argmax(dim=1)
    return float((preds == y_test).float().mean())
