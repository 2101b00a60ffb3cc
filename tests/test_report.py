"""Report writers: report.json, Gradescope results.json, JUnit XML, grades.csv and the table.

The exact output is pinned by golden files in tests/golden/. After an intended format change,
regenerate them with AUTOGRADER_REGEN_GOLDEN=1 and review the diff.
"""

import csv
import difflib
import io
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograder.assignment import get
from autograder.model import CheckResult, ExerciseResult, Report
from autograder.release import release
from autograder.report import (
    atomic_write,
    failures,
    grades_csv,
    gradescope_json,
    junit_xml,
    report_json,
    table,
    write_all,
)

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("AUTOGRADER_REGEN_GOLDEN") == "1"
NASTY = 'expected <tensor> & got "x\'s" value\n  shape (2, 3) ≠ (3, 2) — ünïcödé ✓\n\ttab'


def check(ex, name, passed, points, hidden=False, message=""):
    return CheckResult(ex, name, passed, points if passed else 0.0, points, hidden, message)


def exercise(gid, *checks):
    return ExerciseResult(
        gid, checks, sum(c.score for c in checks), sum(c.max_score for c in checks)
    )


def make_report(name="alice", exercises=("softmax", "nll")):
    softmax = exercise(
        "softmax",
        check("softmax", "correct", True, 2.0),
        check("softmax", "stable", False, 1.0, message=NASTY),
        check("softmax", "edge_cases", False, 1.0, hidden=True, message="hidden: empty batch"),
    )
    nll = exercise(
        "nll",
        check("nll", "matches", True, 1.0),
        check("nll", "large_batch", False, 1.0, hidden=True, message="wrong for N=10000"),
        check("nll", "own_implementation", True, 0.0),
    )
    meta = {"seed": 0, "seconds": 1.5, "notes": ["cell 'softmax': magics not run: %timeit"]}
    found = {"softmax": softmax, "nll": nll}
    return Report(name, {gid: found[gid] for gid in exercises}, meta)


REPORT = make_report()


def csv_input():
    "Three report.json dicts, out of order; one lacks an exercise, one has an awkward name."
    other = json.loads(report_json(make_report("bob", exercises=["softmax"])))
    odd = json.loads(report_json(make_report('carol, "the, third"')))
    return [odd, json.loads(report_json(REPORT)), other]


OUTPUTS = {
    "report.json": lambda: report_json(REPORT),
    "results.json": lambda: gradescope_json(REPORT),
    "junit.xml": lambda: junit_xml(REPORT),
    "grades.csv": lambda: grades_csv(csv_input()),
}


@pytest.mark.parametrize("name", OUTPUTS)
def test_output_matches_golden_file(name):
    text, path = OUTPUTS[name](), GOLDEN / name
    if REGEN:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    assert path.exists(), f"{path} is missing: run with AUTOGRADER_REGEN_GOLDEN=1 to create it"
    want = path.read_bytes().decode("utf-8")
    if text != want:
        diff = "".join(
            difflib.unified_diff(
                want.splitlines(True), text.splitlines(True), f"golden/{name}", "now"
            )
        )
        pytest.fail(
            f"{name} no longer matches tests/golden/{name}:\n{diff}\n"
            "If the change is intended, rerun with AUTOGRADER_REGEN_GOLDEN=1 and review the diff."
        )


# report.json


def test_report_json_shape():
    d = json.loads(report_json(REPORT))
    assert set(d) == {"submission", "score", "max_score", "exercises", "meta"}
    assert (d["submission"], d["score"], d["max_score"]) == ("alice", 3.0, 6.0)
    assert list(d["exercises"]) == ["softmax", "nll"]
    for e in d["exercises"].values():
        assert set(e) == {"score", "max_score", "checks"}
        for c in e["checks"]:
            assert set(c) == {"name", "passed", "score", "max_score", "hidden", "message"}
    assert d["exercises"]["softmax"]["checks"][1]["message"] == NASTY


# results.json (Gradescope)


def test_gradescope_visibility_and_scores():
    d = json.loads(gradescope_json(REPORT))
    tests = {t["name"]: t for t in d["tests"]}
    assert len(tests) == 6
    for gid, e in REPORT.exercises.items():
        for c in e.checks:
            t = tests[f"{gid}: {c.name}"]
            assert t["visibility"] == ("after_published" if c.hidden else "visible")
            assert t["status"] == ("passed" if c.passed else "failed")
            assert (t["score"], t["max_score"]) == (c.score, c.max_score)
    assert sum(t["score"] for t in d["tests"]) == pytest.approx(d["score"])
    assert d["score"] == REPORT.score == 3.0
    assert tests["softmax: stable"]["output"] == NASTY
    # the notes (an edited locked cell, magics not run) are on top, where Gradescope shows them
    assert d["output"].splitlines() == [
        "alice: 3 / 6 points",
        "Note: cell 'softmax': magics not run: %timeit",
    ]


