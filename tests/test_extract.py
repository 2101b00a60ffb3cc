"""Reading a submitted notebook: cells by grade_id, magics removed, problems kept, never raised."""

import ast
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import extract as ex
from autograder.assignment import get
from autograder.extract import extract, released_setup, strip_magics

A = get("minibatch")
SETUP = "import torch\n"


def cell(gid, source, kind="code"):
    "A cell carrying nbgrader metadata, as in the released notebook."
    meta = {"nbgrader": {"grade_id": gid, "solution": True, "grade": False, "locked": False}}
    make = new_code_cell if kind == "code" else new_markdown_cell
    return make(source, metadata=meta)


def full(**sources):
    "One code cell per exercise, in assignment order; `sources` overrides some."
    return [cell(gid, sources.get(gid, f"def {gid}():\n    pass\n")) for gid in A.ids]


def write(tmp_path, cells, name="alice.ipynb"):
    path = tmp_path / name
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_cells_are_found_by_grade_id_in_any_order(tmp_path):
    cells = full(softmax="def softmax(x):\n    return x\n")
    cells = [new_markdown_cell("# My notes"), *reversed(cells), new_code_cell("scratch = 1")]
    sub = extract(write(tmp_path, cells), A, setup=SETUP)
    assert sub.error is None and sub.cell_problems == {} and sub.notes == []
    assert list(sorted(sub.cells)) == sorted(A.ids)
    assert sub.cells["softmax"] == "def softmax(x):\n    return x\n"
    assert sub.name == "alice"


def test_a_missing_cell_says_to_copy_it_back(tmp_path):
    cells = [c for c in full() if c.metadata.nbgrader.grade_id != "nll"]
    sub = extract(write(tmp_path, cells), A, setup=SETUP)
    assert "nll" not in sub.cells
    assert list(sub.cell_problems) == ["nll"]
    problem = sub.cell_problems["nll"]
    assert "'nll'" in problem and "alice.ipynb" in problem
    assert "copy the cell back" in problem


def test_a_cell_whose_metadata_was_stripped_counts_as_missing(tmp_path):
    cells = full()
    cells[0] = new_code_cell(cells[0].source)  # same code, no nbgrader metadata
    sub = extract(write(tmp_path, cells), A, setup=SETUP)
    assert "copy the cell back" in sub.cell_problems[A.ids[0]]


def test_a_duplicated_cell_grades_the_first_copy_with_a_note(tmp_path):
    cells = [*full(softmax="first = 1\n"), cell("softmax", "second = 2\n")]
    sub = extract(write(tmp_path, cells), A, setup=SETUP)
    assert sub.cells["softmax"] == "first = 1\n"
    assert "softmax" not in sub.cell_problems
    assert any("'softmax'" in n and "more than once" in n for n in sub.notes)


@pytest.mark.parametrize("kind", ["markdown", "raw"])
def test_a_cell_changed_from_code_is_a_problem(tmp_path, kind):
    cells = full()
    cells[1] = cell("logsumexp", "def logsumexp(x):\n    pass\n", kind="markdown")
    cells[1].cell_type = kind
    sub = extract(write(tmp_path, cells), A, setup=SETUP)
    assert "logsumexp" not in sub.cells
    problem = sub.cell_problems["logsumexp"]
    assert kind in problem and "change it back to code" in problem


def test_magics_and_shell_escapes_become_pass(tmp_path):
    src = "%matplotlib inline\n!pip install x\ndef softmax(x):\n    %timeit x.exp()\n    return x\n"
    sub = extract(write(tmp_path, full(softmax=src)), A, setup=SETUP)
    code = sub.cells["softmax"]
    ast.parse(code)  # runnable Python again
    lines = code.splitlines()
    assert len(lines) == 5  # same line numbers as the student's cell, for error messages
    assert lines[0].startswith("pass") and lines[1].startswith("pass")
    assert lines[2] == "def softmax(x):" and lines[3].startswith("    pass")
    assert not any(line.lstrip().startswith(("%", "!")) for line in lines)
    note = " ".join(sub.notes)
    for magic in ["%matplotlib inline", "!pip install x", "%timeit x.exp()"]:
        assert magic in note


