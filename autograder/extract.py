"""Read a submitted notebook and pull out what the grader runs: the setup cell and exercise cells.

Cells are found by nbgrader grade_id, wherever they were moved. Locked cells (the setup) come from
our released notebook, not the student's copy, as nbgrader's OverwriteCells does. Magics and shell
escapes are not run. Nothing here executes student code; a broken file becomes a clear problem.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.assignment import Assignment

MAX_NOTEBOOK_BYTES = 20 * 2**20
MAGIC = re.compile(r"^(\s*)([%!].*)$")
MAGIC_ASSIGN = re.compile(r"^(\s*[A-Za-z_][\w, ]*=\s*)([%!].*)$")  # x = !ls, t = %timeit f()


@dataclass
class Submission:
    "What the grader runs for one notebook, and what it could not take from it."

    name: str
    setup: str
    cells: dict[str, str] = field(default_factory=dict)
    cell_problems: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # set when the notebook as a whole could not be read


def grade_id(cell) -> str | None:
    "The nbgrader grade_id of a cell, tolerating hand-edited metadata of any shape."
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    gid = nbg.get("grade_id") if isinstance(nbg, dict) else None
    return gid if isinstance(gid, str) else None


def strip_magics(source: str) -> tuple[str, list[str]]:
    "Replace IPython magics and shell escapes with `pass`; a cell magic makes the cell unusable."
    try:
        ast.parse(source)
        return source, []  # valid Python: a line starting with % or ! is a continuation, not magic
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    lines, dropped = source.splitlines(), []
    first = next((ln for ln in lines if ln.strip()), "")
    if first.lstrip().startswith("%%"):
        raise ValueError(
            f"the cell starts with the cell magic {lines[0].split()[0]}, which the "
            "grader does not run; remove it"
        )
    out = []
    for line in lines:
        m = MAGIC_ASSIGN.match(line)
        if m:
            out.append(f"{m.group(1)}None  # removed by the grader: {m.group(2).strip()[:60]}")
            dropped.append(m.group(2).strip()[:60])
            continue
        m = MAGIC.match(line)
        if m:
            out.append(f"{m.group(1)}pass  # removed by the grader: {m.group(2).strip()[:60]}")
            dropped.append(m.group(2).strip()[:60])
        else:
            out.append(line)
    return "\n".join(out) + "\n", dropped


def released_setup(assignment: Assignment) -> str:
    "The setup cell as we released it: a student's edits to a locked cell do not count."
    nb = read_notebook(assignment.release)
    for cell in nb["cells"]:
        if grade_id(cell) == assignment.setup_id:
            return _source(cell)
    raise RuntimeError(
        f"{assignment.release} has no cell with grade_id {assignment.setup_id!r}; "
        "rebuild it with `autograder release`"
    )


def read_notebook(path: Path) -> dict:
    "Parse the file as a notebook, or raise ValueError saying what is wrong with it."
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise ValueError(
            f"{path.name} is {size / 2**20:.0f} MiB, over the "
            f"{MAX_NOTEBOOK_BYTES // 2**20} MiB limit; clear its outputs and resubmit"
        )
    text = path.read_bytes().decode("utf-8", errors="replace")
    if not text.strip():
        raise ValueError(f"{path.name} is empty; submit the notebook you worked in")
    # plain JSON, not nbformat: we read only cells and their metadata, and it starts 10× faster
    try:
        nb = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise ValueError(
            f"{path.name} is not a notebook (not valid JSON: {str(e)[:120]}); "
            "save it from Jupyter as .ipynb and resubmit"
        ) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(
            f"{path.name} could not be read as a notebook: it has no list of cells; save it "
            "from Jupyter as .ipynb and resubmit"
        )
    if nb.get("nbformat") != 4:
        raise ValueError(
            f"{path.name} could not be read as a notebook: nbformat {nb.get('nbformat')!r} is not "
            "the version 4 that Jupyter writes; save it from Jupyter as .ipynb and resubmit"
        )
    return nb


def _source(cell: dict) -> str:
    "A cell's source, given as one string or a list of lines."
    src = cell.get("source") or ""
    return "".join(map(str, src)) if isinstance(src, list) else str(src)


def extract(path: str | Path, assignment: Assignment, setup: str | None = None) -> Submission:
    "The submission's exercise cells by grade_id; problems are recorded, never raised."
    path = Path(path)
    sub = Submission(path.stem, setup if setup is not None else released_setup(assignment))
    try:
        nb = read_notebook(path)
    except (OSError, ValueError) as e:
        sub.error = str(e)
        return sub
    seen: dict[str, int] = {}
    for i, cell in enumerate(nb["cells"]):
        gid = grade_id(cell)
        if gid not in assignment.ids or not isinstance(cell, dict):
            continue
        seen[gid] = seen.get(gid, 0) + 1
        if seen[gid] > 1:
            sub.notes.append(f"cell {gid!r} appears more than once; the first copy was graded")
            continue
        if cell.get("cell_type") != "code":
            sub.cell_problems[gid] = (
                f"cell {gid!r} (cell {i + 1}) was changed to "
                f"{cell.get('cell_type')}; change it back to code"
            )
            continue
        src = _source(cell)
        try:
            sub.cells[gid], dropped = strip_magics(src)
        except ValueError as e:
            sub.cell_problems[gid] = f"cell {gid!r}: {e}"
            continue
        if dropped:
            sub.notes.append(f"cell {gid!r}: magics/shell escapes not run: {', '.join(dropped)}")
    for gid in assignment.ids:
        if gid not in sub.cells and gid not in sub.cell_problems:
            sub.cell_problems[gid] = (
                f"no cell with grade_id {gid!r} in {path.name}: it was "
                "deleted or its metadata changed; copy the cell back from "
                "the released notebook"
            )
    return sub
