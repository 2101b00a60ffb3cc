"""relu: hidden tests, on batches of any shape and dtype, drawn by Hypothesis from the grading
seed."""

import pytest
import torch
from hypothesis import given
from test_relu import HINTS  # noqa: I001  (the public file, beside this folder)

from autograder.testing import expect, tensors


@pytest.mark.points(1)
@given(x=tensors(max_side=12, dtypes=(torch.float32, torch.float64)))
def test_random_shapes(student, reference, x):
    "Any (N, C) batch, drawn by Hypothesis from the grading seed; a failure shows the smallest."
    expect(
        student.relu(x),
        reference.relu(x),
        f"relu(x) on a random {tuple(x.shape)} {str(x.dtype).removeprefix('torch.')} batch",
        args=(x,),
        call="relu",
        hints=HINTS,
    )