def test_operators_at_the_start_of_a_continuation_line_are_not_magics():
    src = 'def f(a, b):\n    return ("%d items"\n            % a) != (b\n    != a)\n'
    code, dropped = strip_magics(src)
    assert dropped == [] and code == src


@pytest.mark.parametrize("magic", ["%%bash", "%%capture", "  %%time"])
def test_a_cell_magic_makes_the_cell_a_problem(tmp_path, magic):
    src = f"{magic}\necho hi\n"
    sub = extract(write(tmp_path, full(collate=src)), A, setup=SETUP)
    assert "collate" not in sub.cells
    assert magic.strip() in sub.cell_problems["collate"]


def test_source_as_a_list_of_lines(tmp_path):
    nb = new_notebook(cells=full())
    raw = json.loads(nbformat.writes(nb))
    for c in raw["cells"]:
        if c["metadata"]["nbgrader"]["grade_id"] == "accuracy":
            c["source"] = ["def accuracy(a, b):\n", "    %time x = 1\n", "    return 1.0\n"]
    path = tmp_path / "lines.ipynb"
    path.write_text(json.dumps(raw))
    sub = extract(path, A, setup=SETUP)
    assert sub.error is None
    assert sub.cells["accuracy"].splitlines()[0] == "def accuracy(a, b):"
    assert sub.cells["accuracy"].splitlines()[2] == "    return 1.0"
    ast.parse(sub.cells["accuracy"])


# A file that is not a usable notebook: one clear error, no exception

NOT_NOTEBOOKS = {
    "not json": "this is {not json",
    "empty": "",
    "blank": "  \n\n",
    "binary": bytes(range(256)),
    "json list": "[1, 2, 3]",
    "json without cells": json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}}),
    "cells not a list": json.dumps(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": {}}
    ),
}


@pytest.mark.parametrize("content", NOT_NOTEBOOKS.values(), ids=NOT_NOTEBOOKS)
def test_a_broken_file_sets_error_naming_the_file(tmp_path, content):
    path = tmp_path / "bob.ipynb"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    sub = extract(path, A, setup=SETUP)
    assert sub.error and "bob.ipynb" in sub.error
    assert sub.cells == {}


@pytest.mark.parametrize(
    "content",
    [
        "this is {not json",
        "",
        bytes(range(256)),
        pytest.param(json.dumps({"name": "package", "version": "1.0"}), id="json-not-a-notebook"),
    ],
    ids=["not-json", "empty", "binary", "json-not-a-notebook"],
)
def test_a_broken_file_says_what_to_do(tmp_path, content):
    path = tmp_path / "bob.ipynb"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    sub = extract(path, A, setup=SETUP)
    assert "bob.ipynb" in sub.error and "submit" in sub.error


def test_a_notebook_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    path = write(tmp_path, full(softmax="x = 1\n" * 200))
    monkeypatch.setattr(ex, "MAX_NOTEBOOK_BYTES", 1000)
    sub = extract(path, A, setup=SETUP)
    assert "alice.ipynb" in sub.error and "limit" in sub.error
    assert "clear its outputs" in sub.error
    assert sub.cells == {}


def test_a_missing_file_is_an_error_not_an_exception(tmp_path):
    sub = extract(tmp_path / "ghost.ipynb", A, setup=SETUP)
    assert sub.error and "ghost.ipynb" in sub.error


def test_hand_edited_nbgrader_metadata_is_not_an_exception(tmp_path):
    raw = json.loads(nbformat.writes(new_notebook(cells=full())))
    raw["cells"][0]["metadata"]["nbgrader"] = None
    path = tmp_path / "edited.ipynb"
    path.write_text(json.dumps(raw))
    sub = extract(path, A, setup=SETUP)
    assert A.ids[0] in sub.cell_problems


