"""Release: turn the instructor notebook into the student notebook with nbgrader's preprocessors."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    LockCells,
)

from autograder.assignment import Assignment
from autograder.report import atomic_write

# nbgrader's own steps. Its generate_assignment runs a longer list (plus database steps) but ends
# with the same cells: checksums are taken after solutions and hidden tests are gone.
STEPS = (
    ClearSolutions,
    ClearHiddenTests,
    LockCells,
    ClearOutput,
    ComputeChecksums,
    CheckCellMetadata,
)
# Notebook metadata worth keeping; everything else (language_info, widgets, jupytext, ...) varies
# with whoever last saved the file.
KEEP_NB_METADATA = ("kernelspec",)
# Cell metadata that nbgrader or Jupyter's cell locking needs; the rest is editor state.
KEEP_CELL_METADATA = ("nbgrader", "deletable", "editable")


def apply_step(step: type, nb: NotebookNode) -> NotebookNode:
    "Run one nbgrader preprocessor, default-configured, over nb."
    nb, _ = step().preprocess(nb, {})
    return nb


def normalise(nb: NotebookNode) -> NotebookNode:
    "Drop what changes from run to run: outputs, execution counts, volatile metadata."
    nb.metadata = {k: nb.metadata[k] for k in KEEP_NB_METADATA if k in nb.metadata}
    for cell in nb.cells:
        cell.metadata = {k: cell.metadata[k] for k in KEEP_CELL_METADATA if k in cell.metadata}
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nbformat.from_dict(nb)


def release_notebook(nb: NotebookNode) -> NotebookNode:
    "The student version of an instructor notebook; nb itself is left untouched."
    nb = copy.deepcopy(nb)
    for step in STEPS:
        nb = apply_step(step, nb)
    return normalise(nb)


def release(assignment: Assignment, out_dir: Path | None = None) -> Path:
    "Write the student notebook to assignments/NAME/ (or out_dir) and return its path."
    from autograder.assignment import stamp

    nb = stamp(release_notebook(nbformat.read(assignment.solution, as_version=4)), assignment.name)
    path = Path(out_dir) / assignment.notebook if out_dir else assignment.release
    path.parent.mkdir(parents=True, exist_ok=True)
    # sorted keys, fixed indent: the same notebook gives the same bytes (nbformat.write's, with
    # its final newline); written atomically, so whoever reads the notebook meanwhile gets the
    # old one or the new one, whole
    text = nbformat.writes(nb)
    atomic_write(path, text if text.endswith("\n") else text + "\n")
    return path
