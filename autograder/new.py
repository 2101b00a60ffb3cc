"""`scaffold`: a new assignment's folder, with one worked example exercise to copy.

An assignment is one folder, `solutions/NAME/`, found by `autograder.assignment` without any
registration; its reference is `reference/NAME.py`. `scaffold` writes, under the kit's root:

- `solutions/NAME/NAME.ipynb`: the nbgrader source notebook: a locked setup cell (grade_id
  "setup"), one exercise cell (`square`, between BEGIN/END SOLUTION markers) and its zero-point
  self-check (which runs that exercise's public tests), all with schema-3 nbgrader metadata;
- `solutions/NAME/assignment.toml`: the exercise's id, the names it defines, what it may not use;
- `solutions/NAME/tests/test_square.py`: public tests (fixed inputs, a hint for a known mistake);
- `solutions/NAME/tests/hidden/test_square.py`: hidden tests (random inputs from the grading seed);
- `solutions/NAME/bank.py`: the lesson's answer, an alternative and a known bug, for `validate`;
- `reference/NAME.py`: the reference answer the tests compare against.

Nothing else in the kit is edited. docs/new-assignment.md walks through the rest.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from textwrap import dedent

# The example exercise's grade_id and the name its cell defines: a name no assignment of the kit
# uses, so the scaffold's files are never mistaken for (or collide with) a real exercise's.
EXAMPLE = "square"
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
# names of the kit's own folders and packages, and words its layout gives a meaning to
RESERVED = {
    "autograder", "reference", "solutions", "assignments", "tests", "hidden", "common", "checks",
    "bank",
}  # fmt: skip
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


class ScaffoldError(ValueError):
    "The name cannot be used for a new assignment; the message says why."


def _src(text: str) -> str:
    return dedent(text).strip("\n")


def _nbgrader(grade_id: str, *, grade: bool, solution: bool, locked: bool, points=None) -> dict:
    meta = dict(grade=grade, grade_id=grade_id, locked=locked, schema_version=3)
    meta |= dict(solution=solution, task=False)
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def selfcheck_source(grade_id: str, name: str) -> str:
    """The self-check cell after an exercise: it runs that exercise's public tests (named with
    its assignment: another assignment of the course may have an exercise of the same id)."""
    return f'from autograder.selfcheck import check\ncheck("{grade_id}", "{name}")'


def notebook(name: str):
    "The instructor notebook: intro, locked setup, the example exercise and its self-check."
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    title = name.replace("_", " ").capitalize()
    cells = [
        new_markdown_cell(
            _src(f"""
            # {title}

            Cells containing `# YOUR CODE HERE` are yours: replace `raise NotImplementedError()`
            with your code and keep the `def` lines as they are. The cell after each exercise runs
            that exercise's public checks and is worth no points. The grader runs the setup cell
            and your exercise cells (nothing else), so an exercise cell may use only the setup
            cell's imports and earlier exercises.
            """)
        ),
        new_code_cell(
            _src("""
            import torch
            from torch import tensor
            """),
            metadata=_nbgrader("setup", grade=False, solution=False, locked=True),
        ),
        new_markdown_cell(
            _src(f"""
            ### Exercise 1: `{EXAMPLE}`

            Write `{EXAMPLE}(x)`: the tensor of the same shape and dtype with every entry squared,
            $x^2$ elementwise. Use multiplication: `torch.square`, `torch.pow` and `x ** 2` are not
            allowed here.
            """)
        ),
        new_code_cell(
            _src(f"""
            def {EXAMPLE}(x):
                "x squared elementwise, same shape and dtype."
                ### BEGIN SOLUTION
                return x * x
                ### END SOLUTION
            """),
            metadata=_nbgrader(EXAMPLE, grade=False, solution=True, locked=False),
        ),
        new_code_cell(
            selfcheck_source(EXAMPLE, name),
            metadata=_nbgrader(
                f"{EXAMPLE}_selfcheck", grade=True, solution=False, locked=True, points=0
            ),
        ),
    ]
    return new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})


TOML = """\
# The __NAME__ assignment: what the engine needs to know that is not in its tests.
# Exercises in notebook order (solutions/minibatch/assignment.toml has every key in use):
#   id         the nbgrader grade_id of the exercise cell; its tests are tests/test_<id>.py
#   defines    the names the cell must define
#   title      the exercise in a few words
#   forbidden  dotted names its cell may not reach (in its source, through any alias or import,
#              and while it runs)
#   backdoors  true: also the doors behind torch's public functions (torch.ops, torch._C, ...)
#   methods    method names that are shortcuts on any object (x.square())
#   aten       the operators underneath, watched at run time however they are reached
#   no_bases   modules its classes may not derive from
name = "__NAME__"
notebook = "__NAME__.ipynb"
setup = "setup"  # the grade_id of the locked setup cell

