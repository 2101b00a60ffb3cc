"""softmax: public checks, on fixed inputs (their expected answers ship in the student bundle)."""

import pytest

from autograder.testing import close_to, expect, hint, raised, randn

KEEPDIM = "keep the reduced dim so the result broadcasts: sum(dim=1, keepdim=True) or [:, None]"


def columns(when):
    "when, on a batch of more than one column: on one, dim 0 and the whole batch are the same sum."
    return lambda a: a.args[0].shape[1] > 1 and when(a)


HINTS = [
    hint(
        "you normalised over dim 0 (the batch); use dim=1",
        when=columns(close_to(lambda x: x.exp() / x.exp().sum(0))),
    ),
    hint(
        "you divided by the sum of the whole batch; each row needs its own sum over dim=1",
        when=columns(close_to(lambda x: x.exp() / x.exp().sum())),
    ),
    hint(KEEPDIM, when=raised("must match", "size of tensor")),
]


@pytest.mark.points(1)
def test_small_batch(student, reference):
    x = randn(1, 4, 3, scale=2.0)
    expect(
        student.softmax(x),
        reference.softmax(x),
        "softmax(x) on a (4, 3) batch",
        args=(x,),
        call="softmax",
        hints=HINTS,
    )
