"""The graded MNIST run's settings and measure, read from the test that grades it
(solutions/minibatch/tests/test_mnist_training.py), for the bench scripts."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

_TEST = Path(__file__).resolve().parent.parent / "solutions/minibatch/tests/test_mnist_training.py"
_spec = importlib.util.spec_from_file_location("_mnist_run_test", _TEST)
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)

cfg = SimpleNamespace(
    epochs=_mod.EPOCHS, bs=_mod.BS, lr=_mod.LR, n_train=_mod.N_TRAIN, threshold=_mod.THRESHOLD
)
test_accuracy = _mod.test_accuracy
