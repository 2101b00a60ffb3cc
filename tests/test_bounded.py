"""The parent stays bounded: whatever the worker sends or does, in time and in memory.

Each test measures its own time with generous bounds (pytest-timeout is not installed), and the
memory-hungry ones run the parent in a subprocess with a timeout, so a regression fails instead of
hanging or taking the test run's memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from autograder.grade import Options, grade_notebook
from autograder.sandbox import Cgroup, Limits, WorkerGone, WorkerProcess, wait_ready
from tests.bank import make_submission

ROOT = Path(__file__).resolve().parents[1]


def forged_frame_source(header_len: int | None = None) -> str:
    "Cell source that writes a frame of its own to the grader's answer pipe (fd sys.argv[2])."
    if header_len is None:
        body = "h = json.dumps({'__dict__': {'ok': True, 'value': 42}}).encode()\n"
        body += "os.write(fd, struct.pack('>Q', len(h)) + h + struct.pack('>Q', 0))\n"
    else:  # announce a huge header, then start sending it
        body = f"os.write(fd, struct.pack('>Q', {header_len}))\n"
        body += "os.write(fd, b'[' * 65536)\n"
    return "import json, os, struct, sys\nfd = int(sys.argv[2])\n" + body


def test_an_unrequested_frame_ends_the_worker_and_a_fresh_one_works():
    t0 = time.monotonic()
    with WorkerProcess(Limits()) as w:
        wait_ready(w)
        with pytest.raises(WorkerGone, match="an answer nobody asked for"):
            w.request({"op": "exec", "grade_id": "x", "source": forged_frame_source()}, 30)
        assert w.proc.poll() is not None  # killed, not left running
    with WorkerProcess(Limits()) as w:  # what Session does next: a new worker, which answers
        wait_ready(w)
        ans = w.request({"op": "exec", "grade_id": "y", "source": "A = 1\n"}, 30)
        assert ans["ok"] and "id" not in ans  # callers see the answers' usual keys only
    assert time.monotonic() - t0 < 60


def test_a_forged_frame_mid_grading_costs_one_exercise_only(tmp_path):
    """Graded end to end (policy off, as the hostile corpus does): the cell that forges a frame
    fails with the message; the other exercises pass on a fresh worker."""
    nb = make_submission(tmp_path / "forge.ipynb", {"accuracy": forged_frame_source()})
    t0 = time.monotonic()
    opts = Options(seed=1234, policy=False, limits=Limits(processes=64))
    rep = grade_notebook(nb, hidden=False, training=False, options=opts)
    assert time.monotonic() - t0 < 120
    assert "nobody asked for" in rep.meta["cell_errors"]["accuracy"]
    assert rep.exercises["softmax"].score == rep.exercises["softmax"].max_score
    assert rep.exercises["fit"].score == rep.exercises["fit"].max_score
    assert rep.meta["memory_cap"] in ("cgroup", "rlimit")


PARENT = """
import os, sys, time, resource
sys.path.insert(0, {root!r})
from autograder import protocol  # torch: imported before the baseline
from autograder.sandbox import Limits, WorkerGone, WorkerProcess, wait_ready
src = {src!r}

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

with WorkerProcess(Limits()) as w:
    wait_ready(w)
    before = hwm()
    t0 = time.monotonic()
    try:
        w.request({{"op": "exec", "grade_id": "x", "source": src}}, 60)
        print("ANSWERED")
    except WorkerGone as e:
        print("GONE", e.reason)
    print("SECONDS", time.monotonic() - t0)
    print("GROWTH", hwm() - before)
