"""The notebook's self-check cells run the exercise's public tests: one truth with the grader.

`autograder.selfcheck.check(grade_id)` grades the definitions in the caller's namespace (a
notebook's kernel) with the same public tests, inputs and expected answers as `autograder check`
and `pytest`. Here: the lesson's code passes every self-check; for every known bug the self-check
fails exactly when grading the notebook finds a failing public check; a stub says it is not
implemented yet; the notebook's self-check cells call it; and running the solution notebook top to
bottom in a Jupyter kernel turns every self-check green.
"""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from autograder.assignment import get
from autograder.selfcheck import FAIL, PASS, check
from tests.bank import BUGS, LESSON, SETUP, grade_id, make_submission

A = get("minibatch")
SOURCE = 'from autograder.selfcheck import check\ncheck("{}")'


def namespace(replace: dict[str, str] | None = None) -> dict:
    "The setup cell, then every exercise cell in order: the lesson's, or the replacement's."
    ns: dict = {"__name__": "__main__"}
    exec(SETUP, ns)
    for gid in A.ids:
        exec(compile((replace or {}).get(gid, LESSON[gid]), gid, "exec"), ns)
    return ns


def selfcheck(gid: str, ns: dict, capsys) -> tuple[bool, str]:
    "Whether check(gid) passed on ns, and what it printed."
    try:
        check(gid, namespace=ns)
        passed = True
    except AssertionError as e:
        assert str(e).endswith(f"public checks of {gid} fail"), e
        passed = False
    return passed, capsys.readouterr().out


def test_the_lesson_passes_every_selfcheck(capsys):
    ns = namespace()
    for gid in A.ids:
        passed, out = selfcheck(gid, ns, capsys)
        assert passed, out
        lines = out.splitlines()
        assert lines and all(line.startswith(f"{PASS} ") for line in lines), out


def test_check_uses_the_callers_namespace_by_default(capsys):
    ns = namespace()
    exec(SOURCE.format("softmax"), ns)  # as the notebook's cell runs it
    assert capsys.readouterr().out.startswith(f"{PASS} ")
    exec(BUGS["softmax"][0].source, ns)
    with pytest.raises(AssertionError, match="1 of 1 public checks of softmax fail"):
        exec(SOURCE.format("softmax"), ns)
    out = capsys.readouterr().out
    assert out.startswith(f"{FAIL} ") and "\n    Hint: " in out, out


def test_check_finds_the_assignment_or_takes_it():
    ns = namespace()
    check("nll", "minibatch", namespace=ns)
    with pytest.raises(KeyError, match="no exercise 'nope'"):
        check("nope", "minibatch", namespace=ns)
    with pytest.raises(KeyError, match="no known assignment has an exercise 'nope'"):
        check("nope", namespace=ns)


def test_a_stub_is_not_implemented_yet(capsys):
    released = nbformat.read(A.release, as_version=4)
    stubs = {grade_id(c): c.source for c in released.cells if grade_id(c) in A.ids}
    ns = namespace()
    for gid in A.ids:
        exec(stubs[gid], ns)
        passed, out = selfcheck(gid, ns, capsys)
        fails = [line for line in out.splitlines() if line.startswith(FAIL)]
        assert not passed and fails, out
        assert all("not implemented yet" in line for line in fails), out
        exec(LESSON[gid], ns)  # later exercises are graded on the lesson's code again


def test_a_name_not_defined_yet_says_run_the_cell():
    ns = namespace()
    del ns["collate"]
    with pytest.raises(AssertionError, match="`collate` is not defined yet: run the cell"):
        check("collate", namespace=ns)


def test_interrupting_a_selfcheck_interrupts_the_cell():
    "An endless loop is stopped with the kernel's interrupt: that must not read as a pass."
    ns = namespace()
    exec("def softmax(x):\n    raise KeyboardInterrupt", ns)
    with pytest.raises(KeyboardInterrupt):
        check("softmax", namespace=ns)


def test_a_selfcheck_leaves_the_students_random_state_alone():
    import random

    ns = namespace()
    random.seed(7)
    want = [random.random() for _ in range(3)]
    random.seed(7)
    check("sampler", namespace=ns)  # its probes seed `random` for the shuffles
    assert [random.random() for _ in range(3)] == want


