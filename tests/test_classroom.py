"""GitHub Classroom: the result the grading reporter decodes, and the `Points X/Y` line."""

from __future__ import annotations

import base64
import json
import re

from autograder import scoring
from autograder.assignment import get
from autograder.classroom import (
    HIDDEN_MESSAGE,
    classroom_output,
    classroom_result,
    encode,
    main,
    write_classroom,
)
from autograder.model import Report

POINTS = re.compile(r"^Points (\d+(\.\d+)?)/(\d+(\.\d+)?)$")  # what Classroom reads


def make_report(checks: dict[str, list[tuple]]) -> Report:
    exercises = {
        gid: scoring.exercise_score(gid, [scoring.result(gid, *c) for c in cs])
        for gid, cs in checks.items()
    }
    return Report("student", exercises, {})


PARTIAL = make_report(
    {
        "softmax": [
            ("small_batch", True, 1.0, False, ""),
            ("random_shapes", False, 1.0, True, "on an input of shape (1, 5): secret input"),
        ],
        "nll": [("small_batch", False, 1.5, False, "nll(pred, y): expected 1.2, got 0.3")],
        "fit": [("runs", True, 1.5, False, "")],
    }
)
FULL = make_report({"softmax": [("small_batch", True, 2.0, False, "")]})


def reporter_points(env: dict[str, str], runners: str) -> str:
    "What autograding-grading-reporter computes from the runners' <ID>_RESULTS (NotifyClassroom)."
    total, max_score = 0, 0
    for runner in runners.split(","):
        results = json.loads(base64.b64decode(env[f"{runner.strip().upper()}_RESULTS"]))
        if not results["max_score"]:
            continue
        max_score += results["max_score"]
        for t in results["tests"]:
            total += t["score"]
    fmt = lambda x: str(int(x)) if float(x).is_integer() else repr(float(x))
    return f"Points {fmt(total)}/{fmt(max_score)}"


def test_points_line():
    assert classroom_output(FULL) == "Points 2/2"
    assert classroom_output(PARTIAL) == "Points 2.5/5"
    assert POINTS.match(classroom_output(PARTIAL))


def test_result_shape():
    r = classroom_result(PARTIAL)
    assert r["version"] == 1 and r["status"] == "fail" and r["max_score"] == 5.0
    assert [t["name"] for t in r["tests"]] == [
        "softmax: small_batch",
        "softmax: random_shapes",
        "nll: small_batch",
        "fit: runs",
    ]
    for t in r["tests"]:
        assert set(t) >= {"name", "status", "message", "score"}
        assert t["status"] in ("pass", "fail")
    assert r["tests"][1]["message"] == HIDDEN_MESSAGE  # a hidden check's input stays hidden
    assert r["tests"][2]["message"].startswith("nll(pred, y)")
    assert classroom_result(FULL)["status"] == "pass"


def test_write_classroom_and_the_reporter_agree(tmp_path):
    gh_output = tmp_path / "github_output"
    gh_output.write_text("earlier=1\n")
    b64 = write_classroom(PARTIAL, tmp_path / "out" / "results.json", gh_output)
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == classroom_result(PARTIAL)
    assert gh_output.read_text() == f"earlier=1\nresult={b64}\n"
    assert json.loads(base64.b64decode(b64)) == classroom_result(PARTIAL)
    # the workflow passes the step output as AUTOGRADER_RESULTS with `runners: autograder`
    env = {"AUTOGRADER_RESULTS": b64, "OTHER_RESULTS": encode(classroom_result(FULL))}
    assert reporter_points(env, "autograder") == classroom_output(PARTIAL)
    assert reporter_points(env, "autograder, other") == "Points 4.5/7"


def test_module_entry_grades_a_notebook(tmp_path, monkeypatch, capsys):
    gh_output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(gh_output))
    out = tmp_path / "results.json"
    assert main([str(get("minibatch").solution), "--no-training", "--out", str(out)]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    m = POINTS.match(line)
    assert m and m.group(1) == m.group(3) and float(m.group(1)) > 0  # public checks, all passed
    result = json.loads(out.read_text())
    assert result["status"] == "pass"
    b64 = gh_output.read_text().strip().removeprefix("result=")
    assert reporter_points({"AUTOGRADER_RESULTS": b64}, "autograder") == line