"""


def test_a_forged_huge_header_is_refused_fast_without_allocating():
    src = forged_frame_source(header_len=250 * 2**20)
    code = PARENT.format(root=str(ROOT), src=src)
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    ).stdout
    assert time.monotonic() - t0 < 120
    lines = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    assert "over the limit" in lines["GONE"], out
    assert float(lines["SECONDS"]) < 10, out
    assert int(lines["GROWTH"]) < 32 * 2**20, out  # nowhere near the 250 MiB announced


DEADLINE = 8.0


def test_the_submission_deadline_bounds_the_whole_grading(tmp_path):
    "Cells and probes that sleep: grading ends near the deadline, and the report says why."
    slow = {
        "softmax": (
            "import time\n"
            "def softmax(x):\n"
            "    time.sleep(3)\n"
            "    e = (x - x.max(-1, keepdim=True).values).exp()\n"
            "    return e / e.sum(-1, keepdim=True)\n"
        ),
        "logsumexp": (
            "import time\ntime.sleep(2)\ndef logsumexp(x):\n    return x.exp().sum(-1).log()\n"
        ),
    }
    nb = make_submission(tmp_path / "slow.ipynb", slow)
    opts = Options(seed=1234, policy=False, submission_timeout=DEADLINE)
    t0 = time.monotonic()
    rep = grade_notebook(nb, hidden=True, training=True, options=opts)
    took = time.monotonic() - t0
    assert took < DEADLINE + 15, took  # the oracle, the report and closing the worker: margin
    text = json.dumps([c.message for e in rep.exercises.values() for c in e.checks])
    assert f"used up its {DEADLINE:g} s" in text
    assert rep.meta["seconds"] < DEADLINE + 15


def test_requests_past_the_deadline_fail_fast():
    with WorkerProcess(Limits()) as w:
        wait_ready(w)
        w.deadline, w.deadline_reason = time.monotonic() + 1.0, "not run: the submission used up"
        t0 = time.monotonic()
        with pytest.raises(WorkerGone, match="used up"):
            w.request({"op": "exec", "grade_id": "x", "source": "import time\ntime.sleep(30)"}, 30)
        assert time.monotonic() - t0 < 5  # capped by the time left, not the request's 30 s
        t1 = time.monotonic()
        with pytest.raises(WorkerGone, match="used up"):
            w.request({"op": "ping"}, 30)
        assert time.monotonic() - t1 < 1


def _cgroup_here() -> bool:
    g = Cgroup.create(2**30, Limits())
    if g is None:
        return False
    g.remove()
    return True


FORK_HOG = textwrap.dedent(
    """
    import os, time
    kids = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            b = bytearray(600 * 2**20)
            for i in range(0, len(b), 4096):
                b[i] = 1
            time.sleep(3)
            os._exit(0)
        kids.append(pid)
    STATUS = [os.waitpid(p, 0)[1] for p in kids]
    """
)


@pytest.mark.skipif(not _cgroup_here(), reason="no writable memory cgroup on this machine")
def test_memory_over_forked_children_is_capped_by_the_cgroup():
    "Three children of 600 MiB each, each under the per-process limit, over a 1 GiB total."
    t0 = time.monotonic()
    with WorkerProcess(Limits(total_memory_bytes=2**30, processes=64)) as w:
        assert w.memory_cap == "cgroup"
        wait_ready(w)
        dirs = list(w.cgroup.dirs)
        with pytest.raises(WorkerGone, match="memory limit of 1024 MiB"):
            w.request({"op": "exec", "grade_id": "hog", "source": FORK_HOG}, 60)
    assert not any(d.exists() for d in dirs)  # the cgroup is removed on close
    assert time.monotonic() - t0 < 60


def test_without_a_cgroup_the_rlimits_and_a_tighter_process_limit_hold(monkeypatch):
    monkeypatch.setenv("AG_NO_CGROUP", "1")
    with WorkerProcess(Limits()) as w:
        assert w.memory_cap == "rlimit" and w.cgroup is None
        wait_ready(w)
        src = "import resource\nN = resource.getrlimit(resource.RLIMIT_NPROC)[0]\n"
        assert w.request({"op": "exec", "grade_id": "x", "source": src}, 30)["ok"]
        probe = {"op": "probe", "name": "call", "args": ["f"], "seed": 0}
        w.request({"op": "exec", "grade_id": "y", "source": "def f():\n    return N\n"}, 30)
        assert w.request(probe, 30)["value"] == Limits().fallback_processes