def test_selfcheck_fails_exactly_when_grading_finds_a_failing_public_check(tmp_path, capsys):
    """Every bug of the bank, graded by the real pipeline (worker, cells, `autograder check`'s
    options) and self-checked in process. Bug k of every exercise shares notebook k (they are
    graded independently: stand-ins), so 58 bugs cost 6 workers; every exercise of each notebook
    is compared, the untouched ones too."""
    from autograder.batch import grade_batch
    from autograder.grade import Options

    width = max(len(bugs) for bugs in BUGS.values())
    sets = [{g: bugs[k].source for g, bugs in BUGS.items() if k < len(bugs)} for k in range(width)]
    paths = [make_submission(tmp_path / f"bugs{k}.ipynb", s) for k, s in enumerate(sets)]
    opts = Options(hidden=False, training=False, seed=0)
    grade_batch(paths, tmp_path / "out", workers=2, options=opts, progress=lambda *a: None,
                feedback=False)  # fmt: skip
    outcomes = set()
    for k, replace in enumerate(sets):
        report = json.loads((tmp_path / "out" / f"bugs{k}" / "report.json").read_text())
        ns = namespace(replace)
        for gid in A.ids:
            checks = report["exercises"][gid]["checks"]
            graded_fails = [c for c in checks if not c["passed"] and not c["hidden"]]
            passed, out = selfcheck(gid, ns, capsys)
            bug = next((b.name for b in BUGS[gid] if b.source == replace.get(gid)), "lesson")
            assert passed == (not graded_fails), (
                f"notebook {k}, {gid} ({bug}): the self-check {'passes' if passed else 'fails'}"
                f" but grading says {[(c['name'], c['message'][:200]) for c in graded_fails]}"
                f"\nself-check:\n{out}"
            )
            outcomes.add((gid in replace, passed))
    # not vacuous: bugs the public checks catch, bugs only hidden ones catch, clean exercises pass
    assert {(True, False), (True, True), (False, True)} <= outcomes, outcomes


def test_the_notebooks_selfcheck_cells_run_the_public_tests():
    for path in (A.solution, A.release):
        nb = nbformat.read(path, as_version=4)
        cells = {grade_id(c): c for c in nb.cells if grade_id(c)}
        for gid in A.ids:
            cell = cells[f"{gid}_selfcheck"]
            meta = cell.metadata.nbgrader
            assert cell.source == SOURCE.format(gid), (path, gid)
            assert meta["grade"] and meta["locked"] and meta["points"] == 0, (path, gid)
            assert not meta["solution"], (path, gid)


BUNDLE_SCRIPT = """
import json, sys
import autograder
from autograder.oracle import Oracle
from autograder.selfcheck import check
setup, cells = json.load(open(sys.argv[1]))
assert Oracle(None, "minibatch").ns is None, "the bundle ships no reference"
print(autograder.__file__)
ns = {}
exec(setup, ns)
for gid, src in cells:
    exec(src, ns)
    try:
        check(gid, namespace=ns)
    except AssertionError as e:
        print("AssertionError:", e)
"""


def test_check_in_the_student_bundle_replays_recorded_answers(tmp_path):
    "The bundle has no reference: its self-checks compare with the answers recorded at release."
    import os
    import subprocess
    import sys

    from autograder.bundle import build_bundle

    bundle = build_bundle(A, tmp_path / "bundle")
    released = nbformat.read(A.release, as_version=4)
    stub = next(c.source for c in released.cells if grade_id(c) == "softmax")
    cells = [*LESSON.items(), ("softmax", BUGS["softmax"][0].source), ("softmax", stub)]
    (tmp_path / "cells.json").write_text(json.dumps([SETUP, cells]))
    script = tmp_path / "run.py"
    script.write_text(BUNDLE_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(bundle)}
    run = subprocess.run([sys.executable, str(script), str(tmp_path / "cells.json")], cwd=bundle,
                         env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    out = run.stdout
    assert run.returncode == 0 and out.startswith(str(bundle)), out + run.stderr
    verdicts = [line for line in out.splitlines() if line.startswith("AssertionError")]
    assert verdicts == ["AssertionError: 1 of 1 public checks of softmax fail"] * 2, out
    assert "Hint: you normalised over dim 0" in out and "not implemented yet" in out, out
    assert sum(line.startswith(FAIL) for line in out.splitlines()) == 2, out  # the lesson passes


@pytest.mark.slow
def test_the_completed_notebook_runs_green_in_the_student_bundle(tmp_path):
    """Every cell of the completed notebook, in a real Jupyter kernel started in the student
    bundle's folder, as its README says (the bundle's own kit, recorded answers, no reference;
    MNIST from the data cache): each self-check prints only passes."""
    from nbclient import NotebookClient

    from autograder.bundle import build_bundle

    bundle = build_bundle(A, tmp_path / "bundle")
    copy = shutil.copy(A.solution, bundle / A.notebook)  # the student's finished work
    nb = nbformat.read(copy, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import autograder\nprint(autograder.__file__)"))
    client = NotebookClient(
        nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(bundle)}}
    )
    client.execute()  # a cell that raises fails here, naming it
    where = "".join(o.get("text", "") for o in nb.cells[-1].outputs).strip()
    assert where == str(bundle / "autograder" / "__init__.py")  # the bundle's kit, not ours
    for gid in A.ids:
        (cell,) = [c for c in nb.cells if grade_id(c) == f"{gid}_selfcheck"]
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        lines = text.splitlines()
        assert lines and all(line.startswith(f"{PASS} ") for line in lines), (gid, text)
        assert not [o for o in cell.outputs if o.output_type == "error"], gid
