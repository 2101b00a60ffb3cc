"""Workers forked from the template: as isolated from each other as cold ones, and a failing
template costs only speed (the worker starts cold), never a verdict.

Each attack runs as cell code in a forked worker, the way a submission would (the static policy
is not in front of WorkerProcess, so ctypes, fork and sockets are all allowed here).
"""

from __future__ import annotations

import json
import os
import textwrap
import time

import pytest

from autograder import sandbox, template
from autograder.sandbox import Cgroup, Limits, WorkerGone, WorkerProcess, wait_ready

needs_fork = pytest.mark.skipif(
    not sandbox.bwrap_works() or Cgroup.create(2**30, Limits()) is None,
    reason="forked workers need bubblewrap and a cgroup (root)",
)
pytestmark = needs_fork
LIMITS = Limits(processes=64)


def run(w: WorkerProcess, source: str, expr: str = "RESULT"):
    "Run the cell in the worker, then return the value of `expr` there."
    cell = w.request({"op": "exec", "grade_id": "attack", "source": textwrap.dedent(source)}, 60)
    assert cell["ok"], cell
    src = f"def _answer():\n    return {expr}\n"
    assert w.request({"op": "exec", "grade_id": "answer", "source": src}, 30)["ok"]
    got = w.request({"op": "probe", "name": "call", "args": ["_answer"], "seed": 0}, 60)
    assert got["ok"], got
    return got["value"]


def forked(limits=LIMITS, **kw) -> WorkerProcess:
    assert template.zygote_for(limits, kw.get("probes"), now=True) is not None
    w = WorkerProcess(limits, files={template.new_stage(): None}, **kw)
    assert w.forked, "the template did not fork this worker"
    wait_ready(w)
    return w


LEAVE_TRACES = """
import ctypes, os, socket
libc = ctypes.CDLL(None, use_errno=True)
open('/tmp/secret', 'w').write('answers')
open('/dev/shm/secret', 'w').write('answers')
SHM = libc.shmget(0x5EC7E7, 4096, 0o1000 | 0o666)  # IPC_CREAT: a SysV segment for the next one
LISTENER = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
LISTENER.bind('\\0ag-secret')  # an abstract socket lives in the network namespace
LISTENER.listen(1)
RESULT = [SHM >= 0, os.getpid()]
"""

LOOK_FOR_TRACES = """
import ctypes, os, socket
libc = ctypes.CDLL(None, use_errno=True)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect('\\0ag-secret'); SOCKET = 'connected'
except OSError as e:
    SOCKET = type(e).__name__
alive = []
for pid in range(1, 4096):
    try:
        os.kill(pid, 0); alive.append(pid)
    except ProcessLookupError:
        pass
    except PermissionError:
        alive.append(pid)
RESULT = dict(
    tmp=os.listdir('/tmp'), shm=os.listdir('/dev/shm'), sysv=libc.shmget(0x5EC7E7, 0, 0),
    socket=SOCKET, proc=sorted(os.listdir('/proc')), alive=alive,
)
"""


def test_nothing_one_fork_leaves_reaches_the_next_one_even_while_it_runs():
    with forked() as a, forked() as b:
        made_shm, pid = run(a, LEAVE_TRACES)
        assert made_shm  # the attack itself worked in its own namespace
        seen = run(b, LOOK_FOR_TRACES)
    # a checkout under /tmp shows its .venv's parent folders there (read-only), as a cold one does
    shown = {r.split("/")[2] for r in sandbox._python_roots() if r.startswith("/tmp/")}
    assert set(seen["tmp"]) == shown and seen["shm"] == []
    assert seen["sysv"] == -1 and seen["socket"] != "connected"
    # its own pid namespace: pid 1 (its reaper) and itself, nothing of the template or a sibling
    assert seen["alive"] == [1, 2] and pid == 2
    assert "self" in seen["proc"] and not any(p.isdigit() for p in seen["proc"])


def test_a_fork_has_no_capabilities_no_new_privileges_and_only_its_own_fds():
    with forked() as w:
        got = run(
            w,
            """
            import os
            status = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines())
            RESULT = dict(
                uid=os.getuid(), gid=os.getgid(),
                caps={k: status[k] for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb')},
                nnp=status['NoNewPrivs'], fds=sorted(os.listdir('/proc/self/fd')),
            )
            """,
        )
    assert got["uid"] == got["gid"] == sandbox.UNPRIVILEGED
    assert set(got["caps"].values()) == {"0000000000000000"}
    assert got["nnp"] == "1"
    assert got["fds"] in (["0", "1", "2", "3", "4"], ["0", "1", "2", "3", "4", "5"])  # 5: listdir


