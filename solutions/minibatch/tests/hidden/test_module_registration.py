"""module_registration: hidden checks, setting new attributes on a MyModule."""

import pytest
from test_module_registration import check_module, registry, value  # noqa: I001  (the public file)

from autograder.testing import hint

SET = {"extra": "nn.Linear(2, 3)", "act": "nn.ReLU()"}


def registry_ok(a) -> bool:
    "m._modules is there and is a dict: the hint is about what went into it."
    return registry(a.got) is None


def by_type(a) -> bool:
    "Of the new modules (a Linear and a ReLU) some were registered and some not: by their type."
    kept = [k for k, _ in a.got["add_public"]["value"].values()] if registry_ok(a) else []
    return any(kept) and not all(kept)


def not_stored(a) -> bool:
    "Reading m.l1 back raised AttributeError: __setattr__ registered it but did not store it."
    return registry_ok(a) and a.got["attr_is_registered"].get("kind") == "AttributeError"


NOTE = "after m._note = 'not a layer'"


def new_public(exp, got):
    "Both new attributes are registered under their names and read back as set."
    if p := registry(got):
        return p
    seen, p = value(got, "add_public", "setting m.extra and m.act")
    if p:
        return p
    for k, (kept, same) in seen.items():
        if not kept:
            return f"after m.{k} = {SET[k]}, m._modules has no key '{k}': it was not registered"
        if not same:
            return f"after m.{k} = {SET[k]}, m.{k} is not the module in m._modules['{k}']"
    return None


def new_private(exp, got):
    "A name starting with '_' is set on m but not registered."
    if p := registry(got):
        return p
    seen, p = value(got, "add_private", "setting m._note")
    if p:
        return p
    skipped, kept = seen
    if not skipped:
        return f"{NOTE}, m._modules has a key '_note': names starting with '_' are not registered"
    return None if kept else f"{NOTE}, m._note does not read back 'not a layer'"


def layers_set(exp, got):
    "m.l1 and m.l2 are stored as attributes too, the same objects as in m._modules."
    if p := registry(got):
        return p
    same, p = value(got, "attr_is_registered", "reading m.l1 and m.l2")
    if p:
        return p
    return None if same else "m.l1 and m.l2 are not the modules in m._modules['l1'] and ['l2']"


def parameters_after_add(exp, got):
    "parameters() yields the new layer's parameters too, after l1's and l2's."
    shapes, p = value(got, "shapes_after_add", "list(m.parameters())")
    want = exp["shapes_after_add"]["value"]
    if p or shapes == want:
        return p
    return f"m.parameters() yielded tensors of shapes {shapes}, expected {want}"


@pytest.mark.points(1)
def test_new_public_attribute(student, reference):
    check_module(
        student,
        reference,
        "m.extra = nn.Linear(2, 3) and m.act = nn.ReLU() on m = MyModule(6, 5, 3)",
        new_public,
        hints=[
            hint(
                "__setattr__ should register every attribute whose name does not start with "
                "'_' in self._modules, whatever its type",
                when=by_type,
            )
        ],
    )


@pytest.mark.points(1)
def test_private_attribute_skipped(student, reference):
    check_module(
        student, reference, "m._note = 'not a layer' on m = MyModule(6, 5, 3)", new_private
    )


@pytest.mark.points(1)
def test_attributes_still_set(student, reference):
    check_module(
        student,
        reference,
        "m.l1 and m.l2 on m = MyModule(6, 5, 3)",
        layers_set,
        hints=[hint("store each attribute too, with super().__setattr__(k, v)", when=not_stored)],
    )


@pytest.mark.points(1)
def test_parameters_after_new_layer(student, reference):
    check_module(
        student,
        reference,
        "list(m.parameters()) after m.extra = nn.Linear(2, 3) on m = MyModule(6, 5, 3)",
        parameters_after_add,
    )
