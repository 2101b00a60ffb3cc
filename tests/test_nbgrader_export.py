"""Scores written into a real nbgrader gradebook: a throwaway course, written, read back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import report, scoring
from autograder.assignment import get
from autograder.model import Report
from autograder.nbgrader_export import ExportError, export_folder, write_gradebook

TRAINING_ID = get("minibatch").runs[0].grade_id  # its graded MNIST run

nbgrader_api = pytest.importorskip("nbgrader.api")
A = get("minibatch")
COURSE = "test"


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory) -> str:
    "A course with the assignment generated (so the gradebook knows its cells); its db URL."
    root = tmp_path_factory.mktemp("course")
    source = root / "source" / A.name
    source.mkdir(parents=True)
    (source / A.notebook).write_bytes(A.solution.read_bytes())
    config = f'c.CourseDirectory.root = {str(root)!r}\nc.CourseDirectory.course_id = "{COURSE}"\n'
    (root / "nbgrader_config.py").write_text(config)
    env = os.environ | {"JUPYTER_CONFIG_DIR": str(root / ".jupyter")}
    # nbgrader shells out to `alembic` for its gradebook: find it next to this interpreter
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", A.name, "--force"]
    run = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (root / "gradebook.db").exists()
    return f"sqlite:///{root / 'gradebook.db'}"


def make_report(name: str, lose: dict[str, float] | None = None, training=True) -> Report:
    "Every exercise with one 2-point check (passing unless in lose) and the MNIST run (5)."
    lose = lose or {}
    exercises = {}
    for gid in A.ids:
        ok = gid not in lose
        checks = [scoring.result(gid, "works", ok, 2.0, False, "" if ok else f"{gid}: wrong")]
        exercises[gid] = scoring.exercise_score(gid, checks)
    mnist = [scoring.result(TRAINING_ID, "reaches_accuracy", training, 5.0, False, "too low")]
    exercises[TRAINING_ID] = scoring.exercise_score(TRAINING_ID, mnist)
    return Report(name, exercises, {})


def read_back(db_url: str, student: str) -> dict:
    with nbgrader_api.Gradebook(db_url, course_id=COURSE) as gb:
        sub = gb.find_submission(A.name, student)
        grades = {g.name: g.to_dict() for nb in sub.notebooks for g in nb.grades}
        comments = {c.name: c.comment for nb in sub.notebooks for c in nb.comments}
        return {"score": sub.score, "max": sub.max_score, "grades": grades, "comments": comments}


def test_scores_land_on_the_selfcheck_grade_cells(gradebook):
    r = make_report("alice", lose={"nll": 2.0}, training=False)
    written = write_gradebook(r, gradebook, A.name, "alice", course_id=COURSE)
    assert set(written) == {f"{gid}_selfcheck" for gid in A.ids}
    assert written["nll_selfcheck"] == (0.0, 2.0)
    assert written["fit_selfcheck"] == (2.0, 7.0)  # fit's 2 and the MNIST run's 5 (failed)
    got = read_back(gradebook, "alice")
    assert (got["score"], got["max"]) == (r.score, r.max_score) == (24.0, 31.0)
    g = got["grades"]["softmax_selfcheck"]
    assert (g["auto_score"], g["max_score"], g["manual_score"]) == (2.0, 2.0, None)
    assert g["needs_manual_grade"] is False
    assert got["grades"]["nll_selfcheck"]["auto_score"] == 0.0
    assert got["comments"]["nll"].startswith("autograder: 0 / 2 points\n✗ works: nll: wrong")
    assert "every check passed" in got["comments"]["softmax"]
    assert f"includes {TRAINING_ID}: 0 / 5 points" in got["comments"]["fit"]


def test_export_again_updates_in_place(gradebook):
    write_gradebook(
        make_report("bob", lose={"softmax": 2}), gradebook, A.name, "bob", course_id=COURSE
    )
    write_gradebook(make_report("bob"), gradebook, A.name, "bob", course_id=COURSE)
    got = read_back(gradebook, "bob")
    assert (got["score"], got["max"]) == (31.0, 31.0)
    with nbgrader_api.Gradebook(gradebook, course_id=COURSE) as gb:
        assert len(gb.find_assignment(A.name).submissions) >= 1
        assert [s.student.id for s in gb.find_assignment(A.name).submissions].count("bob") == 1


def test_a_human_override_wins(gradebook):
    write_gradebook(
        make_report("carol", lose={"dataset": 2}), gradebook, A.name, "carol", course_id=COURSE
    )
    with nbgrader_api.Gradebook(gradebook, course_id=COURSE) as gb:
        gb.find_grade("dataset_selfcheck", A.name, A.name, "carol").manual_score = 1.5
        gb.db.commit()
    write_gradebook(
        make_report("carol", lose={"dataset": 2}), gradebook, A.name, "carol", course_id=COURSE
    )  # a regrade does not erase the human's score
    assert read_back(gradebook, "carol")["grades"]["dataset_selfcheck"]["manual_score"] == 1.5
    assert read_back(gradebook, "carol")["score"] == 30.5


def test_export_folder(gradebook, tmp_path):
    report.write_all(make_report("dave"), tmp_path / "dave")
    failed = make_report("erin")
    report.write_all(Report("erin", failed.exercises, {"grader_error": "boom"}), tmp_path / "erin")
    assert export_folder(tmp_path, gradebook, A.name, course_id=COURSE) == {"dave": 31.0}
    with nbgrader_api.Gradebook(gradebook, course_id=COURSE) as gb:
        with pytest.raises(nbgrader_api.MissingEntry):
            gb.find_submission(A.name, "erin")


def test_clear_errors(gradebook):
    with pytest.raises(ExportError, match="generate_assignment other"):
        write_gradebook(make_report("x"), gradebook, "other", "x", course_id=COURSE)
    with pytest.raises(ExportError, match="has notebooks"):
        write_gradebook(make_report("x"), gradebook, A.name, "x", notebook="nope", course_id=COURSE)
    foreign = Report("x", {"q1": scoring.exercise_score("q1", [])}, {})
    with pytest.raises(ExportError, match="no grade cell"):
        write_gradebook(foreign, gradebook, A.name, "x", course_id=COURSE)