# The locked setup cell


def test_setup_comes_from_the_release_not_the_student(tmp_path):
    edited = cell("setup", "import torch.nn.functional as F\nsoftmax = F.softmax\n")
    path = write(tmp_path, [edited, *full()])
    sub = extract(path, A)  # setup=None: read it from assignments/minibatch/minibatch.ipynb
    assert sub.setup == released_setup(get("minibatch"))
    assert "softmax = F.softmax" not in sub.setup
    assert "import torch" in sub.setup
    assert "the locked setup cell (cell 1) was edited; grading used the released" in sub.notes[0]


def test_an_untouched_setup_cell_makes_no_note(tmp_path):
    sub = extract(write(tmp_path, [cell("setup", released_setup(get("minibatch"))), *full()]), A)
    assert not any("locked" in n for n in sub.notes)


def test_setup_from_the_release_even_when_the_file_is_broken(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("")
    sub = extract(path, A)
    assert sub.error and sub.setup == released_setup(get("minibatch"))


def test_an_explicit_setup_is_used_as_given(tmp_path):
    sub = extract(write(tmp_path, full()), A, setup="import math\n")
    assert sub.setup == "import math\n"


# Locked cells: nbgrader's checksums, stamped by release, tell an edit from the released cell


def _release_cells(name="minibatch"):
    return nbformat.read(get(name).release, as_version=4).cells


@pytest.mark.parametrize("name", ["minibatch", "backprop"])
def test_our_checksum_is_nbgraders(name):
    from nbgrader.utils import compute_checksum

    cells = [c for c in _release_cells(name) if "nbgrader" in c.metadata]
    graded = nbformat.v4.new_code_cell("x = 1")  # a grade cell: its points are hashed too
    graded.metadata["nbgrader"] = {"grade": True, "grade_id": "g", "points": 2, "solution": False}
    for c in [*cells, graded]:
        assert ex.checksum(c) == compute_checksum(c), c.metadata.nbgrader["grade_id"]
    stamped = [c for c in cells if c.metadata.nbgrader.get("locked")]
    assert len(stamped) > 1  # the setup cell and the self-check cells
    for c in stamped:
        assert ex.checksum(c) == c.metadata.nbgrader["checksum"]


def _edit(tmp_path, gid, change):
    nb = nbformat.read(get("minibatch").release, as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    i, c = ids.index(gid), nb.cells[ids.index(gid)]
    c.source = change(c.source)
    path = tmp_path / "alice.ipynb"
    nbformat.write(nb, path)
    return i, extract(path, A)


def test_the_released_notebook_makes_no_note(tmp_path):
    _, sub = _edit(tmp_path, "softmax_selfcheck", lambda s: s)
    assert not any("locked" in n for n in sub.notes)


def test_an_edited_selfcheck_cell_is_named_at_the_top_of_the_notes(tmp_path):
    i, sub = _edit(tmp_path, "softmax_selfcheck", lambda s: 'print("softmax: all checks pass")')
    assert sub.notes[0].startswith(f"the locked cell 'softmax_selfcheck' (cell {i + 1}) was edited")
    assert "grading used the released version" in sub.notes[0]
    assert len([n for n in sub.notes if "locked" in n]) == 1


def test_whitespace_in_a_locked_cell_is_not_an_edit(tmp_path):
    _, sub = _edit(tmp_path, "softmax_selfcheck", lambda s: s + "\n\n")
    assert not any("locked" in n for n in sub.notes)


def test_edits_of_two_locked_cells_are_both_named_setup_first(tmp_path):
    nb = nbformat.read(get("minibatch").release, as_version=4)
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") in ("setup", "nll_selfcheck"):
            c.source += "\nimport numpy as np\n"
    path = tmp_path / "bob.ipynb"
    nbformat.write(nb, path)
    notes = extract(path, A).notes
    assert notes[0].startswith("the locked setup cell (cell 2) was edited")
    assert notes[1].startswith("the locked cell 'nll_selfcheck'")
