"""`scaffold`: a new assignment's folder is valid, refers to itself, and grades as it should."""

from __future__ import annotations

import importlib.util
import sys

import nbformat
import pytest

import reference
from autograder import assignment, bank, forbidden, oracle, release
from autograder.grade import Options, grade_notebook
from autograder.new import EXAMPLE, ScaffoldError, scaffold, selfcheck_source, targets
from autograder.runner import collect
from autograder.validate import bug_problems, declared_hints, full_marks, hint_problems

NAME = "scaffolded"
QUIET = lambda _: None  # noqa: E731


def load(path, name):
    "Import a module from its file, as the engine loads a bank."
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def made(tmp_path):
    paths = scaffold(NAME, tmp_path, say=QUIET)
    return tmp_path, dict(zip(targets(NAME, tmp_path), paths))


@pytest.fixture
def kit(tmp_path, monkeypatch):
    """A kit rooted at tmp_path: assignments are discovered there and `reference.NAME` imports
    from tmp_path/reference, so nothing is written into the real kit."""
    monkeypatch.setattr(assignment, "ROOT", tmp_path)
    monkeypatch.setattr(reference, "__path__", [*reference.__path__, str(tmp_path / "reference")])
    yield tmp_path
    assignment.ASSIGNMENTS.pop(NAME, None)
    for mod in (f"reference.{NAME}", f"_ag_bank_{NAME}"):
        sys.modules.pop(mod, None)


def nbg(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def test_one_folder_and_the_reference(made):
    root, p = made
    folder = root / "solutions" / NAME
    assert p["notebook"] == folder / f"{NAME}.ipynb"
    assert p["toml"] == folder / "assignment.toml" and p["bank"] == folder / "bank.py"
    assert p["public"] == folder / "tests" / f"test_{EXAMPLE}.py"
    assert p["hidden"] == folder / "tests" / "hidden" / f"test_{EXAMPLE}.py"
    assert p["reference"] == root / "reference" / f"{NAME}.py"
    written = {f for f in root.rglob("*") if f.is_file()}
    assert written == set(p.values())  # nothing else: no registration, no edits


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
    assert check.source == f'from autograder.selfcheck import check\ncheck("{EXAMPLE}", "{NAME}")'
    assert check.source == selfcheck_source(EXAMPLE, NAME)
    assert all(nbg(c)["schema_version"] == 3 for c in graded.values())
    ns: dict = {}  # the setup and the solution run, and the solution is right
    for cell in (setup, ex):
        exec(compile(cell.source, nbg(cell)["grade_id"], "exec"), ns)
    t = ns["tensor"]([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.25]])
    assert ns[EXAMPLE](t).tolist() == [[1.0, 0.0, 4.0], [9.0, 0.25, 0.0625]]
    stub = release.release_notebook(nb)  # nbgrader's preprocessors accept it
    text = "\n".join(c.source for c in stub.cells)
    assert "raise NotImplementedError()" in text and "BEGIN SOLUTION" not in text


def test_the_files_refer_to_each_other(made):
    "The toml names the notebook's cells; tests, bank and reference are about its exercise."
    root, p = made
    a = assignment.load(p["toml"])
    nb = nbformat.read(p["notebook"], as_version=4)
    assert a.name == NAME and a.notebook == p["notebook"].name and a.ids == [EXAMPLE]
    e = a.exercise(EXAMPLE)
    assert e.defines == (EXAMPLE,) and e.title and e.methods
    assert {"torch.square", "torch.pow", "torch.Tensor.__pow__", "torch.ops"} <= set(e.forbidden)
    assert a.setup_id == "setup" and not a.runs  # no graded run without a cell
    cells = {nbg(c).get("grade_id"): c.source for c in nb.cells}
    assert a.setup_id in cells and set(a.ids) <= set(cells)
    tests = collect(p["public"].parent, hidden=True)
    assert {t.exercise for t, _ in tests} == {EXAMPLE}
    assert {t.hidden for t, _ in tests} == {False, True} and all(pts > 0 for _, pts in tests)
    mod = load(p["bank"], "_scaffold_bank")
    assert set(mod.LESSON) == set(mod.ALTERNATIVES) == set(mod.BUGS) == {EXAMPLE}
    hints = p["public"].read_text()
    for bug in mod.BUGS[EXAMPLE]:  # the hint for the bug says one of its words
        assert any(w in hints for w in bug.words), bug.name
    ref = load(p["reference"], "_scaffold_reference")
    assert callable(getattr(ref, EXAMPLE))
    # correct answers and the bug do their own work: only the tests may catch the bug
    sources = [cells[EXAMPLE], mod.LESSON[EXAMPLE], *(s for _, s in mod.ALTERNATIVES[EXAMPLE])]
    for src in [*sources, *(b.source for b in mod.BUGS[EXAMPLE])]:
        assert forbidden.shortcuts(EXAMPLE, src, cells["setup"], a) == [], src
    assert forbidden.shortcuts(EXAMPLE, "def square(x):\n    return x.square()\n", "", a)
    assert forbidden.shortcuts(EXAMPLE, "def square(x):\n    return torch.pow(x, 2)\n", "", a)


