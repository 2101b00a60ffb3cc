"""layers: hidden tests of Relu, Lin and Mse on random shapes and dtypes from the grading seed
(a batch of one, one output, one input, wide), every gradient against autograd."""

import pytest
from backprop_helpers import digits, dtype_of, mlp_shapes  # noqa: I001  (the public folder's helpers)
from test_layers import check

from autograder.testing import randn


def cases(seed):
    for i, (n, n_in, n_out) in enumerate(mlp_shapes(seed)):
        yield i, n, n_in, n_out, dtype_of(i)


@pytest.mark.points(1)
def test_relu_random_shapes(student, reference, seed):
    for i, n, n_in, _, dtype in cases(seed):
        args = (
            randn(seed + 2 * i, n, n_in, dtype=dtype),
            randn(seed + 2 * i + 1, n, n_in, dtype=dtype),
        )
        check(student, reference, "Relu", args, f"Relu() on x ({n}, {n_in}), {dtype}")


@pytest.mark.points(1)
def test_lin_random_shapes(student, reference, seed):
    for i, n, n_in, n_out, dtype in cases(seed):
        shapes = [(n, n_in), (n_in, n_out), (n_out,), (n, n_out)]
        args = tuple(randn(seed + 4 * i + k, *s, dtype=dtype) for k, s in enumerate(shapes))
        what = f"Lin(w, b) on x ({n}, {n_in}) with w ({n_in}, {n_out}), {dtype}"
        check(student, reference, "Lin", args, what)


@pytest.mark.points(1)
def test_mse_random_shapes(student, reference, seed):
    for i, n, _, _, dtype in cases(seed):
        args = (
            randn(seed + i, n, 1, scale=3.0, dtype=dtype) + 4.0,
            digits(seed + 50 + i, n, dtype),
        )
        check(student, reference, "Mse", args, f"Mse() on pred ({n}, 1), targ ({n},), {dtype}")