def test_a_fork_cannot_uncover_the_templates_proc_even_in_a_namespace_of_its_own():
    with forked() as w:
        got = run(
            w,
            """
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            tries = []
            tries.append(('umount', libc.umount2(b'/proc', 2), ctypes.get_errno()))  # MNT_DETACH
            if libc.unshare(0x10000000 | 0x00020000) == 0:  # a new user and mount namespace
                tries.append(('umount in a new namespace', libc.umount2(b'/proc', 2), 0))
                tries.append(('mount proc', libc.mount(b'proc', b'/mnt', b'proc', 0, None), 0))
            RESULT = [tries, sorted(os.listdir('/proc'))]
            """,
        )
    tries, proc = got
    assert all(r == -1 for _, r, _ in tries), tries
    assert not any(p.isdigit() for p in proc)


def test_the_stages_folder_cannot_be_listed_but_the_workers_own_stage_can_be_read():
    stage = template.new_stage()
    open(os.path.join(stage, "data.txt"), "w").write("shown")
    with WorkerProcess(LIMITS, files={stage: None}) as w:
        assert w.forked
        inside = w.inside(stage)
        got = run(
            w,
            f"""
            import os
            try:
                os.listdir({os.path.dirname(inside)!r}); LISTED = 'listed'
            except PermissionError:
                LISTED = 'refused'
            RESULT = [LISTED, open({inside + "/data.txt"!r}).read()]
            """,
        )
    assert got == ["refused", "shown"]


def test_a_stray_child_dies_with_its_worker_and_the_exit_code_is_the_workers():
    w = forked()
    try:
        run(w, "import os, time\nif os.fork() == 0:\n    time.sleep(600)\nRESULT = 1\n")
        assert len(w.cgroup.pids()) >= 3  # pid 1, the worker, the child
        src = "def bye():\n    os._exit(7)\n"
        assert w.request({"op": "exec", "grade_id": "bye", "source": src}, 30)["ok"]
        with pytest.raises(WorkerGone, match="exited with status 7"):
            w.request({"op": "probe", "name": "call", "args": ["bye"], "seed": 0}, 30)
        end = time.monotonic() + 10
        while w.cgroup is not None and w.cgroup.pids() and time.monotonic() < end:
            time.sleep(0.05)
        assert w.cgroup is None or w.cgroup.pids() == []  # the child went with its pid 1
    finally:
        w.close()


def test_a_fork_killed_by_a_signal_is_reported_like_a_cold_worker():
    with forked() as w:
        src = "import os, signal\ndef boom():\n    os.kill(os.getpid(), signal.SIGSEGV)\n"
        assert w.request({"op": "exec", "grade_id": "boom", "source": src}, 30)["ok"]
        with pytest.raises(WorkerGone, match="SIGSEGV"):
            w.request({"op": "probe", "name": "call", "args": ["boom"], "seed": 0}, 30)


def test_without_the_template_a_worker_starts_cold_and_answers_the_same(monkeypatch):
    source = "import torch\nRESULT = [torch.get_num_threads(), __name__]\n"
    with forked() as w:
        warm = run(w, source)
    monkeypatch.setenv("AG_NO_ZYGOTE", "1")
    with WorkerProcess(LIMITS, files={template.new_stage(): None}) as w:
        assert not w.forked
        wait_ready(w)
        assert run(w, source) == warm


def test_a_template_that_died_is_replaced_by_cold_workers_not_by_errors():
    limits = Limits(processes=63)  # a key of its own: the other tests keep their template
    with forked(limits) as w:
        assert run(w, "RESULT = 1\n") == 1
    z = template.zygote_for(limits, None)
    z.proc.kill()
    z.proc.wait(10)
    with WorkerProcess(limits, files={template.new_stage(): None}) as w:
        assert not w.forked
        wait_ready(w)
        assert run(w, "RESULT = 2\n") == 2
    assert template.zygote_for(limits, None) is None  # this process stays cold for that key


def test_the_first_worker_starts_cold_and_the_second_forks(monkeypatch):
    monkeypatch.setattr(template, "_many", [])  # as in a lone `grade` (a batch test may have run)
    limits = Limits(processes=61)  # a key no other test has asked for
    with WorkerProcess(limits, files={template.new_stage(): None}) as w:
        assert not w.forked  # alone, a cold worker imports torch while the parent goes on
        wait_ready(w)
        assert run(w, "RESULT = 1\n") == 1
    with WorkerProcess(limits, files={template.new_stage(): None}) as w:
        assert w.forked
        wait_ready(w)
        assert run(w, "RESULT = 2\n") == 2


