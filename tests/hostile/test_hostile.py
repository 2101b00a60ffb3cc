"""Hostile submissions: the grader must stay up, score them fairly, explain, and clean up.

The corpus (`cases.py`, written by `build.py`) plus the instructor solution is graded ONCE per
session through `grade_batch(..., workers=2)` (`harness.py`, about 100 s on 2 cores); every test
below judges the reports of that one run. Per case:

- test_score: the attacked exercise scores 0 (or full marks, where the attack must not cost any);
- test_message: its failed checks say why, in the words of the table;
- test_others_keep_full_marks: every exercise the notebook does not attack keeps full marks;
- test_wall_clock: the notebook was graded in under CASE_SECONDS (time.monotonic around it).

Known grader bugs stay as strict xfails whose reason names the bug (see cases.py). A reason that
starts with "[bwrap]" applies only where bubblewrap is in use; cases marked bwrap_only are skipped
where it is not (their guarantee comes from the sandbox).
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from autograder import report as report_mod
from autograder.assignment import ROOT, get
from tests.hostile.cases import ALL, BY_NAME, CASES, Case, notebooks
from tests.hostile.harness import OPTIONS, SANDBOXED, dump, grade_corpus

pytestmark = pytest.mark.hostile

IDS = get("minibatch").ids
CASE_SECONDS = 60.0  # per notebook, the slowest (a loop in every softmax call) takes about 40 s
# the whole corpus, two at a time: a bound that says the batch ends, not a speed claim (it took
# 107-137 s alone and 143-228 s beside the rest of the suite, on faster and slower days here)
BATCH_SECONDS = 480.0
BWRAP = SANDBOXED
ASPECTS = {"score", "message", "others", "time", "meta"}
# What the worker may see of the environment (sandbox.worker_env), plus PWD that bwrap sets.
ALLOWED_ENV = {
    "PATH",
    "LANG",
    "LC_ALL",
    "SYSTEMROOT",
    "HOME",
    "TMPDIR",
    "PYTHONHASHSEED",
    "PYTHONDONTWRITEBYTECODE",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "PWD",
}


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    g = grade_corpus(tmp_path_factory.mktemp("hostile"))
    (g.root / "dump.txt").write_text(dump(g))  # what every notebook got, for debugging
    return g


def _marks(aspect: str, cases: list[Case]) -> list:
    marks = []
    for c in cases:
        reason = c.xfail.get(aspect)
        if reason and (BWRAP or not reason.startswith("[bwrap]")):
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
            break
    if any(c.bwrap_only for c in cases) and not BWRAP:
        marks.append(pytest.mark.skip(reason="guaranteed by bubblewrap, which is unavailable here"))
    return marks


def params(aspect: str, keep=lambda c: True) -> list:
    return [pytest.param(c, id=c.name, marks=_marks(aspect, [c])) for c in CASES if keep(c)]


def targets(c: Case) -> list[str]:
    return list(IDS) if c.target == (ALL,) else list(c.target)


def failed(r, gids) -> list[str]:
    return [ch.message for g in gids for ch in r.exercises[g].checks if not ch.passed]


def has(word: str, texts: list[str]) -> bool:
    "word is in one of texts; 'a|b' means a or b."
    return any(alt in t for t in texts for alt in word.split("|"))


# --- the table, case by case -------------------------------------------------------------------


def test_table_is_consistent():
    for c in CASES:
        assert set(c.xfail) <= ASPECTS, c.name
        assert c.score in ("zero", "reduced", "full"), c.name
        assert c.target == (ALL,) or set(c.target) <= set(IDS), c.name
        assert set(c.also) <= set(IDS) - set(c.target), c.name
        assert (c.raw is not None) + bool(c.edit) + bool(c.cells) == 1, c.name
        assert c.words or c.notes or c.score == "full", f"{c.name}: say what the message must say"
    notebooks()  # cases sharing a notebook attack different exercises


@pytest.mark.parametrize("case", params("score"))
def test_score(graded, case):
    r = graded.reports[case.nb]
    for gid in targets(case):
        e = r.exercises[gid]
        why = (gid, failed(r, [gid])[:2])
        assert e.max_score > 0, why
        if case.score == "zero":
            assert e.score == 0, why
        elif case.score == "reduced":
            assert 0 < e.score < e.max_score, why
        else:
            assert e.score == e.max_score, why


@pytest.mark.parametrize("case", params("message", lambda c: bool(c.words or c.notes)))
def test_message(graded, case):
    r = graded.reports[case.nb]
    texts = failed(r, targets(case))
    for w in case.words:
        assert has(w, texts), (w, texts[:3])
    notes = r.meta.get("notes", [])
    for w in case.notes:
        assert has(w, notes), (w, notes)


@pytest.mark.parametrize("case", params("others", lambda c: c.target != (ALL,)))
def test_others_keep_full_marks(graded, case):
    r = graded.reports[case.nb]
    shared = notebooks()[case.nb]
    attacked = {t for c in shared for t in (*c.target, *c.also)}
    lost = {
        g: f"{e.score}/{e.max_score}: {failed(r, [g])[0][:300]}"
        for g, e in r.exercises.items()
        if g not in attacked and e.score != e.max_score
    }
    assert not lost, lost


@pytest.mark.parametrize("case", params("time"))
def test_wall_clock(graded, case):
    assert graded.seconds[case.nb] < CASE_SECONDS, graded.seconds[case.nb]


WITH_WORKER = [n for n, cs in notebooks().items() if cs[0].raw is None and cs[0].edit != "huge"]


@pytest.mark.parametrize(
    "nb", [pytest.param(n, id=n, marks=_marks("meta", notebooks()[n])) for n in WITH_WORKER]
)
def test_meta_is_truthful(graded, nb):
    "The report says how the worker ran: bwrap when it did, and no more restarts than allowed."
    r = graded.reports[nb]
    if BWRAP:
        assert r.meta["isolation"] == "bwrap"
    assert r.meta["worker_restarts"] <= OPTIONS.max_restarts


# --- cases that need more than the table ------------------------------------------------------


SETSID = (
    "sandbox.WorkerProcess.kill only kills the worker's process group: without bubblewrap's pid "
    "namespace a child that calls os.setsid() outlives grading (here 200 sleeping children)"
)


@pytest.mark.xfail(not BWRAP, strict=True, reason=SETSID)
def test_fork_bomb_leaves_nothing_running(graded):
    r = graded.reports["fork_bomb"]
    m = re.search(r"the fork bomb started (\d+) children", r.meta.get("output", ""))
    assert m and int(m.group(1)) > 0, "the fork bomb did not run: this test would prove nothing"
    marker = graded.values["MARKER"]
    assert graded.marker_after["fork_bomb"] == [], "right after grading it"
    assert not [p for p in graded.left_running if marker in p], "after the batch"


def test_output_flood_is_capped(graded):
    r = graded.reports["output_flood"]
    out = r.meta["output"]
    m = re.search(r"\[\.\.\. (\d+) more bytes not kept\]", out)
    assert m and int(m.group(1)) > 10**8, "the flood did not happen: this test would prove nothing"
    assert len(out) < 5000
    assert (graded.out / "output_flood" / "report.json").stat().st_size < 200_000


def test_environment_holds_only_the_allow_list(graded):
    r = graded.reports["environment"]
    head = "RuntimeError: ENV="
    msg = next(c.message for c in r.exercises["collate"].checks if head in c.message)
    data, _ = json.JSONDecoder().raw_decode(msg[msg.index(head) + len(head) :])
    var, value = graded.secret
    assert os.environ.get(var) is None  # the grader's process had it only while grading
    assert var not in msg and value not in msg
    assert set(data["env"]) <= ALLOWED_ENV, set(data["env"]) - ALLOWED_ENV
    if BWRAP:
        assert data["parent"].startswith("unreadable"), data["parent"][:200]
    # and the student's softmax, correct only if it saw nothing, kept its marks (test_score)
    assert r.exercises["softmax"].score == r.exercises["softmax"].max_score


@pytest.mark.skipif(not BWRAP, reason="guaranteed by bubblewrap, which is unavailable here")
def test_outdir_writes_do_not_reach_the_grader(graded):
    out, marker = graded.out, graded.values["MARKER"]
    outside = ROOT / "tests" / "hostile" / f"FORGED-{marker}.txt"
    assert graded.forged == []
    msg = "\n".join(failed(graded.reports["write_outdir"], ["softmax"]))
    assert f"{outside}: " in msg, "the write outside /tmp should fail inside the sandbox"
    for name in ("write_outdir", "minibatch"):
        on_disk = json.loads((out / name / "report.json").read_text())
        assert on_disk["submission"] == name
        assert on_disk["score"] == graded.reports[name].score
    assert graded.reports["write_outdir"].exercises["softmax"].score == 0
    text = (out / "grades.csv").read_text()
    rows = {row["submission"]: row for row in csv.DictReader(text.splitlines())}
    assert "FORGED" not in text and "zz_forged" not in rows
    assert float(rows["write_outdir"]["score"]) == graded.reports["write_outdir"].score < 59
    assert float(rows["minibatch"]["score"]) == graded.reports["minibatch"].max_score


def test_fake_output_does_not_change_the_score(graded):
    r = graded.reports["fake_output"]
    assert "100 passed" in r.meta["output"]  # the fake lines were printed, and kept apart
    sm = r.exercises["softmax"]
    assert sm.score == 0 and r.score == r.max_score - sm.max_score
    on_disk = json.loads((graded.out / "fake_output" / "report.json").read_text())
    assert on_disk["score"] == r.score and on_disk["submission"] == "fake_output"


def test_structural_edits_are_what_they_claim(graded):
    "The builder did what the table says (otherwise the structural cases would test nothing)."

    def gids(name):
        nb = json.loads(graded.paths[name].read_text())
        return [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb["cells"]]

    sol = [g for g in gids("minibatch") if g in IDS]
    assert [g for g in gids("cells_reordered") if g in IDS] == sol[::-1]
    assert gids("cell_duplicated").count("softmax") == 2
    assert "softmax" not in gids("cell_deleted") and "softmax" not in gids("cell_retagged")
    assert "softmax_v2" in gids("cell_retagged")
    assert graded.paths["huge_file"].stat().st_size > 20 * 2**20


# --- the batch as a whole ---------------------------------------------------------------------


def test_batch_grades_the_whole_corpus(graded):
    assert graded.batch_error is None
    assert set(graded.reports) == set(graded.paths)
    for name, r in graded.reports.items():
        folder = graded.out / name
        for f in ("report.json", "results.json", "junit.xml"):
            assert (folder / f).is_file(), (name, f)
        on_disk = json.loads((folder / "report.json").read_text())
        assert on_disk == json.loads(report_mod.report_json(replace(r, submission=name))), name
        assert "grader_error" not in r.meta, (name, r.meta.get("grader_error"))
    rows = list(csv.DictReader((graded.out / "grades.csv").read_text().splitlines()))
    assert sorted(row["submission"] for row in rows) == sorted(graded.paths)
    sol = graded.reports["minibatch"]
    assert sol.score == sol.max_score > 0
    assert graded.total_seconds < BATCH_SECONDS, graded.total_seconds


def test_nothing_left_running(graded):
    "No worker, bwrap or forked child of this run survives it (ps, our folders, our marker)."
    marker = graded.values["MARKER"]  # the fork bomb's children: test_fork_bomb_... above
    assert [p for p in graded.left_running if marker not in p] == []
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            children.append(stat.parent.name)
    assert children == [], children


def test_kill_parent_did_not_kill_the_grader(graded):
    "The grading process is the one running this test; its report exists and is sane."
    r = graded.reports["kill_parent"]
    sm = r.exercises["softmax"]
    assert BY_NAME["kill_parent"].nb == "kill_parent"
    assert sm.score == 0 and r.score == r.max_score - sm.max_score
