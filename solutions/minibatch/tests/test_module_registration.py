"""module_registration: public checks of MyModule (the probe reports what it registered)."""

import pytest

from autograder.testing import expect, hint, part, part_raised

ARGS = (6, 5, 3)  # MyModule(n_in, nh, n_out)


def parts(*keys):
    "Compare the named parts of the probe's answer in turn; the first that differs is reported."

    def cmp(e, g):
        for k in keys:
            p = part(k)(e, g)
            if p:
                return p
        return None

    return cmp


def check_module(student, reference, what, compare_with, hints=()):
    expect(
        student.run("module_registration", *ARGS),
        reference.run("module_registration", *ARGS),
        what,
        args=ARGS,
        compare_with=compare_with,
        hints=hints,
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
    check_module(student, reference, "MyModule(6, 5, 3)._modules", parts("keys", "types"))


@pytest.mark.points(1)
def test_parameters_in_order(student, reference):
    check_module(
        student,
        reference,
        "list(MyModule(6, 5, 3).parameters())",
        parts("shapes", "same_objects"),
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
