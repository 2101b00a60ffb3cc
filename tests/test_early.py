"""A grading asks its first question early (autograder/early.py): the question the last grading
asked first (minibatch's MNIST run) is sent as soon as the worker has run the cells. What a user
must never notice: the report is the same with the early answer, without it, and with a stale or
forged record; a worker that was asked early is never the "fresh" worker of another question."""

from __future__ import annotations

import json

import pytest

from autograder import early
from autograder.assignment import get
from autograder.extract import extract
from autograder.grade import Options, Session, first_key, grade_notebook
from autograder.runner import Grading, Test
from autograder.testing import File
from tests.bank import LESSON, make_submission
from tests.conftest import SEED
from tests.test_runs import COUNTING_DATASET, REPORTING_FIT, RUN


@pytest.fixture(scope="module")
def solution(tmp_path_factory):
    "The solution graded with no record yet: its report, and the record it leaves."
    folder = tmp_path_factory.mktemp("first")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(early, "_file", lambda k: folder / f"{k}.json")
        mp.setattr(early, "_KNOWN", {})
        r = graded(get("minibatch").solution)
    [f] = folder.iterdir()
    return r, json.loads(f.read_text())


@pytest.fixture
def records(tmp_path, monkeypatch):
    "A folder of records of its own (the reference's kept answers stay where they are)."
    monkeypatch.setattr(early, "_file", lambda k: tmp_path / "first" / f"{k}.json")
    monkeypatch.setattr(early, "_KNOWN", {})
    return tmp_path / "first"


def keep(records, rec, opts=None):
    records.mkdir(exist_ok=True)
    k = first_key(get("minibatch"), opts or Options())
    (records / f"{k}.json").write_text(json.dumps(rec))


def graded(nb, **kw):
    early._KNOWN.clear()  # as another process would: only what is on disk is shared
    return grade_notebook(nb, options=Options(seed=SEED, **kw))


def outcome(r):
    "Everything a user reads in a report: each check's verdict, points and message."
    checks = {g: [(c.name, c.passed, c.score, c.message) for c in e.checks]
              for g, e in r.exercises.items()}  # fmt: skip
    return checks, r.score, r.meta.get("cell_errors"), r.meta.get("training", {}).get("value")


def test_the_next_grading_takes_the_early_answer_and_reports_the_same(solution, records):
    first, rec = solution
    assert first.meta["asked_early"] is False  # nothing was known yet
    assert rec["probe"] == "train_mnist" and {"file": rec["args"][0]["file"]} == rec["args"][0]
    keep(records, rec)
    second = graded(get("minibatch").solution)
    assert second.meta["asked_early"] is True
    assert outcome(second) == outcome(first)
    assert second.meta["worker_restarts"] == 0


def test_a_stale_record_is_dropped_and_the_run_still_gets_a_fresh_worker(records, tmp_path):
    nb = make_submission(tmp_path / "nb.ipynb", {"dataset": COUNTING_DATASET, "fit": REPORTING_FIT})
    fair = graded(nb, hidden=True)
    assert fair.meta["asked_early"] is False
    [f] = records.iterdir()
    rec = json.loads(f.read_text())
    rec["args"][1] += 1  # another number of epochs: a question the tests will not ask
    f.write_text(json.dumps(rec))
    r = graded(nb, hidden=True)
    assert r.meta["asked_early"] is False
    msg = r.exercises[RUN].checks[0].message
    # the worker asked early made its two datasets too; the run's own worker made only its own
    assert "datasets made in this worker: 2" in msg, msg
    assert outcome(r) == outcome(fair) and r.meta["worker_restarts"] == 0
    assert json.loads(f.read_text())["args"][1] == rec["args"][1] - 1  # the real one, again


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        json.dumps({"probe": "train_mnist", "args": [{"file": 3}], "seed": 1, "forbid": [],
                    "timeout": 1.0, "needs": []}),  # fmt: skip
        json.dumps({"probe": "train_mnist", "args": [[1, 2]], "seed": 1, "forbid": [],
                    "timeout": 1.0, "needs": []}),  # fmt: skip
        json.dumps({"probe": "train_mnist", "args": [], "seed": "1", "forbid": [],
                    "timeout": 1.0, "needs": []}),  # fmt: skip
    ],
)
def test_a_forged_or_broken_record_is_ignored(records, text):
    records.mkdir(parents=True)
    (records / "k.json").write_text(text)
    assert early.load("k") is None


def test_only_a_public_question_in_plain_data_is_remembered():
    import torch

    class Answers:  # a worker that answers every question with 1
        cell_error: dict = {}
        expired_reason = ""

        def expired(self):
            return False

        def prepare(self, files, fresh):
            return list(files)

        def ask(self, probe, args, seed, forbid, timeout):
            return 1, []

    def first(hidden, *args):
        g = Grading(Answers(), None, {}, lambda gid: ["torch.softmax"], 0)
        g.ask(Test("ex", "t", hidden, 0), "p", args, None)
        g.ask(Test("ex", "u", False, 0), "q", (2,), None)  # not the first: not remembered
        return g.first

    rec = first(False, File("/data/x.bin"), 2, 0.5, "cpu", None, True)
    assert rec["probe"] == "p" and rec["forbid"] == ["torch.softmax"] and rec["timeout"] == 20.0
    assert rec["args"] == [{"file": "/data/x.bin"}, 2, 0.5, "cpu", None, True]
    assert first(True, 2) is None  # a hidden test's inputs are never asked ahead of it
    assert first(False, torch.ones(2)) is None  # not plain data: JSON would not keep it exactly
    assert first(False, (1, 2)) is None  # a tuple would come back a list


def test_a_run_whose_cells_failed_is_not_asked_early(solution, records, tmp_path):
    keep(records, solution[1])
    broken = LESSON["sampler"] + "\nraise ValueError('oops')\n"
    r = graded(make_submission(tmp_path / "nb.ipynb", {"sampler": broken}))
    assert r.meta["asked_early"] is False
    assert "needs your sampler cell(s)" in r.exercises[RUN].checks[0].message
    # its first question was another test's: not learnt, the next grading still asks the run
    [f] = records.iterdir()
    assert json.loads(f.read_text()) == solution[1]


def test_closing_while_the_early_question_runs_stops_its_worker(solution):
    a = get("minibatch")
    sol = a.solution
    s = Session(extract(sol, a), Options(seed=SEED, assignment="minibatch"))
    s.spawn()
    s.begin(solution[1])
    s.ensure()  # the cells ran; the MNIST run is under way in the worker
    w = s.worker
    s.close()
    assert w.proc.poll() is not None and not s._early.is_alive()
