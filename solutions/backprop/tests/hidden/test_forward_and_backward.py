"""forward_and_backward: hidden tests on random networks (a batch of one, one hidden unit, one
input, a wide one), float32 and float64, the loss and every gradient against autograd."""

import pytest
from backprop_helpers import GRADS, dtype_of, mlp_args, mlp_shapes  # noqa: I001  (the public helpers)
from test_forward_and_backward import check

DIMS = "a batch of {}, {} inputs and {} hidden units"


@pytest.mark.points(2)
def test_random_shapes(student, reference, seed):
    for i, (n, n_in, nh) in enumerate(mlp_shapes(seed)):
        dtype = dtype_of(i)
        args = mlp_args(seed + 10 * i, n, n_in, nh, dtype)
        what = f"forward_and_backward on {DIMS.format(n, n_in, nh)} ({dtype})"
        check(student, reference, ["loss", *GRADS], what, args)
