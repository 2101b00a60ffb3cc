"""lin_grad: hidden tests, on random shapes (a batch of one, one output, one input, wide) and
both float dtypes, every gradient compared with autograd's."""

import pytest
from backprop_helpers import dtype_of, mlp_shapes  # noqa: I001  (the public folder's helpers)
from test_lin_grad import check

from autograder.testing import randn


@pytest.mark.points(2)
def test_random_shapes(student, reference, seed):
    for i, (n, n_in, n_out) in enumerate(mlp_shapes(seed)):
        dtype = dtype_of(i)
        shapes = [(n, n_in), (n_in, n_out), (n_out,), (n, n_out)]
        args = tuple(randn(seed + 4 * i + k, *s, dtype=dtype) for k, s in enumerate(shapes))
        what = f"lin_grad with inp ({n}, {n_in}) and w ({n_in}, {n_out}), {dtype}"
        check(student, reference, ["inp.g", "w.g", "b.g"], what, args)
