"""lin: public tests, on fixed inputs (their answers ship in the student bundle)."""

import pytest

from autograder.testing import close_to, expect, hint, raised, randn

NO_BIAS = "add the bias: lin(x, w, b) = x @ w + b, with b added to every row"
ORDER = (
    "x is (N, n_in) and w is (n_in, n_out), so x @ w, in that order, is already (N, n_out): "
    "no transpose is needed in the forward pass"
)
MATMUL = (
    "x @ w is a matrix product (each row of x times each column of w); x * w multiplies entry "
    "by entry"
)
HINTS = [
    hint(NO_BIAS, when=close_to(lambda x, w, b: x @ w)),
    hint(ORDER, when=close_to(lambda x, w, b: x @ w.t() + b)),
    hint(ORDER, when=raised("cannot be multiplied")),
    hint(MATMUL, when=raised("size of tensor", "must match")),
]


@pytest.mark.points(1)
def test_fixed_batch(student, reference):
    x, w, b = randn(0, 4, 3), randn(1, 3, 2), randn(2, 2)
    want = reference.lin(x, w, b)  # first: a self-check runs the student's code on these tensors
    expect(
        student.lin(x, w, b),
        want,
        "lin(x, w, b) with x (4, 3), w (3, 2) and b (2,)",
        args=(x, w, b),
        call="lin",
        hints=HINTS,
    )