[[exercise]]
id = "square"
defines = ["square"]
title = "every entry squared"
forbidden = [
    "torch.square", "torch.Tensor.square", "torch.Tensor.square_", "torch.pow", "torch.Tensor.pow",
    "torch.Tensor.pow_", "torch.Tensor.__pow__", "torch.float_power", "torch.Tensor.float_power",
]
backdoors = true
methods = ["square", "square_", "pow", "pow_", "float_power"]
"""

PUBLIC = '''"""square: public tests, on fixed inputs (their answers ship in the student bundle)."""

import pytest
from torch import tensor

from autograder.testing import close_to, expect, hint

HINTS = [
    hint("that is 2x, x + x: square(x) is x * x", when=close_to(lambda x: 2 * x)),
    hint("a square is never negative: x * x, not x * abs(x)", when=close_to(lambda x: x * x.abs())),
]


@pytest.mark.points(1)
def test_small_batch(student, reference):
    x = tensor([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.25]])
    expect(
        student.square(x),
        reference.square(x),
        "square(x) on a (2, 3) batch",
        args=(x,),
        call="square",
        hints=HINTS,
    )
'''

HIDDEN = '''"""square: hidden tests, on random shapes and dtypes drawn from the grading seed."""

import pytest
import torch
from test_square import HINTS  # noqa: I001  (the public file, beside this folder)

from autograder.testing import expect, expect_each, randn, random_shapes


@pytest.mark.points(1)
def test_random_shapes(student, reference, seed, grading_seed):
    dtypes = (torch.float32, torch.float64)
    inputs = [
        (randn(seed + i, *shape, scale=3.0, dtype=dtypes[i % 2]),)
        for i, shape in enumerate(random_shapes(seed))
    ]
    what = "square(x) on random (N, C) batches"
    expect_each(student, reference, "square", inputs, what, hints=HINTS, seed=grading_seed)


@pytest.mark.points(1)
def test_gradient(student, reference, seed):
    args = ("square", randn(seed, 5, 4), randn(seed + 1, 5, 4))  # name, x, the upstream gradient
    what = "the gradient of square(x) (autograd through it)"
    expect(student.run("call_grad", *args), reference.run("call_grad", *args), what)
'''

REFERENCE = '''"""Reference answers of the __NAME__ assignment: its tests compare with these."""

import torch  # noqa: F401  (the reference may use anything; students' cells may not)


def square(x):
    "x squared elementwise, same shape and dtype."
    return x.square()
'''

BANK = '''"""Cells that test the __NAME__ tests: the lesson's answer, alternatives, known bugs.