# junit.xml


def test_junit_parses_with_a_failure_per_failing_check():
    root = ET.fromstring(junit_xml(REPORT))
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert suite.get("name") == "alice"
    assert suite.get("tests") == "6" and suite.get("failures") == "3"
    failing = {(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None}
    assert failing == {("softmax", "stable"), ("softmax", "edge_cases"), ("nll", "large_batch")}
    stable = suite.find("testcase[@name='stable']")
    failure = stable.find("failure")
    assert failure.text == NASTY  # <, &, quotes and unicode survive escaping
    assert failure.get("message") == NASTY.split("\n")[0]
    props = {p.get("name"): p.get("value") for p in stable.find("properties")}
    assert props == {"score": "0.0", "max_score": "1.0", "hidden": "False"}
    correct = suite.find("testcase[@name='correct']")
    assert {p.get("name"): p.get("value") for p in correct.find("properties")}["score"] == "2.0"


def test_junit_survives_control_characters_in_a_message():
    bad = "\x1b[31mAssertionError\x1b[0m: \x00"
    r = Report("eve", {"nll": exercise("nll", check("nll", "matches", False, 1.0, message=bad))})
    ET.fromstring(junit_xml(r))


def test_write_all_survives_a_lone_surrogate_in_a_message(tmp_path):
    bad = "ValueError: \udc80"
    r = Report("eve", {"nll": exercise("nll", check("nll", "matches", False, 1.0, message=bad))})
    write_all(r, tmp_path)
    assert (tmp_path / "report.json").exists()


# grades.csv


def test_grades_csv_rows():
    rows = list(csv.reader(io.StringIO(grades_csv(csv_input()))))
    assert rows[0] == ["submission", "score", "max_score", "softmax", "nll"]  # first report's
    assert [r[0] for r in rows[1:]] == ["alice", "bob", 'carol, "the, third"']  # sorted, quoted
    assert rows[1] == ["alice", "3.0", "6.0", "2.0", "1.0"]
    assert rows[2] == ["bob", "2.0", "4.0", "2.0", "0"]  # a missing exercise scores 0
    assert grades_csv([]) == "submission,score,max_score\n"


# Files on disk


def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out" / "report.json"
    atomic_write(target, "x" * 10_000)
    atomic_write(target, "short\n")
    assert target.read_text() == "short\n"
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    atomic_write(target, "old\n")

    def disk_full(*a):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError):
        atomic_write(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_atomic_write_survives_a_lone_surrogate(tmp_path):
    atomic_write(tmp_path / "f.md", "new \udc80")  # student text after a JSON round trip
    assert (tmp_path / "f.md").read_text(encoding="utf-8") == "new ?"


def test_write_all_writes_the_three_files(tmp_path):
    write_all(REPORT, tmp_path / "alice")
    names = sorted(p.name for p in (tmp_path / "alice").iterdir())
    assert names == ["junit.xml", "report.json", "results.json"]
    assert (tmp_path / "alice" / "report.json").read_text(encoding="utf-8") == report_json(REPORT)


# Terminal


def status(text, gid):
    (line,) = [line for line in text.splitlines() if line.startswith(gid + " ")]
    return line


def test_table_hides_hidden_failures_unless_asked():
    everything, student = table(REPORT), table(REPORT, hidden=False)
    assert status(everything, "softmax").endswith("2 check(s) failing")
    assert status(everything, "nll").endswith("1 check(s) failing")
    assert status(student, "softmax").endswith("1 check(s) failing")
    assert status(student, "nll").endswith("ok")
    assert "3 / 6" in status(student, "total")


def test_failures_lists_each_failing_check_once():
    text = failures(REPORT)
    assert text.count("✗") == 3
    assert "✗ softmax · stable" in text and "✗ nll · large_batch" in text
    assert "correct" not in text


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_get_the_mode_the_umask_gives(tmp_path, mask, mode):
    # reports, the class's grades.csv and released notebooks are read by others (a course's web
    # page, a TA): a temporary file's 0600 must not stick to them
    old = os.umask(mask)
    try:
        atomic_write(tmp_path / "grades.csv", "a,b\n")
        path = release(get("backprop"), tmp_path / "released")
    finally:
        os.umask(old)
    assert (tmp_path / "grades.csv").stat().st_mode & 0o777 == mode
    assert path.stat().st_mode & 0o777 == mode
