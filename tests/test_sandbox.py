"""The sandbox's command line and its choices, without running student code."""

from __future__ import annotations

import sys

import pytest

from autograder import sandbox
from autograder.sandbox import Limits, WorkerProcess, wait_ready


def test_private_tmp_is_mounted_before_binds_that_live_under_tmp(monkeypatch, tmp_path):
    venv = "/tmp/checkout/.venv"
    monkeypatch.setattr(sandbox, "_python_roots", lambda: [venv, "/opt/python"])
    w = WorkerProcess.__new__(WorkerProcess)
    w.home, w.limits, w.files = str(tmp_path), Limits(), {}
    cmd = sandbox.bwrap_command(w, ["3", "4", "1"])
    tmpfs = cmd.index("--tmpfs")
    assert cmd[tmpfs + 1] == "/tmp"
    binds = [i for i, a in enumerate(cmd) if a == "--ro-bind" and cmd[i + 2].startswith("/tmp/")]
    assert binds and all(i > tmpfs for i in binds)


@pytest.mark.skipif(not sandbox.bwrap_works(), reason="needs bubblewrap")
def test_the_worker_runs_as_nobody_without_network_and_sees_no_grader():
    with WorkerProcess(Limits(isolation="bwrap")) as w:
        wait_ready(w)
        src = (
            "import os, socket\n"
            "UID = os.getuid()\n"
            "try:\n    socket.create_connection(('127.0.0.1', 9), timeout=1); NET = 'up'\n"
            "except OSError as e:\n    NET = type(e).__name__\n"
            f"SEES = os.path.exists({sandbox.HERE.as_posix()!r})\n"
        )
        assert w.request({"op": "exec", "grade_id": "x", "source": src}, 30)["ok"]
        probe = {"op": "probe", "name": "call", "args": ["f"], "seed": 0}
        src2 = "def f():\n    return [UID, NET, SEES]\n"
        assert w.request({"op": "exec", "grade_id": "y", "source": src2}, 30)["ok"]
        got = w.request(probe, 30)["value"]
        assert got[0] == sandbox.UNPRIVILEGED or sys.platform != "linux"
        assert got[1] != "up" and got[2] is False