Each source replaces one exercise cell (keyed by its grade_id) of the solution notebook.
`autograder validate` grades them all: correct ones must score full marks, each bug must lose
points on its own exercise with a message containing one of its words.
"""

from __future__ import annotations

from textwrap import dedent

from autograder.bank import Bug


def _cell(src: str) -> str:
    "Source written indented inside this file, as the notebook cell holds it."
    return dedent(src).strip() + "\\n"


LESSON: dict[str, str] = {
    "square": _cell("""
        def square(x):
            return x * x
    """),
}

ALTERNATIVES: dict[str, list[tuple[str, str]]] = {
    "square": [
        (
            "mul",
            _cell("""
                def square(x):
                    return torch.mul(x, x)
            """),
        ),
    ],
}

BUGS: dict[str, list[Bug]] = {
    "square": [
        Bug(
            "doubled",
            _cell("""
                def square(x):
                    return x + x
            """),
            ("2x", "x * x"),
            hints=("that is 2x",),
        ),
        Bug(
            "times_abs",
            _cell("""
                def square(x):
                    return x * x.abs()
            """),
            ("negative",),
            hints=("never negative",),
        ),
    ],
}
'''


def targets(name: str, root: Path) -> dict[str, Path]:
    "Every file scaffold writes for name, by role."
    folder = root / "solutions" / name
    return {
        "notebook": folder / f"{name}.ipynb",
        "toml": folder / "assignment.toml",
        "public": folder / "tests" / f"test_{EXAMPLE}.py",
        "hidden": folder / "tests" / "hidden" / f"test_{EXAMPLE}.py",
        "bank": folder / "bank.py",
        "reference": root / "reference" / f"{name}.py",
    }


def check_name(name: str, root: Path) -> None:
    "Raise ScaffoldError unless name can be a new assignment under root."
    from autograder import assignment

    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"{name!r} is not a valid assignment name: use a lowercase Python identifier of at "
            "most 40 characters (letters, digits, underscores; a letter first), e.g. 'attention'; "
            "it names a folder, the reference module and the nbgrader assignment"
        )
    if name.endswith("_hidden") or name in RESERVED:
        raise ScaffoldError(f"{name!r} is reserved in the kit; choose another name")
    if name in assignment.ASSIGNMENTS:
        raise ScaffoldError(
            f"assignment {name!r} already exists ({assignment.ASSIGNMENTS[name].folder})"
        )
    taken = [
        p
        for p in (
            root / "solutions" / name,
            root / "assignments" / name,
            root / "reference" / f"{name}.py",
        )
        if p.exists()
    ]
    if taken:
        raise ScaffoldError(
            f"assignment {name!r} already has files: {', '.join(str(p) for p in taken)}; "
            "choose another name or remove them"
        )


def scaffold(name: str, root: Path | None = None, say=print) -> list[Path]:
    """Create a new assignment's folder and reference under root (default: the kit), and print
    what to run next. Refuses an invalid name or one already used, before writing anything.
    Returns the paths written."""
    import nbformat

    from autograder import assignment

    root = Path(root) if root is not None else assignment.ROOT
    check_name(name, root)
    paths = targets(name, root)
    nb = notebook(name)
    nbformat.validate(nb)
    texts = {
        "notebook": nbformat.writes(nb).rstrip("\n") + "\n",
        "toml": TOML,
        "public": PUBLIC,
        "hidden": HIDDEN,
        "bank": BANK,
        "reference": REFERENCE,
    }
    (root / "solutions").mkdir(parents=True, exist_ok=True)
    paths["notebook"].parent.mkdir()  # the folder itself must be new
    for role, text in texts.items():
        paths[role].parent.mkdir(parents=True, exist_ok=True)
        with open(paths[role], "x", encoding="utf-8") as f:  # "x": never overwrite
            f.write(text.replace("__NAME__", name))
    written = list(paths.values())
    shown = [p.relative_to(root) if p.is_relative_to(root) else p for p in written]
    say("created:\n" + "\n".join(f"  {p}" for p in shown))
    say(
        "\nnext (docs/new-assignment.md):\n"
        f"  autograder release --assignment {name}\n"
        f"  autograder validate --assignment {name} --no-training"
    )
    return written
