"""The class summary: plots, common failures, summary.md and a Canvas gradebook CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest

from autograder import report, scoring
from autograder.model import Report
from autograder.summary import POINTS_ROW, common_failures, load_reports, write_summary

PNG = b"\x89PNG\r\n\x1a\n"


def make_report(name: str, checks: dict[str, list[tuple]], **meta) -> Report:
    "checks: {exercise: [(check, passed, points, hidden, message), ...]}."
    exercises = {
        gid: scoring.exercise_score(gid, [scoring.result(gid, *c) for c in cs])
        for gid, cs in checks.items()
    }
    return Report(name, exercises, meta)


STUB = "softmax(x) on a (4, 3) batch: not implemented yet: replace it"
WRONG = "softmax(x) on a (4, 3) batch: expected shape (4, 3), got shape (4,)\nHint: keepdim"


def class_of(tmp_path):
    "Four graded submissions and one the grader failed on, written as `grade` writes them."
    out = tmp_path / "out"
    rows = {
        "alice": ([True, True], [True]),
        "bob": ([False, True], [True]),
        "carol": ([False, True], [False]),
        "=dave": ([False, False], [False]),
    }
    msgs = {"alice": "", "bob": WRONG, "carol": WRONG, "=dave": STUB}
    for name, (soft, nll) in rows.items():
        r = make_report(
            name,
            {
                "softmax": [
                    ("small_batch", soft[0], 1.0, False, msgs[name]),
                    ("random_shapes", soft[1], 2.0, True, "on an input of shape (1, 5): wrong"),
                ],
                "nll": [("small_batch", nll[0], 3.0, False, "nll(pred, y): expected 1.2, got 0.3")],
                "mnist_training": [],
            },
            seed=1,
        )
        report.write_all(r, out / name.lstrip("="))
    broken = make_report("eve", {"softmax": [], "nll": [], "mnist_training": []})
    broken = Report("eve", broken.exercises, {"grader_error": "RuntimeError: boom"})
    report.write_all(broken, out / "eve")
    return out


def test_writes_every_file_atomically(tmp_path):
    out = class_of(tmp_path)
    paths = write_summary(out)
    names = {p.name for p in paths}
    assert names == {
        "histogram.png",
        "pass_rates.png",
        "common_failures.csv",
        "summary.md",
        "gradebook.csv",
    }
    for p in paths:
        assert p.parent == out and p.stat().st_size > 0
    assert (out / "histogram.png").read_bytes().startswith(PNG)
    assert (out / "pass_rates.png").read_bytes().startswith(PNG)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_dest_folder_and_no_reports(tmp_path):
    out = class_of(tmp_path)
    paths = write_summary(out, tmp_path / "summary")
    assert all(p.parent == tmp_path / "summary" for p in paths)
    with pytest.raises(FileNotFoundError, match="report.json"):
        write_summary(tmp_path / "empty")


def test_common_failures_count_and_example(tmp_path):
    out = class_of(tmp_path)
    write_summary(out)
    rows = list(csv.DictReader(io.StringIO((out / "common_failures.csv").read_text())))
    first = rows[0]
    # softmax·small_batch failed 3 times: twice a real mistake, once a stub; it leads the list
    assert (first["exercise"], first["check"], first["failed"]) == ("softmax", "small_batch", "3")
    assert first["not_implemented"] == "1" and first["submissions"] == "4"
    assert first["example"] == WRONG.split("\n")[0]
    by_key = {(r["exercise"], r["check"]): r for r in rows}
    assert by_key[("nll", "small_batch")]["failed"] == "2"
    assert by_key[("softmax", "random_shapes")]["hidden"] == "True"
    assert len(rows) == 3


def test_common_failures_skips_passes():
    r = make_report("a", {"x": [("c", True, 1.0, False, "")]}).to_dict()
    assert common_failures([r]) == []


def test_summary_md(tmp_path):
    out = class_of(tmp_path)
    write_summary(out, top=2)
    md = (out / "summary.md").read_text()
    assert md.startswith("# Class summary: 4 graded submission(s)")
    assert "![score distribution](histogram.png)" in md
    assert "![full marks per exercise](pass_rates.png)" in md
    assert "| `softmax` | 3 | 1.75 | 25% |" in md  # 3 points, mean (3 + 2 + 2 + 0) / 4
    assert "| `softmax` · `small_batch` | 3 | 1 | softmax(x) on a (4, 3) batch: expected" in md
    assert md.count("` · `") == 2  # top=2
    assert "`eve`: RuntimeError: boom" in md  # the grader failure, to regrade


def test_canvas_gradebook(tmp_path):
    out = class_of(tmp_path)
    write_summary(out, title="Minibatch", canvas_id=4242)
    rows = list(csv.reader(io.StringIO((out / "gradebook.csv").read_text())))
    assert rows[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "Minibatch (4242)",
    ]
    assert rows[1] == [POINTS_ROW, "", "", "", "", "6"]
    body = {r[0]: r for r in rows[2:]}
    assert body["alice"] == ["alice", "", "", "alice", "", "6"]
    assert body["bob"][-1] == "5" and body["carol"][-1] == "2"
    assert body["'=dave"][3] == "'=dave"  # a name a spreadsheet would run as a formula
    assert body["eve"][-1] == ""  # grader failure: blank, so Canvas keeps what it had


def test_canvas_gradebook_with_roster(tmp_path):
    out = class_of(tmp_path)
    roster = tmp_path / "export.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (11)\n"
        f"{POINTS_ROW},,,,,10\n"
        '"Doe, Alice",101,S-1,ALICE,Lab A,7\n'
        '"Roe, Bob",102,bob,bob@x.edu,Lab B,9\n',
        encoding="utf-8-sig",
    )
    write_summary(out, roster=roster)
    rows = list(csv.reader(io.StringIO((out / "gradebook.csv").read_text())))
    assert rows[0][-1] == "Assignment"  # no Canvas id: the import creates the assignment
    body = {r[0]: r for r in rows[2:]}
    assert body["Doe, Alice"] == ["Doe, Alice", "101", "S-1", "ALICE", "Lab A", "6"]  # login
    assert body["Roe, Bob"] == ["Roe, Bob", "102", "bob", "bob@x.edu", "Lab B", "5"]  # SIS id
    assert body["carol"][:5] == ["carol", "", "", "carol", ""]  # not on the roster


def test_reads_what_grade_writes(tmp_path):
    out = class_of(tmp_path)
    (out / "junk").mkdir()
    (out / "junk" / "report.json").write_text("{not json")
    reports = load_reports(out)
    assert [r["submission"] for r in reports] == ["=dave", "alice", "bob", "carol", "eve"]
    assert json.loads((out / "alice" / "report.json").read_text())["score"] == 6
