"""`scaffold`: a new assignment's files are valid, refer to each other, and grade as they should."""

from __future__ import annotations

import ast
import importlib.util
import sys

import nbformat
import pytest

from autograder import assignment, oracle, release
from autograder.assignment import Assignment, Exercise
from autograder.bank import make_submission
from autograder.checks import Check, Run
from autograder.grade import Options, grade_notebook
from autograder.new import EXAMPLE, ScaffoldError, scaffold, snippet
from autograder.validate import bug_problems, full_marks

NAME = "scaffolded"


def load(path, name=None):
    "Import a module from its file, as a test would see a new checks module."
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def made(tmp_path):
    paths = scaffold(NAME, tmp_path, say=lambda _: None)
    return tmp_path, dict(zip(["notebook", "checks", "hidden", "reference", "bank"], paths))


def nbg(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def test_files(made):
    root, p = made
    assert p["notebook"] == root / "solutions" / NAME / f"{NAME}.ipynb"
    assert p["checks"] == root / "autograder" / "checks" / f"{NAME}.py"
    assert p["hidden"] == root / "autograder" / "checks" / f"{NAME}_hidden.py"
    assert all(path.exists() for path in p.values())


def test_notebook_is_a_valid_nbgrader_source(made):
    _, p = made
    nb = nbformat.read(p["notebook"], as_version=4)
    nbformat.validate(nb)
    graded = {nbg(c)["grade_id"]: c for c in nb.cells if nbg(c)}
    assert list(graded) == ["setup", EXAMPLE, f"{EXAMPLE}_selfcheck"]
    setup, ex, check = graded.values()
    assert nbg(setup)["locked"] and not nbg(setup)["solution"] and not nbg(setup)["grade"]
    assert nbg(ex)["solution"] and not nbg(ex)["locked"] and not nbg(ex)["grade"]
    assert "### BEGIN SOLUTION" in ex.source and "### END SOLUTION" in ex.source
    assert nbg(check)["grade"] and nbg(check)["locked"] and nbg(check)["points"] == 0
    assert all(nbg(c)["schema_version"] == 3 for c in graded.values())
    ns: dict = {}  # the solution passes its own self-check
    for cell in graded.values():
        exec(compile(cell.source, nbg(cell)["grade_id"], "exec"), ns)
    stub = release.release_notebook(nb)  # nbgrader's preprocessors accept it
    text = "\n".join(c.source for c in stub.cells)
    assert "raise NotImplementedError()" in text and "BEGIN SOLUTION" not in text


def test_checks_modules_refer_to_their_runs(made):
    _, p = made
    for role, hidden in (("checks", False), ("hidden", True)):
        mod = load(p[role], f"_{role}")
        assert mod.RUNS and mod.CHECKS
        assert all(isinstance(r, Run) and r.exercise == EXAMPLE for r in mod.RUNS)
        runs = {r.name for r in mod.RUNS}
        for c in mod.CHECKS:
            assert isinstance(c, Check) and c.run in runs and c.hidden is hidden
        assert all(r.fixed_seed is not hidden for r in mod.RUNS)  # hidden ones are randomized
    mod = load(p["reference"], "_reference")
    assert callable(getattr(mod, EXAMPLE))


@pytest.mark.parametrize(
    "bad, why",
    [
        ("2fast", "not a valid assignment name"),
        ("Attention", "not a valid assignment name"),
        ("has-dash", "not a valid assignment name"),
        ("class", "not a valid assignment name"),
        ("", "not a valid assignment name"),
        ("x" * 41, "not a valid assignment name"),
        ("week2_hidden", "reserved"),
        ("common", "reserved"),
        ("minibatch", "already exists"),
    ],
)
def test_refuses_bad_names(tmp_path, bad, why):
    with pytest.raises(ScaffoldError, match=why):
        scaffold(bad, tmp_path, say=lambda _: None)
    assert not any(tmp_path.iterdir())  # nothing written


def test_refuses_an_existing_assignment_and_keeps_its_files(made):
    root, p = made
    before = {k: v.read_bytes() for k, v in p.items()}
    with pytest.raises(ScaffoldError, match="already has files"):
        scaffold(NAME, root, say=lambda _: None)
    assert {k: v.read_bytes() for k, v in p.items()} == before


def test_prints_the_snippet_to_paste(tmp_path):
    said = []
    scaffold("week3", tmp_path, say=said.append)
    text = "\n".join(said)
    assert snippet("week3") in text and "autograder release --assignment week3" in text
    code = snippet("week3")
    ast.parse(code)
    first = code.split("# 2.")[0]
    ns = {"Assignment": Assignment, "E": Exercise, "MINIBATCH": assignment.MINIBATCH}
    exec(first, ns)
    a = ns["WEEK3"]
    assert a.name == "week3" and a.ids == [EXAMPLE]
    assert set(ns["ASSIGNMENTS"]) == {"minibatch", "week3"}


def test_scaffold_grades_end_to_end(made, monkeypatch):
    "Registered as the snippet says: solution full marks, stubs zero, the bank behaves."
    root, p = made
    a = Assignment(NAME, (Exercise(EXAMPLE, (EXAMPLE,), "the ReLU activation"),))
    monkeypatch.setattr(assignment, "ROOT", root)  # solutions/ and assignments/ under root
    monkeypatch.setitem(assignment.ASSIGNMENTS, NAME, a)
    for role, mod in (("checks", NAME), ("hidden", f"{NAME}_hidden")):
        monkeypatch.setitem(sys.modules, f"autograder.checks.{mod}", load(p[role], mod))
    ref = load(p["reference"], "_ref")
    monkeypatch.setattr(oracle, "reference_namespace", lambda: dict(vars(ref)))
    release.release(a)
    opts = Options(seed=3, assignment=NAME)

    def grade(path):
        return grade_notebook(path, hidden=True, training=False, options=opts)

    sol = grade(a.solution)
    assert sol.score == sol.max_score == 2.0, full_marks(sol)
    stub = grade(a.release)
    assert stub.score == 0
    assert all("not implemented yet" in c.message for c in stub.exercises[EXAMPLE].checks)
    bank = load(p["bank"], "_bank")
    tmp = root / "bank-cases"
    cases = [("lesson", bank.LESSON)] + [
        (f"alt-{label}", {g: src}) for g, alts in bank.ALTERNATIVES.items() for label, src in alts
    ]
    for label, replace in cases:
        r = grade(make_submission(tmp / f"{label}.ipynb", replace, base=a.solution))
        assert not full_marks(r, set(a.ids)), label
    for gid, bugs in bank.BUGS.items():
        for bug in bugs:
            r = grade(make_submission(tmp / f"{bug.name}.ipynb", {gid: bug.source}, a.solution))
            assert not bug_problems(r, bug, gid, a.ids), bug.name