def test_scaffold_writes_little_test_code(made):
    _, p = made
    lines = sum(len(p[k].read_text().splitlines()) for k in ("public", "hidden"))
    assert lines < 80, lines


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
        ("reference", "reserved"),
        ("minibatch", "already exists"),
    ],
)
def test_refuses_bad_names(tmp_path, bad, why):
    with pytest.raises(ScaffoldError, match=why):
        scaffold(bad, tmp_path, say=QUIET)
    assert not any(tmp_path.iterdir())  # nothing written


def test_refuses_an_existing_assignment_and_keeps_its_files(made):
    root, p = made
    before = {k: v.read_bytes() for k, v in p.items()}
    with pytest.raises(ScaffoldError, match="already has files"):
        scaffold(NAME, root, say=QUIET)
    assert {k: v.read_bytes() for k, v in p.items()} == before


@pytest.mark.parametrize(
    "where", ["solutions/week4", "assignments/week4", "reference/week4.py"], ids=str
)
def test_refuses_a_name_with_any_file_left(tmp_path, where):
    (tmp_path / where).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / where).mkdir() if "." not in where else (tmp_path / where).write_text("")
    with pytest.raises(ScaffoldError, match="already has files"):
        scaffold("week4", tmp_path, say=QUIET)
    assert not (tmp_path / "solutions" / "week4" / "assignment.toml").exists()


def test_prints_the_files_and_what_to_run_next(tmp_path):
    said = []
    scaffold("week3", tmp_path, say=said.append)
    text = "\n".join(said)
    assert "solutions/week3/assignment.toml" in text and "reference/week3.py" in text
    assert "autograder release --assignment week3" in text
    assert "autograder validate --assignment week3 --no-training" in text
    assert "paste" not in text  # no edits left to the instructor


def test_selfcheck_cell_runs_the_public_tests(kit, capsys):
    "The notebook's cells, run as Jupyter would: the self-check passes, and fails on the stub."
    scaffold(NAME, kit, say=QUIET)
    a = assignment.get(NAME)
    release.release(a)

    def run(path):
        ns: dict = {}
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                exec(compile(cell.source, nbg(cell).get("grade_id", "cell"), "exec"), ns)

    run(a.solution)
    assert "small_batch" in capsys.readouterr().out
    with pytest.raises(AssertionError, match=f"public checks of {EXAMPLE} fail"):
        run(a.release)
    assert "not implemented yet" in capsys.readouterr().out


def test_scaffold_grades_end_to_end(kit):
    "Discovered with no edit: solution full marks, stub zero, the bank's cases behave."
    scaffold(NAME, kit, say=QUIET)
    a = assignment.get(NAME)
    assert a.folder == kit / "solutions" / NAME and a.tests.is_dir()
    assert oracle.reference_namespace(NAME)[EXAMPLE].__module__ == f"reference.{NAME}"
    release.release(a)
    # the public tests pass on the reference and ask only seed-free questions (the bundle's)
    assert oracle.record_calls(a.tests, oracle.reference_namespace(NAME), NAME)
    opts = Options(seed=0, assignment=NAME)
    grade = lambda path: grade_notebook(path, training=False, options=opts)  # noqa: E731

    sol = grade(a.solution)
    assert sol.score == sol.max_score == 3.0, full_marks(sol)
    assert not sol.meta.get("instructor_errors")
    stub = grade(a.release)
    assert stub.score == 0
    checks = [c for c in stub.exercises[EXAMPLE].checks if c.max_score]
    assert len(checks) == 3 and all("not implemented yet" in c.message for c in checks)
    for kind, label, replace in bank.cases(a):
        r = grade(bank.make_submission(kit / "cases" / f"{kind}.ipynb", replace, a.solution))
        if kind != "bug":
            assert not full_marks(r, set(a.ids)), (kind, label)
            continue
        gid, bug = label
        assert not bug_problems(r, bug, gid, a.ids), bug.name
        assert not hint_problems(r, bug, gid), bug.name  # each hint fires for its bug only
        assert r.exercises[gid].score < r.exercises[gid].max_score
    declared, unreadable = declared_hints(a.tests)
    claimed = [h for _, b in (lb for k, lb, _ in bank.cases(a) if k == "bug") for h in b.hints]
    assert not unreadable and all(any(c in d for c in claimed) for d in declared), declared
    # `x ** 2` has no name in the source: the worker sees torch.Tensor.__pow__ while it runs
    pow_cell = {EXAMPLE: f"def {EXAMPLE}(x):\n    return x ** 2\n"}
    r = grade(bank.make_submission(kit / "cases" / "pow.ipynb", pow_cell, a.solution))
    own = next(c for c in r.exercises[EXAMPLE].checks if c.name == "own_implementation")
    assert r.exercises[EXAMPLE].score == 0 and not own.passed
    assert "torch.Tensor.__pow__" in own.message, own.message
