"""module_registration: hidden checks, setting new attributes on a MyModule."""

import pytest
from test_module_registration import check_module  # noqa: I001  (the public file)

from autograder.testing import always, hint, part


@pytest.mark.points(1)
def test_new_public_attribute(student, reference):
    check_module(
        student,
        reference,
        "m.extra = nn.Linear(2, 3) and m.act = nn.ReLU() on a MyModule: registered, readable",
        part("add_public"),
        hints=[
            hint(
                "__setattr__ should register every attribute whose name does not start with "
                "'_' in self._modules, whatever its type",
                when=always,
            )
        ],
    )


@pytest.mark.points(1)
def test_private_attribute_skipped(student, reference):
    check_module(
        student,
        reference,
        "m._note = '...' on a MyModule: set but not registered",
        part("add_private"),
    )


@pytest.mark.points(1)
def test_attributes_still_set(student, reference):
    check_module(
        student,
        reference,
        "m.l1 and m.l2 are the registered layers (super().__setattr__ was called)",
        part("attr_is_registered"),
    )


@pytest.mark.points(1)
def test_parameters_after_new_layer(student, reference):
    check_module(
        student,
        reference,
        "parameters() after adding a layer yields its parameters too",
        part("shapes_after_add"),
    )
