"""The instructor notebook is well-formed for nbgrader, and nbgrader's release agrees with ours."""

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.assignment import get

MINIBATCH = get("minibatch")

SOLUTION = nbformat.read(MINIBATCH.solution, as_version=4)
BUILD_SCRIPT = MINIBATCH.solution.parent / "build_notebook.py"


def graded(nb):
    "The cells that carry nbgrader metadata, in notebook order."
    return [c for c in nb.cells if "nbgrader" in c.metadata]


def exercise_cells(nb):
    return [c for c in graded(nb) if c.metadata.nbgrader["solution"]]


def top_level_names(source):
    tree = ast.parse(source)
    return sorted(n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef))


def test_one_solution_cell_per_exercise_in_table_order():
    cells = exercise_cells(SOLUTION)
    assert [c.metadata.nbgrader["grade_id"] for c in cells] == MINIBATCH.ids
    for cell, ex in zip(cells, MINIBATCH.exercises):
        meta = cell.metadata.nbgrader
        assert meta["schema_version"] == 3 and meta["grade"] is False and meta["locked"] is False
        assert cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source
        assert top_level_names(cell.source) == sorted(ex.defines), ex.grade_id


def test_setup_cell_is_locked_and_only_imports():
    (setup,) = [c for c in graded(SOLUTION) if c.metadata.nbgrader["grade_id"] == "setup"]
    meta = setup.metadata.nbgrader
    assert meta["locked"] and not meta["solution"] and not meta["grade"]
    body = ast.parse(setup.source).body
    assert body and all(isinstance(n, ast.Import | ast.ImportFrom) for n in body)
    assert SOLUTION.cells.index(setup) < SOLUTION.cells.index(exercise_cells(SOLUTION)[0])


def test_every_exercise_has_a_zero_point_selfcheck_after_it():
    ids = [c.metadata.nbgrader["grade_id"] for c in graded(SOLUTION)]
    for gid in MINIBATCH.ids:
        check = f"{gid}_selfcheck"
        assert check in ids and ids.index(check) > ids.index(gid), gid
    for cell in graded(SOLUTION):
        if cell.metadata.nbgrader["grade"]:
            assert cell.metadata.nbgrader["points"] == 0 and cell.metadata.nbgrader["locked"]
            ast.parse(cell.source)


def test_solutions_pass_the_selfchecks_with_only_the_setup_cell():
    ns = {}  # setup, then each answer and its self-check: exactly the cells the grader sees
    for cell in graded(SOLUTION):
        exec(compile(cell.source, cell.metadata.nbgrader["grade_id"], "exec"), ns)
    assert all(name in ns for ex in MINIBATCH.exercises for name in ex.defines)


def test_committed_without_outputs():
    for cell in SOLUTION.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert SOLUTION.metadata.kernelspec.name == "python3"
    nbformat.validate(SOLUTION)


def test_build_script_reproduces_the_committed_notebook(tmp_path):
    spec = importlib.util.spec_from_file_location("build_notebook", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path / "nb.ipynb")
    assert (tmp_path / "nb.ipynb").read_bytes() == MINIBATCH.solution.read_bytes(), (
        f"{MINIBATCH.solution} differs from what {BUILD_SCRIPT.name} writes: rerun the script"
    )


def generate_with_nbgrader(root: Path) -> subprocess.CompletedProcess:
    "Run `nbgrader generate_assignment` in a throwaway course rooted at root."
    source = root / "source" / MINIBATCH.name
    source.mkdir(parents=True)
    (source / MINIBATCH.notebook).write_bytes(MINIBATCH.solution.read_bytes())
    config = f'c.CourseDirectory.root = {str(root)!r}\nc.CourseDirectory.course_id = "test"\n'
    (root / "nbgrader_config.py").write_text(config)
    env = os.environ | {"JUPYTER_CONFIG_DIR": str(root / ".jupyter")}  # ignore the user's config
    # nbgrader shells out to `alembic` for its gradebook: find it next to this interpreter
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", MINIBATCH.name, "--force"]
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)


def test_nbgrader_generate_assignment_agrees_with_our_release(tmp_path):
    run = generate_with_nbgrader(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    out = tmp_path / "release" / MINIBATCH.name / MINIBATCH.notebook
    assert out.exists(), run.stdout + run.stderr
    theirs = nbformat.read(out, as_version=4)
    text = "\n".join(c.source for c in theirs.cells)
    assert "BEGIN SOLUTION" not in text and "raise NotImplementedError()" in text
    ours = nbformat.read(MINIBATCH.release, as_version=4)
    assert [c.source for c in theirs.cells] == [c.source for c in ours.cells]
    for mine, nbg in zip(ours.cells, theirs.cells):
        assert mine.metadata.get("nbgrader") == nbg.metadata.get("nbgrader")
