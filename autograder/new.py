"""`scaffold`: a new assignment's folder, with one worked example exercise to copy.

An assignment is one folder, `solutions/NAME/`, found by `autograder.assignment` without any
registration; its reference is `reference/NAME.py`. `scaffold` writes, under the kit's root:

- `solutions/NAME/NAME.ipynb`: the nbgrader source notebook: a locked setup cell (grade_id
  "setup"), one exercise cell (`relu`, between BEGIN/END SOLUTION markers) and its zero-point
  self-check (which runs that exercise's public tests), all with schema-3 nbgrader metadata;
- `solutions/NAME/assignment.toml`: the exercise's id, the names it defines, what it may not use;
- `solutions/NAME/tests/test_relu.py`: public tests (fixed inputs, a hint for a known mistake);
- `solutions/NAME/tests/hidden/test_relu.py`: hidden tests (random inputs from the grading seed);
- `solutions/NAME/bank.py`: the lesson's answer, an alternative and a known bug, for `validate`;
- `reference/NAME.py`: the reference answer the tests compare against.

Nothing else in the kit is edited. docs/new-assignment.md walks through the rest.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from textwrap import dedent

EXAMPLE = "relu"  # the example exercise's grade_id and the name its cell defines
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

            Write `{EXAMPLE}(x)`: the tensor of the same shape and dtype with every negative entry
            replaced by zero, $\\max(x, 0)$ elementwise. Use basic tensor operations: `torch.relu`,
            `F.relu` and `clamp` are not allowed here.
            """)
        ),
        new_code_cell(
            _src(f"""
            def {EXAMPLE}(x):
                "max(x, 0) elementwise, same shape and dtype."
                ### BEGIN SOLUTION
                return torch.where(x > 0, x, torch.zeros_like(x))
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
#   methods    method names that are shortcuts on any object (x.relu())
#   aten       the operators underneath, watched at run time however they are reached
#   no_bases   modules its classes may not derive from
name = "__NAME__"
notebook = "__NAME__.ipynb"
setup = "setup"  # the grade_id of the locked setup cell
mnist_run = false  # only minibatch has the graded MNIST training run

[[exercise]]
id = "relu"
defines = ["relu"]
title = "the ReLU activation"
forbidden = [
    "torch.relu", "torch.relu_", "torch.nn.functional.relu", "torch.nn.functional.relu_",
    "torch.Tensor.relu", "torch.Tensor.relu_", "torch.nn.ReLU",
    "torch.clamp", "torch.clamp_min", "torch.clip", "torch.Tensor.clamp", "torch.Tensor.clamp_min",
    "torch.Tensor.clip",
]
backdoors = true
methods = ["relu", "relu_", "clamp", "clamp_min", "clip"]
"""

PUBLIC = '''"""relu: public tests, on fixed inputs (their answers ship in the student bundle)."""

import pytest
from torch import tensor

from autograder.testing import close_to, expect, hint

HINTS = [
    hint(
        "that is min(x, 0): relu keeps the positive part, max(x, 0)",
        when=close_to(lambda x: x.clamp_max(0.0)),
    ),
    hint("negative entries become 0, not their absolute value", when=close_to(lambda x: x.abs())),
]


@pytest.mark.points(1)
def test_small_batch(student, reference):
    x = tensor([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.25]])
    expect(
        student.relu(x),
        reference.relu(x),
        "relu(x) on a (2, 3) batch",
        args=(x,),
        call="relu",
        hints=HINTS,
    )
'''

HIDDEN = '''"""relu: hidden tests, on random shapes and dtypes drawn from the grading seed."""

import pytest
import torch
from test_relu import HINTS  # noqa: I001  (the public file, beside this folder)

from autograder.testing import expect, expect_each, randn, random_shapes


@pytest.mark.points(1)
def test_random_shapes(student, reference, seed, grading_seed):
    dtypes = (torch.float32, torch.float64)
    inputs = [
        (randn(seed + i, *shape, scale=3.0, dtype=dtypes[i % 2]),)
        for i, shape in enumerate(random_shapes(seed))
    ]
    what = "relu(x) on random (N, C) batches"
    expect_each(student, reference, "relu", inputs, what, hints=HINTS, seed=grading_seed)


@pytest.mark.points(1)
def test_gradient(student, reference, seed):
    args = ("relu", randn(seed, 5, 4), randn(seed + 1, 5, 4))  # name, x, the upstream gradient
    what = "the gradient of relu(x) (autograd through it)"
    expect(student.run("call_grad", *args), reference.run("call_grad", *args), what)
'''

REFERENCE = '''"""Reference answers of the __NAME__ assignment: its tests compare with these."""

import torch  # noqa: F401  (the reference may use anything; students' cells may not)


def relu(x):
    "max(x, 0) elementwise, same shape and dtype."
    return x.clamp_min(0.0)
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
    "relu": _cell("""
        def relu(x):
            return x * (x > 0)
    """),
}

ALTERNATIVES: dict[str, list[tuple[str, str]]] = {
    "relu": [
        (
            "masked_fill",
            _cell("""
                def relu(x):
                    return x.masked_fill(x < 0, 0.0)
            """),
        ),
    ],
}

BUGS: dict[str, list[Bug]] = {
    "relu": [
        Bug(
            "min_not_max",
            _cell("""
                def relu(x):
                    return x * (x < 0)
            """),
            ("positive", "max"),
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
