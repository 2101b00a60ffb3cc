"""The data the graded training run's test needs, here in the trusted parent (shipped with the
public tests): `mnist.train_valid` is the only file the worker is shown; the test split
(`mnist.x_test`, `mnist.y_test`) never leaves this process."""

import pytest

from autograder import data


@pytest.fixture
def mnist(data_path):
    return data.graded("mnist", data_path)  # as assignment.toml declares it; fetched once
