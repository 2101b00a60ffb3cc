"""model: hidden tests on random networks from the grading seed (a batch of one, one hidden
unit, one input, wide), float32 and float64, and a second batch through the same model."""

import pytest
from backprop_helpers import GRADS, dtype_of, mlp_args, mlp_shapes, parts  # noqa: I001  (public helpers)
from test_model import check

WHO = "model.backward()"


@pytest.mark.points(1)
def test_random_shapes(student, reference, seed):
    for i, (n, n_in, nh) in enumerate(mlp_shapes(seed)):
        dtype = dtype_of(i)
        args = mlp_args(seed + 10 * i, n, n_in, nh, dtype)
        what = f"Model on a batch of {n}, {n_in} inputs and {nh} hidden units ({dtype})"
        check(student, reference, parts("loss", *GRADS, who=WHO), what, args)


@pytest.mark.points(1)
def test_second_batch(student, reference, seed):
    args = (*mlp_args(seed, 9, 7, 5), 2)  # two batches through one model, x then x + 1
    what = "the loss and every .g after a second model(x + 1, targ) and model.backward()"
    check(student, reference, parts("loss", *GRADS, who=WHO), what, args)
