"""lin: hidden tests, on random shapes and dtypes drawn from the grading seed."""

import pytest
from backprop_helpers import dtype_of, mlp_shapes  # noqa: I001  (the public folder's helpers)
from test_lin import HINTS

from autograder.testing import expect_each, randn


def inputs(seed):
    "(x, w, b) for each shape: a batch of one, one output, one input, a wide layer, random."
    out = []
    for i, (n, n_in, n_out) in enumerate(mlp_shapes(seed)):
        shapes, s = [(n, n_in), (n_in, n_out), (n_out,)], seed + 3 * i
        out.append(tuple(randn(s + k, *shape, dtype=dtype_of(i)) for k, shape in enumerate(shapes)))
    return out


@pytest.mark.points(1)
def test_random_shapes(student, reference, seed, grading_seed):
    what = "lin(x, w, b) on random shapes (a batch of one, one output, one input, wide)"
    expect_each(student, reference, "lin", inputs(seed), what, hints=HINTS, seed=grading_seed)
