"""module_registration: public checks of MyModule (the probe reports what it registered)."""

import pytest

from autograder.testing import expect, hint, part_raised, raised

ARGS = (6, 5, 3)  # MyModule(n_in, nh, n_out)
REGISTRY = "the registry must be a dict named self._modules, created in __init__"
HINTS = [
    hint(
        REGISTRY + "; __setattr__ must still store every attribute, private ones too, "
        "with super().__setattr__(k, v)",
        when=raised("'_modules'"),
    )
]


def registry(got) -> str | None:
    "What is wrong with m._modules itself (missing, not a dict), or None."
    e = got["keys"].get("error", "")
    if "'_modules'" in e:
        return f"m has no attribute _modules: {REGISTRY}"
    if e.startswith("AttributeError") and "'keys'" in e:
        return f"m._modules is not a dict ({e}): {REGISTRY}"
    return None


def value(got, key, doing):
    "(the value of one part of the answer, None), or (None, what it raised)."
    g = got[key]
    return (None, f"{doing} raised {g['error']}") if "error" in g else (g["value"], None)


def registered(exp, got):
    "m._modules holds l1 and l2, in that order, and they are the Linear layers."
    if p := registry(got):
        return p
    keys, p = value(got, "keys", "listing m._modules")
    if p or keys != exp["keys"]["value"]:
        return p or f"m._modules has the keys {keys}, expected {exp['keys']['value']}"
    types, p = value(got, "types", "reading m._modules")
    if p or types != exp["types"]["value"]:
        return p or (
            f"the values in m._modules are of types {types}, expected {exp['types']['value']}"
        )
    return None


def parameters(exp, got):
    "parameters() yields each layer's weight and bias, the layers' own tensors, in order."
    shapes, p = value(got, "shapes", "list(m.parameters())")
    want = exp["shapes"]["value"]
    if p or shapes != want:
        return p or (
            f"m.parameters() yielded {len(shapes)} tensors of shapes {shapes}, expected {len(want)}"
            f" of shapes {want} (each layer's weight, then its bias)"
        )
    same, p = value(got, "same_objects", "list(m.parameters())")
    if p:
        return p
    if not all(same):
        i = same.index(False)
        return f"parameter {i + 1} of m.parameters() is not the layer's own tensor (a copy?)"
    return None


def check_module(student, reference, what, compare_with, hints=()):
    expect(
        student.run("module_registration", *ARGS),
        reference.run("module_registration", *ARGS),
        what,
        args=ARGS,
        compare_with=compare_with,
        hints=[*hints, *HINTS],
    )


def repr_names(exp, got):
    r = got["repr"]
    if "error" in r:
        return f"repr(m) raised {r['error']}"
    if not isinstance(r["value"], str) or not all(k in r["value"] for k in ("l1", "l2")):
        return f"repr(m) should mention the registered modules l1 and l2, got {r['value']!r}"
    return None


@pytest.mark.points(1)
def test_registers_l1_and_l2(student, reference):
    check_module(
        student,
        reference,
        "the registry m._modules of m = MyModule(6, 5, 3)",
        registered,
        hints=[
            hint(
                "__setattr__ should put every attribute whose name does not start with '_' "
                "in self._modules, in the order assigned",
                when=lambda a: registry(a.got) is None,
            )
        ],
    )


@pytest.mark.points(1)
def test_parameters_in_order(student, reference):
    check_module(
        student,
        reference,
        "list(m.parameters()) for m = MyModule(6, 5, 3)",
        parameters,
        hints=[
            hint(
                "parameters() should yield the parameters (tensors) of each registered module: "
                "yield from m.parameters()",
                when=part_raised("shapes", "has no attribute 'shape'"),
            )
        ],
    )


@pytest.mark.points(1)
def test_repr_names_modules(student, reference):
    check_module(student, reference, "repr(MyModule(6, 5, 3))", repr_names)
