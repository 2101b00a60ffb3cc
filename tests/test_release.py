"""Release: nbgrader's preprocessors turn the instructor notebook into a stable student notebook."""

import ast
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.nbgraderformat import ValidationError
from nbgrader.utils import compute_checksum

from autograder.assignment import get
from autograder.release import release, release_notebook

MINIBATCH = get("minibatch")

SOLUTION = nbformat.read(MINIBATCH.solution, as_version=4)
RELEASED = nbformat.read(MINIBATCH.release, as_version=4)
REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION", re.S | re.M)
STUB = "# YOUR CODE HERE\n{0}raise NotImplementedError()"


def nbg(grade_id, *, grade=False, solution=False, locked=False, points=None):
    "nbgrader cell metadata, as the course notebooks write it."
    meta = dict(grade=grade, grade_id=grade_id, locked=locked, schema_version=3)
    meta |= dict(solution=solution, task=False) | ({} if points is None else {"points": points})
    return {"nbgrader": meta}


def tiny(*cells):
    "A notebook of the given cells with a Python kernelspec."
    spec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return new_notebook(cells=list(cells), metadata={"kernelspec": spec})


def cells_by_id(nb):
    "{grade_id: [cells]} for the cells carrying nbgrader metadata."
    out = {}
    for cell in nb.cells:
        if "nbgrader" in cell.metadata:
            out.setdefault(cell.metadata.nbgrader["grade_id"], []).append(cell)
    return out


def is_solution(cell):
    return cell.metadata.get("nbgrader", {}).get("solution", False)


def defined(source):
    "{top-level name: [signatures of the functions it defines]} for a cell's code."
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = [ast.unparse(node.args)]
        elif isinstance(node, ast.ClassDef):
            methods = [n for n in node.body if isinstance(n, ast.FunctionDef)]
            out[node.name] = [f"{m.name}({ast.unparse(m.args)})" for m in methods]
    return out


# The committed student notebook


def test_release_rebuilds_byte_identical(tmp_path):
    path = release(MINIBATCH, tmp_path)
    assert path == tmp_path / MINIBATCH.notebook
    assert path.read_bytes() == MINIBATCH.release.read_bytes(), (
        f"{MINIBATCH.release} is stale: regenerate it with release(get({MINIBATCH.name!r}))"
    )


def test_no_solution_text_survives():
    regions = [r for c in SOLUTION.cells for r in REGION.findall(c.source)]
    assert len(regions) >= len(MINIBATCH.ids)
    released = "\n".join(c.source for c in RELEASED.cells)
    for region in regions:
        assert region not in released, f"solution text leaked into the release:\n{region}"
    assert "BEGIN SOLUTION" not in released and "END SOLUTION" not in released


def test_each_solution_region_becomes_a_stub():
    solution, released = cells_by_id(SOLUTION), cells_by_id(RELEASED)
    for gid in MINIBATCH.ids:
        n_regions = len(REGION.findall(solution[gid][0].source))
        assert released[gid][0].source.count("raise NotImplementedError()") == n_regions, gid


def test_stubs_keep_names_and_signatures():
    solution, released = cells_by_id(SOLUTION), cells_by_id(RELEASED)
    for ex in MINIBATCH.exercises:
        stub = defined(released[ex.grade_id][0].source)
        assert sorted(stub) == sorted(ex.defines), ex.grade_id
        assert stub == defined(solution[ex.grade_id][0].source), ex.grade_id


def test_one_cell_per_exercise_in_order():
    ids = cells_by_id(RELEASED)
    for gid in [MINIBATCH.setup_id, *MINIBATCH.ids]:
        assert len(ids.get(gid, [])) == 1, f"{gid}: {len(ids.get(gid, []))} cells"
    answers = [c.metadata.nbgrader["grade_id"] for c in RELEASED.cells if is_solution(c)]
    assert answers == MINIBATCH.ids


