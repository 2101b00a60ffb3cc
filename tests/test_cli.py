"""The command line as instructors and CI use it: grade, resume, shard, merge, check."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest

from autograder.assignment import get
from autograder.cli import main


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def test_grade_writes_every_format_and_a_csv(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(get("minibatch").solution, subs / "alice.ipynb")
    shutil.copy(get("minibatch").release, subs / "bob.ipynb")
    (subs / "carol.ipynb").write_text("not a notebook")
    out = tmp_path / "out"
    res = run(
        "grade", str(subs), "--out", str(out), "--workers", "2", "--seed", "7", "--no-training"
    )
    assert res.returncode == 0, res.stderr
    for name in ("alice", "bob", "carol"):
        for f in ("report.json", "results.json", "junit.xml"):
            assert (out / name / f).exists(), (name, f)
    reports = {
        n: json.loads((out / n / "report.json").read_text()) for n in ("alice", "bob", "carol")
    }
    assert reports["alice"]["score"] == reports["alice"]["max_score"] > 0
    assert reports["bob"]["score"] == 0 and reports["carol"]["score"] == 0
    assert "not a notebook" in json.dumps(reports["carol"]) or "JSON" in json.dumps(
        reports["carol"]
    )
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["submission"] for r in rows] == ["alice", "bob", "carol"]
    assert set(get("minibatch").ids) <= set(rows[0])
    gs = json.loads((out / "alice" / "results.json").read_text())
    assert gs["score"] == sum(t["score"] for t in gs["tests"])


def test_grading_resumes_and_force_regrades(tmp_path, capsys):
    sub = tmp_path / "dave.ipynb"
    shutil.copy(get("minibatch").release, sub)
    out = tmp_path / "out"
    args = ["grade", str(sub), "--out", str(out), "--no-training", "--seed", "1"]
    assert main(args) == 0
    first = (out / "dave" / "report.json").stat().st_mtime_ns
    assert main(args) == 0
    assert (out / "dave" / "report.json").stat().st_mtime_ns == first
    assert "grading 0 of 1" in capsys.readouterr().out
    assert main([*args, "--force"]) == 0
    assert (out / "dave" / "report.json").stat().st_mtime_ns != first


def test_shards_partition_the_batch_and_merge(tmp_path):
    from autograder.batch import shard

    paths = [tmp_path / f"s{i}.ipynb" for i in range(7)]
    parts = [shard(paths, f"{i}/3") for i in (1, 2, 3)]
    assert sorted(p for part in parts for p in part) == sorted(paths)
    assert not set(parts[0]) & set(parts[1])
    for i in (1, 2):
        d = tmp_path / f"shard{i}" / f"n{i}"
        d.mkdir(parents=True)
        rep = {
            "submission": f"n{i}",
            "score": i,
            "max_score": 2,
            "exercises": {"softmax": {"score": i, "max_score": 2, "checks": []}},
        }
        (d / "report.json").write_text(json.dumps(rep))
    assert (
        main(["merge", str(tmp_path / "shard1"), str(tmp_path / "shard2"), "--out", str(tmp_path)])
        == 0
    )
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert [(r["submission"], r["softmax"]) for r in rows] == [("n1", "1"), ("n2", "2")]


def test_check_exit_status_and_next_step(tmp_path):
    ok = run("check", str(get("minibatch").solution), "--no-training")
    assert ok.returncode == 0 and "Every public check passes" in ok.stdout
    bad = run("check", str(get("minibatch").release), "--no-training")
    assert bad.returncode == 1
    assert "Next: softmax · small_batch" in bad.stdout and "not implemented yet" in bad.stdout


def test_bad_shard_spec_is_a_clear_error(tmp_path):
    res = run("grade", str(get("minibatch").release), "--out", str(tmp_path), "--shard", "4/3")
    assert res.returncode != 0 and "--shard 4/3" in res.stderr


def test_check_reuses_the_report_of_an_unchanged_notebook(tmp_path, monkeypatch, capsys):
    from autograder import check as check_mod
    from autograder import grade

    monkeypatch.setenv("AUTOGRADER_CHECK_CACHE", str(tmp_path / "cache"))
    nb = tmp_path / "nb.ipynb"
    shutil.copy(get("minibatch").release, nb)
    assert check_mod.check(nb, training=False) == 1
    first = capsys.readouterr().out

    def no_worker(*a, **k):
        raise AssertionError("graded again although nothing changed")

    monkeypatch.setattr(grade, "WorkerProcess", no_worker)
    assert check_mod.check(nb, training=False) == 1
    assert capsys.readouterr().out == first
    from tests.bank import make_submission

    make_submission(
        nb, {"softmax": "def softmax(x):\n    return x\n"}, base=get("minibatch").release
    )
    with pytest.raises(AssertionError, match="graded again"):
        check_mod.check(nb, training=False)


def test_progress_redraws_on_a_terminal_and_prints_stages_elsewhere():
    import io

    from autograder.check import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        p = Progress(stream)
        for k in range(3):
            p("checks", k, 3)
        p("training on MNIST", 0, 1)
        p("done", 1, 1)
    assert "\r" in tty.getvalue() and "[##" in tty.getvalue() and tty.getvalue().endswith("\n")
    assert pipe.getvalue() == "checks…\ntraining on MNIST…\n"


def test_report_names_come_from_the_path_inside_the_folder_whatever_the_shard(tmp_path):
    from autograder.batch import shard, submission_names

    for who in ("alice", "bob", "carol"):
        (tmp_path / "subs" / who).mkdir(parents=True)
        shutil.copy(get("minibatch").release, tmp_path / "subs" / who / "minibatch.ipynb")
    shutil.copy(get("minibatch").release, tmp_path / "subs" / "dave.ipynb")
    names = submission_names([str(tmp_path / "subs")])
    assert sorted(names.values()) == [
        "alice__minibatch",
        "bob__minibatch",
        "carol__minibatch",
        "dave",
    ]
    halves = [shard(list(names), f"{i}/2") for i in (1, 2)]
    assert sorted(names[p] for h in halves for p in h) == sorted(names.values())


def test_data_fetches_what_the_assignment_declares(capsys):
    "`autograder data --assignment NAME`: that assignment's declared datasets (here: cached)."
    assert main(["data", "--assignment", "backprop"]) == 0
    out = capsys.readouterr().out
    assert get("backprop").data
    for ds in get("backprop").data:
        assert f"{ds.name} in " in out and "loaded in" in out


def test_the_data_flags_are_generic():
    from autograder.cli import parser

    args = parser().parse_args(["gradescope", "x.zip", "--with-data", "--data", "d"])
    assert args.with_data and str(args.data) == "d"
    assert parser().parse_args(["data"]).assignment is None  # every assignment's datasets


def test_two_workers_grade_exactly_as_one(tmp_path):
    "The grading processes of --workers 2 give every submission the report one worker gives it."
    from autograder.bank import cases, make_submission

    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(get("minibatch").solution, subs / "alice.ipynb")
    shutil.copy(get("minibatch").release, subs / "bob.ipynb")
    bug = next(src for kind, _, src in cases(get("minibatch")) if kind == "bug")
    make_submission(subs / "erin.ipynb", bug)
    (subs / "carol.ipynb").write_text("not a notebook")
    outs = {}
    for w in ("1", "2"):
        outs[w] = tmp_path / f"out{w}"
        res = run("grade", str(subs), "--out", str(outs[w]), "--workers", w, "--seed", "3",
                  "--no-training", "--no-feedback")  # fmt: skip
        assert res.returncode == 0, res.stderr
        assert "[4/4]" in res.stdout
    assert (outs["1"] / "grades.csv").read_text() == (outs["2"] / "grades.csv").read_text()
    for name in ("alice", "bob", "carol", "erin"):
        one, two = (json.loads((outs[w] / name / "report.json").read_text()) for w in ("1", "2"))
        assert one["exercises"] == two["exercises"], name


def test_a_grading_process_that_dies_costs_only_its_submission(tmp_path, monkeypatch):
    import os
    import threading

    from autograder import batch

    def dies(path, **kw):
        if path.stem == "bob":
            os._exit(9)  # what the kernel's OOM killer does to a grading process
        return real(path, **kw)

    real = batch.grade_notebook
    monkeypatch.setattr(batch, "grade_notebook", dies)
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # fork: the patch reaches the slots
    paths = []
    for name in ("alice", "bob", "dave"):
        paths.append(tmp_path / f"{name}.ipynb")
        shutil.copy(get("minibatch").release, paths[-1])
    with pytest.raises(batch.GraderFailed, match="bob"):
        opts = batch.Options(seed=0, training=False)
        batch.grade_batch(paths, tmp_path / "out", workers=2, progress=lambda *a: None,
                          options=opts, feedback=False)  # fmt: skip
    bob = json.loads((tmp_path / "out" / "bob" / "report.json").read_text())
    assert "the grading process stopped" in bob["meta"]["grader_error"]
    assert bob["score"] == 0
    for name in ("alice", "dave"):  # queued in the same pool when it broke: graded again
        r = json.loads((tmp_path / "out" / name / "report.json").read_text())
        assert "grader_error" not in r["meta"] and r["max_score"] > 0, name
