"""Shared fixtures: grading costs a worker process, so reports are graded once per session."""

from __future__ import annotations

import pytest

from autograder.assignment import get
from autograder.grade import Options, grade_notebook

SEED = 1234


@pytest.fixture(scope="session")
def solution_report():
    "The instructor solution, every check and the MNIST run."
    return grade_notebook(get("minibatch").solution, options=Options(seed=SEED))


@pytest.fixture(scope="session")
def stub_report():
    "The released student notebook, untouched."
    return grade_notebook(get("minibatch").release, options=Options(seed=SEED))


def grade(path, training=False, **kw):
    "Grade with hidden checks at the test seed."
    return grade_notebook(path, hidden=True, training=training, options=Options(seed=SEED, **kw))