def test_cells_are_locked_as_nbgrader_would():
    ids = cells_by_id(RELEASED)
    setup = ids[MINIBATCH.setup_id][0]
    assert setup.metadata.editable is False and setup.metadata.deletable is False
    for gid in MINIBATCH.ids:
        (answer,), (check,) = ids[gid], ids[f"{gid}_selfcheck"]
        assert answer.metadata.deletable is False and "editable" not in answer.metadata
        assert check.metadata.editable is False and check.metadata.nbgrader["points"] == 0
    for cell in RELEASED.cells:
        if "nbgrader" in cell.metadata:  # nbgrader validate flags cells whose checksum is off
            assert cell.metadata.nbgrader["checksum"] == compute_checksum(cell)


def test_release_has_no_outputs_or_volatile_metadata():
    assert set(RELEASED.metadata) == {"kernelspec", "autograder"}
    assert RELEASED.metadata["autograder"] == {"assignment": "minibatch"}  # which one it is
    for cell in RELEASED.cells:
        assert set(cell.metadata) <= {"nbgrader", "deletable", "editable"}
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    nbformat.validate(RELEASED)


# Each step on tiny notebooks


def test_function_stub():
    head = 'def double(x):\n    "Twice x."\n'
    src = head + "    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
    (cell,) = release_notebook(tiny(new_code_cell(src, metadata=nbg("d", solution=True)))).cells
    assert cell.source == head + "    " + STUB.format("    ")
    assert cell.metadata.deletable is False
    assert cell.metadata.nbgrader["checksum"] == compute_checksum(cell)


def test_class_stub_keeps_every_method():
    src = (
        "class Box:\n"
        "    def __init__(self, v):\n"
        "        ### BEGIN SOLUTION\n"
        "        self.v = v\n"
        "        ### END SOLUTION\n"
        "\n"
        "    def get(self):\n"
        "        ### BEGIN SOLUTION\n"
        "        return self.v\n"
        "        ### END SOLUTION"
    )
    (cell,) = release_notebook(tiny(new_code_cell(src, metadata=nbg("b", solution=True)))).cells
    stub = "        " + STUB.format("        ")
    want = f"class Box:\n    def __init__(self, v):\n{stub}\n\n    def get(self):\n{stub}"
    assert cell.source == want
    ns = {}
    exec(cell.source, ns)
    with pytest.raises(NotImplementedError):
        ns["Box"](1)


def test_solution_cell_without_markers_is_replaced_whole():
    cell = new_code_cell("answer = 42", metadata=nbg("a", solution=True))
    assert release_notebook(tiny(cell)).cells[0].source == STUB.format("")


def test_hidden_tests_are_removed_and_visible_ones_kept():
    src = "assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS"
    cell = new_code_cell(src, metadata=nbg("t", grade=True, locked=True, points=1))
    (out,) = release_notebook(tiny(cell)).cells
    assert out.source == "assert f(1) == 2"
    assert out.metadata.editable is False and out.metadata.deletable is False


def test_solution_region_outside_a_solution_cell_is_refused():
    src = "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"
    with pytest.raises(RuntimeError, match="non-solution cell"):
        release_notebook(tiny(new_code_cell(src)))


def test_duplicate_grade_ids_are_refused():
    cells = [new_code_cell("x = 1", metadata=nbg("same", solution=True)) for _ in range(2)]
    with pytest.raises(ValidationError):
        release_notebook(tiny(*cells))


def test_outputs_counts_and_volatile_metadata_are_stripped():
    cell = new_code_cell("1 + 1", metadata={"collapsed": True, "ExecuteTime": {"x": 1}})
    cell.outputs, cell.execution_count = [new_output("execute_result", {"text/plain": "2"})], 7
    nb = tiny(cell, new_markdown_cell("hi", metadata={"tags": ["x"]}))
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    before = nbformat.writes(nb)
    out = release_notebook(nb)
    assert nbformat.writes(nb) == before, "the input notebook must not be modified"
    assert set(out.metadata) == {"kernelspec"}
    assert out.cells[0].outputs == [] and out.cells[0].execution_count is None
    assert out.cells[0].metadata == {} and out.cells[1].metadata == {}
    assert nbformat.writes(release_notebook(nb)) == nbformat.writes(out)
