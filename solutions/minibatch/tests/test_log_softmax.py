"""log_softmax: public checks, on fixed inputs (their answers ship in the student bundle)."""

import pytest
from test_logsumexp import MAXTRICK  # noqa: I001  (the public files beside this one)
from test_softmax import KEEPDIM

from autograder.testing import close_to, expect, hint, nonfinite, raised, randn

HINTS = [
    hint(
        "sign: log-probabilities are ≤ 0; "
        "log_softmax(x) = x - logsumexp(x), not the other way round",
        when=close_to(lambda x: x.logsumexp(1, keepdim=True) - x),
    ),
    hint(KEEPDIM, when=raised("must match", "size of tensor")),
    hint(MAXTRICK, when=nonfinite),
]


@pytest.mark.points(1)
def test_small_batch(student, reference):
    x = randn(3, 4, 3, scale=2.0)
    expect(
        student.log_softmax(x),
        reference.log_softmax(x),
        "log_softmax(x) on a (4, 3) batch",
        args=(x,),
        call="log_softmax",
        hints=HINTS,
    )
