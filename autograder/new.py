"""`scaffold`: the files of a new assignment, with one worked example exercise to copy.

It writes, under the kit's root:

- `solutions/NAME/NAME.ipynb`: an nbgrader source notebook: a locked setup cell (grade_id
  "setup"), one exercise cell (`relu`, between BEGIN/END SOLUTION markers) and its zero-point
  self-check, all with schema-3 nbgrader metadata;
- `autograder/checks/NAME.py`: public checks (the `call` probe, the `same()` comparison, hints);
- `autograder/checks/NAME_hidden.py`: one hidden check on randomized inputs (the grading seed);
- `reference/NAME.py`: the reference answer the checks compare against;
- `autograder/bank/NAME.py`: the lesson's answer, an alternative and a known bug, for `validate`.

Two edits are left to the instructor, and `scaffold` prints both: registering the assignment in
`autograder/assignment.py` and importing its reference in `reference/__init__.py`.
docs/new-assignment.md walks through the rest.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from textwrap import dedent

EXAMPLE = "relu"  # the example exercise's grade_id and the name its cell defines
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
RESERVED = {"common", "autograder", "reference", "checks", "bank"}
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


def notebook(name: str):
    "The instructor notebook: intro, locked setup, the example exercise and its self-check."
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    title = name.replace("_", " ").capitalize()
    cells = [
        new_markdown_cell(
            _src(f"""
            # {title}

            Cells containing `# YOUR CODE HERE` are yours: replace `raise NotImplementedError()`
            with your code and keep the `def` lines as they are. The cell after each exercise is a
            self-check worth no points. The grader runs the setup cell and your exercise cells
            (nothing else), so an exercise cell may use only the setup cell's imports and earlier
            exercises.
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
            replaced by zero, $\\max(x, 0)$ elementwise.
            """)
        ),
        new_code_cell(
            _src(f"""
            def {EXAMPLE}(x):
                "max(x, 0) elementwise, same shape and dtype."
                ### BEGIN SOLUTION
                return x.clamp_min(0.0)
                ### END SOLUTION
            """),
            metadata=_nbgrader(EXAMPLE, grade=False, solution=True, locked=False),
        ),
        new_code_cell(
            _src(f"""
            t = tensor([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.25]])
            torch.testing.assert_close({EXAMPLE}(t), tensor([[0.0, 0.0, 2.0], [3.0, 0.0, 0.25]]))
            print("{EXAMPLE}: self-check passed")
            """),
            metadata=_nbgrader(
                f"{EXAMPLE}_selfcheck", grade=True, solution=False, locked=True, points=0
            ),
        ),
    ]
    return new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})


CHECKS = r'''"""Public checks of the __NAME__ assignment: fixed inputs, shipped to students.

