"""`pytest NOTEBOOK.ipynb`: the public checks as pytest items, one per check.

The notebook is graded once, in a worker process, the first time one of its items runs; each item
then reports its own check. Points and visibility travel as user_properties, so `--junitxml` carries
them. Notebooks are collected only when named on the command line or when the ini option
`autograder_collect = true` is set (the student bundle sets it), so a test suite that happens to
contain notebooks is not graded by surprise.
"""

from __future__ import annotations

import pytest

from autograder import assignment, scoring
from autograder.runner import collect


class CheckFailed(Exception):
    "A check did not pass; its message is the whole report."


def pytest_addoption(parser):
    g = parser.getgroup("autograder")
    g.addoption("--ag-no-training", action="store_true", help="skip the graded training runs")
    g.addoption("--ag-device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.addini(
        "autograder_collect",
        "collect every .ipynb as a graded notebook",
        type="bool",
        default=False,
    )
    parser.addini(
        "autograder_assignment",
        "assignment the notebooks belong to (default: their own)",
        default="",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "autograder_check: a check of a graded notebook")


def pytest_collect_file(file_path, parent):
    if file_path.suffix != ".ipynb" or ".ipynb_checkpoints" in file_path.parts:
        return None
    config = parent.config
    named = any(str(file_path).endswith(a.split("::")[0]) for a in config.args)
    if named or config.getini("autograder_collect"):
        return NotebookFile.from_parent(parent, path=file_path)
    return None


class NotebookFile(pytest.File):
    "A notebook, collected as one item per public check."

    _report = None
    _error = None

    def collect(self):
        name, _ = assignment.infer(self.path, self.config.getini("autograder_assignment") or None)
        a = assignment.get(name)
        skip = self.config.getoption("ag_no_training")
        for t, _ in collect(a.tests, hidden=False):
            if t.training and skip:
                continue
            yield CheckItem.from_parent(
                self, name=f"{t.exercise}::{t.name}", key=(t.exercise, t.name)
            )
        for gid in a.gated:
            yield CheckItem.from_parent(
                self, name=f"{gid}::{scoring.GATE}", key=(gid, scoring.GATE)
            )

    def report(self):
        "Grade the notebook once; every item reads the same report."
        if self._report is None and self._error is None:
            from autograder.grade import Options, grade_notebook

            training = not self.config.getoption("ag_no_training")
            opts = Options(
                hidden=False,
                training=training,
                seed=0,
                device=self.config.getoption("ag_device"),
                assignment=self.config.getini("autograder_assignment") or None,
            )
            try:
                self._report = grade_notebook(
                    self.path, hidden=False, training=training, options=opts
                )
            except Exception as e:  # the grader broke: every item says so, nothing else crashes
                self._error = f"{type(e).__name__}: {e}"
        return self._report


class CheckItem(pytest.Item):
    "One check of one notebook."

    def __init__(self, *, key, **kw):
        super().__init__(**kw)
        self.key = key
        self.add_marker(pytest.mark.autograder_check)

    def runtest(self):
        r = self.parent.report()
        if r is None:
            raise CheckFailed(f"the grader could not grade {self.path.name}: {self.parent._error}")
        gid, name = self.key
        found = [c for c in r.exercises[gid].checks if c.name == name]
        if not found:
            raise CheckFailed(f"check {gid}::{name} was not run")
        c = found[0]
        self.user_properties += [
            ("score", c.score),
            ("max_score", c.max_score),
            ("hidden", c.hidden),
        ]
        if not c.passed:
            raise CheckFailed(c.message)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name}"
