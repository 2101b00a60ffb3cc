"""A graded run is an ordinary test of the assignment (minibatch's MNIST run,
solutions/minibatch/tests/test_mnist_training.py): the engine's part is generic, and tested here:
a `File` argument binds a file into the worker, `fresh=True` asks a worker that has answered no
other question, `[[run]]`'s `needs` fails the run when a cell it uses did not run, `--no-training`
leaves tests marked `training` out, and `reference.run(..., keep=True)` runs once per machine."""

from __future__ import annotations

from autograder.assignment import get
from autograder.runner import Grading, Test
from tests.bank import LESSON, make_submission
from tests.conftest import grade

RUN = get("minibatch").runs[0].grade_id

# A Dataset that counts, in the worker process, how many datasets were ever made there; a fit that
# reports the count instead of training. In a fresh worker the MNIST run makes exactly two.
COUNTING_DATASET = """
MADE = []

class Dataset:
    def __init__(self, x, y):
        MADE.append(1)
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]
"""
REPORTING_FIT = """
def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    raise RuntimeError(f"datasets made in this worker: {len(MADE)}")
"""


def test_the_run_trains_in_a_fresh_worker_that_saw_no_other_check(tmp_path):
    nb = make_submission(tmp_path / "nb.ipynb", {"dataset": COUNTING_DATASET, "fit": REPORTING_FIT})
    r = grade(nb, training=True)
    assert r.exercises["dataset"].score > 0  # the dataset checks ran (and made datasets) first
    msg = r.exercises[RUN].checks[0].message
    assert "datasets made in this worker: 2" in msg, msg  # the train and valid sets, nothing else
    assert r.meta["worker_restarts"] == 0  # the planned start is not counted as a crash


def test_a_run_fails_naming_the_cells_it_needs_that_did_not_run(tmp_path):
    broken = LESSON["sampler"] + "\nraise ValueError('oops')\n"
    r = grade(make_submission(tmp_path / "nb.ipynb", {"sampler": broken}), training=True)
    msg = r.exercises[RUN].checks[0].message
    assert msg == (
        "the MNIST run needs your sampler cell(s), which did not run; fix those first"
    ), msg
    assert r.exercises["dataset"].score == r.exercises["dataset"].max_score  # others unaffected


def test_no_training_leaves_the_run_out_of_the_report(solution_report):
    from autograder.grade import Options, grade_notebook

    r = grade_notebook(get("minibatch").solution, training=False, options=Options(seed=1))
    assert RUN not in r.exercises and "training" not in r.meta
    assert r.max_score == solution_report.max_score - solution_report.exercises[RUN].max_score


def test_a_kept_reference_answer_is_computed_once_per_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls = []

    def probe(ns, n):
        calls.append(n)
        return {"n": n, "run": len(calls)}

    src = tmp_path / "ref.py"
    src.write_text("x = 1\n")
    t = Test("ex", "t", False, 0)

    def kept():  # a new grading each time (another process): only the disk is shared
        g = Grading(None, {}, {"p": probe}, lambda gid: [], 0, cache={})
        g.ref_files = (str(src),)
        return g.kept(t, "p", (3,))

    assert kept() == {"n": 3, "run": 1}
    assert kept() == {"n": 3, "run": 1} and len(calls) == 1  # read back from the disk
    src.write_text("x = 2\n")  # the reference changed: its old answer is not reused
    assert kept() == {"n": 3, "run": 2}


def test_without_a_reference_a_kept_answer_is_none():
    g = Grading(None, None, {}, lambda gid: [], 0, recorded={})
    assert g.kept(Test("ex", "t", False, 0), "p", (3,)) is None
