"""Shared fixtures: grading costs a worker process, so reports are graded once per session.

The suite runs on both cores (`-n 2 --dist loadfile` in pyproject.toml): a file's tests stay on
one pytest worker, so its module and session fixtures are built once, and the files that take
longest are handed out first, so neither core idles at the end waiting for one of them.
"""

from __future__ import annotations

import os

import pytest

from autograder.assignment import get
from autograder.grade import Options, grade_notebook

SEED = 1234
if os.environ.get("PYTEST_XDIST_WORKER"):
    # two test processes share the two cores: one torch thread in each, and in every process
    # they start (a Jupyter kernel, a command line), or each waits on the other's threads
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import torch

    torch.set_num_threads(1)
# the longest first (from --durations): the hostile corpus is graded once in one batch (about
# 110 s), the README blocks run whole user paths; the rest in file order
FIRST = [
    "tests/hostile/test_hostile.py",
    "tests/test_readme.py",
    "tests/test_selfcheck.py",
    "tests/test_workflows.py",
    "tests/test_cli.py",
    "tests/test_plugin.py",
    "tests/test_validate.py",
]
APART = ("tests/test_readme.py",)  # independent blocks, minutes in all: each test its own unit


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(items):
    "The order work is handed out in (with --no-loadscope-reorder)."
    items.sort(key=lambda i: FIRST.index(_file(i.nodeid)) if _file(i.nodeid) in FIRST else 99)


try:
    from xdist.scheduler import LoadFileScheduling
except ImportError:  # plain pytest: one process, nothing to schedule
    pass
else:

    class _Scheduling(LoadFileScheduling):
        "xdist's loadfile, except that a file in APART hands out each test on its own."

        def _split_scope(self, nodeid: str) -> str:
            return nodeid if _file(nodeid) in APART else _file(nodeid)

    def pytest_xdist_make_scheduler(config, log):
        if config.getvalue("dist") == "loadfile":
            return _Scheduling(config, log)


def once_per_run(tmp_path_factory, name: str, make):
    """A report graded once for the whole run: by the first test process that asks for it, and
    read back (report.json's form) by the other, which waits for it meanwhile."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return make()
    import fcntl
    import json

    from autograder.model import Report

    path = tmp_path_factory.getbasetemp().parent / f"{name}.json"
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return Report.from_dict(json.loads(path.read_text()))
        r = make()
        path.write_text(json.dumps(r.to_dict()))
        return r


@pytest.fixture(scope="session")
def solution_report(tmp_path_factory):
    "The instructor solution, every check and the MNIST run."
    sol = get("minibatch").solution
    return once_per_run(
        tmp_path_factory, "solution", lambda: grade_notebook(sol, options=Options(seed=SEED))
    )


@pytest.fixture(scope="session")
def stub_report(tmp_path_factory):
    "The released student notebook, untouched."
    stub = get("minibatch").release
    return once_per_run(
        tmp_path_factory, "stub", lambda: grade_notebook(stub, options=Options(seed=SEED))
    )


def grade(path, training=False, **kw):
    "Grade with hidden checks at the test seed."
    return grade_notebook(path, hidden=True, training=training, options=Options(seed=SEED, **kw))