A Run names a probe (autograder/probes.py; `call` calls the student's function by name) and builds
its inputs from a seed; the same probe runs on the reference. A Check compares the two answers
(`same()`: type, shape, dtype, values) and its hints name the known mistake behind a wrong answer.
"""

from __future__ import annotations

from autograder.checks import Check, Run
from autograder.checks.common import close_to, randn, same

R, C = Run, Check

__EX_UPPER___HINTS = (
    (
        close_to(lambda x: x.clamp_max(0.0)),
        "that is min(x, 0): __EX__ keeps the positive part, max(x, 0)",
    ),
    (close_to(lambda x: x.abs()), "negative entries become 0, not their absolute value"),
)

RUNS = [
    R("__EX___small", "__EX__", "call", lambda s: ("__EX__", randn(s, 4, 3))),
]

CHECKS = [
    C(
        "__EX__",
        "small_batch",
        "__EX___small",
        "__EX__(x) on a (4, 3) batch",
        same(),
        points=1,
        hints=__EX_UPPER___HINTS,
    ),
]
'''

HIDDEN = r'''"""Hidden checks of the __NAME__ assignment: randomized inputs from the grading seed.

Never shipped to students (the bundle leaves out *_hidden.py); the seed is in every report, so any
failure can be replayed with `autograder grade --seed`.
"""

from __future__ import annotations

import torch

from autograder.checks import Check, Run
from autograder.checks.common import each, randn, random_shapes

R, C = Run, Check


def rand_inputs(seed):
    "Random batches, float32 and float64, including a single row and a single column."
    return [
        (randn(seed + i, *shape, scale=3.0, dtype=torch.float64 if i % 2 else torch.float32),)
        for i, shape in enumerate(random_shapes(seed))
    ]


RUNS = [
    R(
        "__EX___random",
        "__EX__",
        "call_each",
        lambda s: ("__EX__", rand_inputs(s)),
        fixed_seed=False,
    ),
]

CHECKS = [
    C(
        "__EX__",
        "random_shapes",
        "__EX___random",
        "__EX__(x) on random (N, C) batches",
        each(),
        points=1,
        hidden=True,
    ),
]
'''

REFERENCE = r'''"""Reference answers of the __NAME__ assignment: the checks compare with these."""

import torch  # noqa: F401  (the reference may use anything; students' cells may not)


def __EX__(x):
    "max(x, 0) elementwise, same shape and dtype."
    return x.clamp_min(0.0)
'''

BANK = r'''"""Cell sources that test the __NAME__ checks: the lesson's answer, alternatives, bugs.

`autograder validate` grades each: correct ones must score full marks, each bug must lose points
on its own exercise with a message containing one of its words.
"""

from __future__ import annotations

from textwrap import dedent

from autograder.bank.minibatch import Bug


def _cell(src: str) -> str:
    "Source written indented inside this file, as the notebook cell holds it."
    return dedent(src).strip() + "\n"


LESSON: dict[str, str] = {
    "__EX__": _cell("""
        def __EX__(x):
            return x * (x > 0)
    """),
}

ALTERNATIVES: dict[str, list[tuple[str, str]]] = {
    "__EX__": [
        (
            "where",
            _cell("""
                def __EX__(x):
                    return torch.where(x > 0, x, torch.zeros_like(x))
            """),
        ),
    ],
}

BUGS: dict[str, list[Bug]] = {
    "__EX__": [
        Bug(
            "min_not_max",
            _cell("""
                def __EX__(x):
                    return x.clamp_max(0.0)
            """),
            ("positive", "max"),
        ),
    ],
}
'''


def _fill(template: str, name: str) -> str:
    out = template.replace("__EX_UPPER__", EXAMPLE.upper()).replace("__EX__", EXAMPLE)
    return out.replace("__NAME__", name)


def targets(name: str, root: Path) -> dict[str, Path]:
    "Every file scaffold writes for name, by role."
    return {
        "notebook": root / "solutions" / name / f"{name}.ipynb",
        "checks": root / "autograder" / "checks" / f"{name}.py",
        "hidden": root / "autograder" / "checks" / f"{name}_hidden.py",
        "reference": root / "reference" / f"{name}.py",
        "bank": root / "autograder" / "bank" / f"{name}.py",
    }


def check_name(name: str, root: Path) -> None:
    "Raise ScaffoldError unless name can be a new assignment under root."
    from autograder import assignment

    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"{name!r} is not a valid assignment name: use a lowercase Python identifier of at "
            "most 40 characters (letters, digits, underscores; a letter first), e.g. 'attention'; "
            "it names a module, a folder and the nbgrader assignment"
        )
    if name.endswith("_hidden") or name in RESERVED:
        raise ScaffoldError(f"{name!r} is reserved in the kit; choose another name")
    if name in assignment.ASSIGNMENTS:
        raise ScaffoldError(f"assignment {name!r} already exists in autograder/assignment.py")
    taken = [p for p in [*targets(name, root).values(), root / "assignments" / name] if p.exists()]
    if taken:
        raise ScaffoldError(
            f"assignment {name!r} already has files: {', '.join(str(p) for p in taken)}; "
            "choose another name or remove them"
        )


def snippet(name: str) -> str:
    "The two edits that make the new assignment known to the kit."
    const = name.upper()
    return _src(f'''
        # 1. autograder/assignment.py: describe the exercises and register the assignment
        {const} = Assignment(
            "{name}",
            (E("{EXAMPLE}", ("{EXAMPLE}",), "the ReLU activation"),),
        )
        ASSIGNMENTS = {{a.name: a for a in [MINIBATCH, {const}]}}

        # 2. reference/__init__.py: make the reference answers visible to the oracle
        from reference.{name} import {EXAMPLE}  # noqa: E402,F401
        ''')


def scaffold(name: str, root: Path | None = None, say=print) -> list[Path]:
    """Create a new assignment's files under root (default: the kit), print what to do next.

    Refuses an invalid name or one already used, before writing anything. Returns the paths.
    """
    import nbformat

    from autograder import assignment

    root = Path(root) if root is not None else assignment.ROOT
    check_name(name, root)
    paths = targets(name, root)
    texts = {
        "checks": _fill(CHECKS, name),
        "hidden": _fill(HIDDEN, name),
        "reference": _fill(REFERENCE, name),
        "bank": _fill(BANK, name),
    }
    paths["notebook"].parent.mkdir(parents=True, exist_ok=True)
    nb = notebook(name)
    nbformat.validate(nb)
    nbformat.write(nb, paths["notebook"])
    for role, text in texts.items():
        paths[role].parent.mkdir(parents=True, exist_ok=True)
        with open(paths[role], "x", encoding="utf-8") as f:  # "x": never overwrite
            f.write(text)
    written = list(paths.values())
    say("created:\n" + "\n".join(f"  {p}" for p in written))
    say("\nnow paste these two edits (see docs/new-assignment.md):\n\n" + snippet(name))
    say(
        f"\nthen: autograder release --assignment {name}"
        f" && autograder validate --assignment {name} --no-training"
    )
    return written