def test_a_fork_bomb_costs_the_template_one_fork_not_its_other_workers():
    limits = Limits(processes=48)  # a key of its own: a small process limit for the uid
    bomb = forked(limits)
    try:
        started = run(
            bomb,
            """
            import os, time
            RESULT = 0
            for _ in range(200):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    time.sleep(60)
                    os._exit(0)
                RESULT += 1
            """,
        )
        assert 0 < started < 200  # the limit stopped it
        z = template.zygote_for(limits, None)
        try:  # the template cannot fork now; the worker it was asked for starts cold (or fails)
            with WorkerProcess(limits, files={template.new_stage(): None}) as other:
                assert not other.forked
        except (OSError, WorkerGone):
            pass
        assert z.alive() and template.zygote_for(limits, None) is z  # it stays, for later
        assert run(bomb, "RESULT = 'still here'\n") == "still here"  # inside its pid namespace
    finally:
        bomb.close()  # its children go with it, and the uid has processes again
    with forked(limits) as w:
        assert run(w, "RESULT = 3\n") == 3


def test_a_process_forked_from_ours_shares_its_template_even_past_one_that_died_mid_order():
    """A batch's grading processes fork their workers from their parent's template. One that dies
    after ordering a fork (killed, out of memory) leaves its lock (the kernel drops it) and an
    answer in the socket: the next process skips that answer and gets its own."""
    import fcntl
    import socket

    limits = Limits(processes=60)  # a key of its own
    z = template.zygote_for(limits, None, now=True)
    assert template.share() >= 1 and z.shared
    pid = os.fork()
    if pid == 0:  # orders a fork on pipes that lead nowhere, then dies holding the lock
        try:
            fcntl.lockf(z.order.fileno(), fcntl.LOCK_EX)
            socket.send_fds(z.sock, [b"fork 0dead0"], [os.open(os.devnull, os.O_RDWR)] * 6)
        finally:
            os._exit(0)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    pid = os.fork()
    if pid == 0:  # a second grading process: the same template, a worker forked from it
        code = 3
        try:
            assert template.zygote_for(limits, None) is z
            with WorkerProcess(limits, files={template.new_stage(): None}) as w:
                wait_ready(w)
                code = 0 if w.forked and run(w, "RESULT = 7\n") == 7 else 4
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    with forked(limits) as w:  # and its owner goes on forking from it
        assert run(w, "RESULT = 8\n") == 8


def test_a_batch_starts_one_template_and_its_grading_processes_fork_from_it(
    tmp_path, monkeypatch
):
    import threading

    from autograder import batch
    from autograder.assignment import get

    started = tmp_path / "started"
    real = template.Zygote.__init__

    def counted(self, *a, **kw):
        with open(started, "a") as f:
            f.write(f"{os.getpid()}\n")
        real(self, *a, **kw)

    monkeypatch.setattr(template.Zygote, "__init__", counted)
    monkeypatch.setattr(template, "_templates", {})  # none held yet, whatever ran before
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # fork: the slots inherit
    paths = [tmp_path / f"s{i}.ipynb" for i in range(4)]
    for p in paths:
        p.write_bytes(get("minibatch").release.read_bytes())
    try:
        opts = batch.Options(seed=0, training=False)
        batch.grade_batch(paths, tmp_path / "out", workers=2, options=opts,
                          progress=lambda *a: None, feedback=False)  # fmt: skip
    finally:
        template.close_all()
    assert started.read_text().split() == [str(os.getpid())]  # ours, none in the slots
    for p in paths:
        meta = json.loads((tmp_path / "out" / p.stem / "report.json").read_text())["meta"]
        assert meta["worker_forked"] is True and meta["isolation"] == "bwrap", p.stem


def test_threads_waiting_on_one_fork_at_once_all_learn_how_it_ended():
    "The submission's watchdog kills a worker while the grader waits on it (test_bounded's race)."
    import threading

    w = forked()
    try:
        got, errors = [], []

        def wait():
            try:
                got.append(w.proc.wait(10))
            except Exception as e:  # a closed or reused file descriptor, before the fix
                errors.append(repr(e))

        threads = [threading.Thread(target=wait) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(0.05)
        w.kill()
        for t in threads:
            t.join(15)
        assert not errors and len(set(got)) == 1 and len(got) == 8, (got, errors)
    finally:
        w.close()
