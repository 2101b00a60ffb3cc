"""Untrusted inputs: odd entries in a submissions folder, hostile names and texts, huge cells."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import re
import shutil
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

from autograder import escape, report, scoring
from autograder.assignment import get
from autograder.batch import code_size, longest_first, safe_name, submission_names
from autograder.cli import main
from autograder.extract import MAX_CELL_CHARS, extract
from autograder.feedback import html, markdown
from autograder.model import Report
from autograder.protocol import MAX_STR
from autograder.summary import write_summary
from tests.conftest import grade

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "[x](http://evil)",
    "![](http://x)",
    "a`` [y](http://evil) ``b",
]


def test_every_ipynb_entry_gets_a_report_and_nothing_leaves_out(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    os.mkfifo(subs / "a.ipynb")
    (subs / "b.ipynb").symlink_to("/dev/zero")
    (subs / "c.ipynb").symlink_to(get("minibatch").solution)
    (subs / "d.ipynb").mkdir()
    shutil.copy(get("minibatch").release, subs / "...ipynb")
    shutil.copy(get("minibatch").release, subs / "..ipynb")
    shutil.copy(get("minibatch").release, subs / "normal.ipynb")
    before = set(tmp_path.iterdir())
    t0 = time.monotonic()
    args = ["grade", str(subs), "--out", str(out), "--no-training", "--public-only"]
    assert main([*args, "--seed", "1", "--no-feedback", "--allow-unsandboxed"]) == 0
    assert time.monotonic() - t0 < 240, "no entry blocks the batch"
    assert set(tmp_path.iterdir()) == before | {out}, "nothing written beside --out"
    folders = sorted(p.parent.name for p in out.glob("*/report.json"))
    assert len(folders) == 7 == len(set(folders))
    assert all(not f.startswith(".") for f in folders)
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert sorted(r["submission"] for r in rows) == folders
    reports = {f: json.loads((out / f / "report.json").read_text()) for f in folders}
    for f, kind in [("a", "FIFO"), ("b", "symbolic link"), ("c", "symbolic link"), ("d", "folder")]:
        assert reports[f]["score"] == 0
        assert kind in json.dumps(reports[f]), f
    assert reports["normal"]["max_score"] > 0


def test_batch_order_reads_only_regular_notebooks_and_puts_stubs_last(tmp_path):
    "--workers N grades the most code first; sizing a batch opens nothing odd and never fails."
    os.mkfifo(tmp_path / "fifo.ipynb")
    (tmp_path / "zero.ipynb").symlink_to("/dev/zero")
    (tmp_path / "dir.ipynb").mkdir()
    odd = {
        "garbage.ipynb": b"\x00{not json",
        "list.ipynb": b"[1, 2]",
        "cells.ipynb": b'{"cells": {"a": 1}}',
        "ints.ipynb": b'{"cells": [{"cell_type": "code", "source": [1, 2]}]}',
        "deep.ipynb": b"[" * 100_000,
    }
    for name, data in odd.items():
        (tmp_path / name).write_bytes(data)
    for p in sorted(tmp_path.iterdir()):
        assert code_size(p) == 0, p.name
    a = get("minibatch")
    assert code_size(a.solution) > code_size(a.release) > 0
    # the order a --workers N batch hands them out: most code first, ties in the batch's order
    todo = [(p, p.stem) for p in sorted(tmp_path.iterdir())]
    todo[3:3] = [(a.release, "stub"), (a.solution, "full")]
    order = [n for _, n in longest_first(todo)]
    assert order[:2] == ["full", "stub"]
    assert order[2:] == [p.stem for p in sorted(tmp_path.iterdir())]


def test_names_are_single_distinct_safe_folders(tmp_path):
    for stem, want in [("..", "submission"), (".", "submission"), (".x", "_x"), ("a/b", "a_b")]:
        assert safe_name(Path(stem.replace("/", "_") + ".ipynb")) == want or "/" in stem
    for n in ["...ipynb", "..ipynb", ".ipynb", "submission.ipynb", "Alice.ipynb", "alice.ipynb"]:
        shutil.copy(get("minibatch").release, tmp_path / n)
    names = list(submission_names([str(tmp_path)]).values())
    assert len({n.casefold() for n in names}) == len(names) == 6
    assert all(n not in (".", "..") and "/" not in n and not n.startswith(".") for n in names)


def make_report(name, message, gid="softmax", check="small_batch") -> Report:
    r = scoring.result(gid, check, False, 1.0, False, message)
    return Report(name, {gid: scoring.exercise_score(gid, [r])}, {"seed": 1, "notes": [message]})


LIVE = re.compile(r"(?<!\\)<img|(?<!\\)\]\(http|(?<!\\)!(?<!\\)\[")


def live_markup(text: str) -> list[str]:
    "Raw HTML, links or images in Markdown: the characters that make them, unescaped."
    return LIVE.findall(text)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_markdown_escapes(hostile):
    assert not live_markup(escape.md(hostile))
    code = escape.md_code(hostile)
    fence = code[: len(code) - len(code.lstrip("`"))]
    assert code.count(fence) == 2, "the text cannot close its code span"
    assert "<" not in escape.md_html(hostile) and "[" not in escape.md_html(hostile)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_feedback_md_and_html_escape(hostile):
    r = make_report(hostile, hostile)
    md = markdown(r)
    notes = md.split("## Notes")[1].split("\n## ")[0]
    assert not live_markup(notes) and not live_markup(md.split("\n")[0])
    page = html(r)
    assert "<img src=x" not in page and "&lt;img" in page or "<img" not in hostile


def test_summary_md_escapes(tmp_path):
    out = tmp_path / "out"
    for i, h in enumerate(HOSTILE):
        report.write_all(make_report(f"s{i}", h), out / f"s{i}")
    broken = Report("=cmd", make_report("x", "").exercises, {"grader_error": HOSTILE[0]})
    report.write_all(broken, out / "broken")
    write_summary(out)
    md = (out / "summary.md").read_text()
    assert not live_markup(md.split("## Most common")[1])
    gradebook = (out / "gradebook.csv").read_text()
    assert "'=cmd" in gradebook


def test_csv_cells_are_not_formulas():
    for v in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1"]:
        assert escape.csv_cell(v).startswith("'")
    rows = [make_report(n, "").to_dict() for n in ("=HYPERLINK(1)", "ok")]
    text = report.grades_csv(rows)
    assert "'=HYPERLINK(1)" in text and "\n=" not in text


def test_junit_is_valid_xml_without_control_characters():
    r = make_report("a\x00b<&>", "bad \x1b[31m \x07 </failure><x>")
    text = report.junit_xml(r)
    assert "\x00" not in text and "\x1b" not in text and "\x07" not in text
    root = ET.fromstring(text.split("?>", 1)[1])
    assert root.find(".//failure").text.endswith("</failure><x>")


def test_ci_summary_escapes_names_messages_and_code_spans(tmp_path):
    spec = importlib.util.spec_from_file_location("ci_summary", "scripts/ci-summary.py")
    cs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cs)
    name = "`x` [y](http://evil) ![](http://x) <img src=x onerror=alert(1)>"
    assert "<img" not in cs.cell(name)  # inside a code span it is shown, not run
    assert "[y](" not in cs.cell(name) and "![" not in cs.cell(name)
    code = cs.code(name)
    assert code.startswith("``") and code.count("``") == 2, "one code span, not closed early"
    rep = make_report("mallory", name, check=name).to_dict()
    rep["meta"]["cell_errors"] = {"softmax": name}
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "report.json").write_text(json.dumps(rep))
    (tmp_path / "n").mkdir()
    (tmp_path / "n" / "report.json").write_text(json.dumps({**rep, "submission": name}))
    import subprocess

    res = subprocess.run(
        [sys.executable, "scripts/ci-summary.py", str(tmp_path)], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    md = res.stdout
    outside_code = re.sub(r"<pre>.*?</pre>", "", "".join(md.split("``")[::2]), flags=re.S)
    assert "<img" not in outside_code and "](http" not in outside_code


def notebook_with(path: Path, gid: str, source: str) -> Path:
    nb = nbformat.read(get("minibatch").solution, as_version=4)
    for c in nb.cells:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == gid:
            c.source = source
    nbformat.write(nb, path)
    return path


def test_cell_budget(tmp_path):
    assert MAX_STR >= MAX_CELL_CHARS >= 100_000
    body = "def softmax(x):\n    e = x.exp()\n    return e / e.sum(dim=1, keepdim=True)\n"
    honest = body + "# " + "x" * 30_000 + "\n"
    sub = extract(notebook_with(tmp_path / "ok.ipynb", "softmax", honest), get("minibatch"))
    assert sub.cells["softmax"] == honest
    r = grade(tmp_path / "ok.ipynb")
    assert r.exercises["softmax"].score == r.exercises["softmax"].max_score
    huge = body + "# " + "x" * MAX_CELL_CHARS + "\n"
    sub = extract(notebook_with(tmp_path / "big.ipynb", "softmax", huge), get("minibatch"))
    assert "softmax" not in sub.cells
    msg = sub.cell_problems["softmax"]
    assert f"is {len(huge)} characters long" in msg
    assert f"over the grader's budget of {MAX_CELL_CHARS} characters" in msg


def test_grade_refuses_without_a_sandbox_unless_asked(tmp_path, monkeypatch, capsys):
    import autograder.sandbox

    monkeypatch.setattr(autograder.sandbox, "bwrap_works", lambda: False)
    sub = tmp_path / "x.ipynb"
    sub.write_text("not a notebook")
    args = ["grade", str(sub), "--out", str(tmp_path / "out"), "--no-training"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "bubblewrap" in err and "--allow-unsandboxed" in err
    assert not (tmp_path / "out").exists()
    assert main([*args, "--allow-unsandboxed", "--no-feedback"]) == 0
    assert main([*args, "--isolation", "process", "--no-feedback", "--force"]) == 0
