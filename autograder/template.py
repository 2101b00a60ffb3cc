"""Workers forked from a template that has imported torch: tens of milliseconds instead of seconds.

The parent's side of `zygote.py`. A template runs under the same bubblewrap command as a cold
worker and is kept per grading process, one per (limits, probes file). Each fork gets its own
namespaces, /tmp, /proc and cgroup (see zygote.py); this side hands it its pipes over a unix
socket, moves it into the worker's cgroup before it may go on, and waits until it says it is
ready. Anything that goes wrong makes that template unusable and the caller starts a cold worker
instead: a fork is an optimisation, never a different verdict. AG_NO_ZYGOTE=1 turns it off.

A template starts without waiting for it (it imports torch while its process does too) and is
waited for at its first fork. A batch's grading processes share their parent's templates
(`share`): each order and its answer carry a token, under a lock that is both a thread lock and a
POSIX record lock, which the kernel drops if a process dies holding it.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import secrets
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path


class ZygoteFailed(Exception):
    """The template could not start or could not fork; use a cold worker. `once`: only this fork
    failed (out of processes, say) and the template goes on; closing it would kill every worker
    it forked, since they all live inside its pid namespace."""

    def __init__(self, why: str, once: bool = False):
        super().__init__(why)
        self.once = once


class Forked:
    "A forked worker, as much of a Popen as the sandbox uses: pid, poll, wait, returncode."

    def __init__(self, pid: int, status: int, buf: bytes = b""):
        self.pid, self.status, self.returncode = pid, status, None
        self.buf, self.lock = buf, threading.Lock()
        self.why = ""  # what its pid 1 said instead of an exit code (a sandbox step that failed)
        # threads wait on it at once (the watchdog's kill, the grader's poll): it stays open, and
        # its number never goes to another file, until this object is gone
        os.set_blocking(status, False)
        weakref.finalize(self, os.close, status)

    def _read(self, timeout: float | None) -> bool:
        "Read what the status pipe has; True once the worker's end is known."
        if self.returncode is not None:
            return True
        ready, _, _ = select.select([self.status], [], [], timeout)
        if not ready:
            return False
        with self.lock:
            if self.returncode is not None:
                return True
            try:
                chunk = os.read(self.status, 512)
            except BlockingIOError:  # another thread read it first
                return False
            self.buf += chunk
            lines = [ln for ln in self.buf.split(b"\n")[:-1] if ln != b"+"]
            if lines:
                try:
                    self.returncode = int(lines[0])
                except ValueError:
                    self.returncode, self.why = -9, lines[0].decode("utf-8", "replace")[1:300]
            elif not chunk:
                self.returncode = -9  # its pid 1 died without a word: killed
            return self.returncode is not None

    def poll(self) -> int | None:
        self._read(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while not self._read(None if end is None else max(0.0, end - time.monotonic())):
            if end is not None and time.monotonic() >= end:
                raise subprocess.TimeoutExpired("worker", timeout)
        return self.returncode


class Zygote:
    "One template process and the socket it takes orders on."

    def __init__(self, limits, probes: Path | None):
        from autograder import sandbox

        self.limits, self.lock = limits, threading.Lock()
        self.home = tempfile.mkdtemp(prefix="ag-zygote-")
        self.files: dict = {stages(): None}
        self.cgroup = sandbox.Cgroup.create(sandbox.total_memory(limits), limits)
        if self.cgroup is None:
            raise ZygoteFailed("no cgroup for the template")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        argv = [str(theirs.fileno()), str(limits.threads), str(limits.tmp_bytes), ""]
        if probes is not None:
            os.makedirs(os.path.join(self.home, "grader"), mode=0o755, exist_ok=True)
            shutil.copy(probes, os.path.join(self.home, "grader", "assignment_probes.py"))
            argv[3] = "/grader/assignment_probes.py"
        cmd = sandbox.bwrap_command(self, argv, script="zygote.py", die_with_parent=False)
        # its stderr goes to a file, read only if it fails: no reader thread, so a batch can still
        # fork its grading processes from a parent that holds a template
        self.err = tempfile.TemporaryFile(dir=self.home)
        try:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self.err,
                cwd="/",
                env=sandbox.worker_env(limits.threads, "/tmp"),
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
                preexec_fn=sandbox._limit(limits, self.cgroup),
            )
        finally:
            theirs.close()
        self.pid = os.getpid()  # the owner: only it closes the template
        self.broken, self.started, self.shared = "", False, False
        self.order = tempfile.TemporaryFile(dir=self.home)  # its POSIX lock orders the processes

    def _hello(self):
        "Wait (under the lock) for the template to say it is ready, the first time only."
        if self.started:
            return
        self.sock.settimeout(120)
        try:
            hello = self.sock.recv(512)
        except OSError as e:
            hello = f"no answer ({e})".encode()
        if hello != b"ready":
            why = hello.decode("utf-8", "replace") or "exited"
            self.broken = f"the template did not start: {why}\n{self.stderr_text()[-2000:]}"
            raise ZygoteFailed(self.broken)
        self.started = True

    def wait_ready(self) -> bool:
        "Wait until the template can fork; False if it cannot (it is then broken)."
        try:
            with self.lock, _Ordered(self.order):
                self._hello()
            return True
        except ZygoteFailed:
            return False

    def stderr_text(self) -> str:
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        fd = self.err.fileno()  # pread: the file's offset is the template's too
        size = os.fstat(fd).st_size
        return os.pread(fd, 4000, max(0, size - 4000)).decode("utf-8", "replace")

    def shown(self, files: dict) -> dict | None:
        "Where a fork sees these files: only those under the stages root can be shown, else None."
        root, inside = next(iter(self.files.items()))
        out = {}
        for f in files:
            rel = os.path.relpath(os.path.realpath(f), root)
            if rel == os.curdir or rel.startswith(os.pardir):
                return None
            out[f] = os.path.join(inside, rel)
        return out

    def fork(self, group, fds: tuple[int, int, int, int], timeout: float = 20.0) -> Forked:
        "A new worker in `group` (a Cgroup) on these pipes (requests, answers, stdout, stderr)."
        status_r, status_w = os.pipe()
        go_r, go_w = os.pipe()
        try:
            with self.lock, _Ordered(self.order):
                if self.broken:
                    raise ZygoteFailed(self.broken)
                self._hello()
                said = self._order(fds, status_w, go_r, timeout)
            if said.startswith(b"!"):
                raise ZygoteFailed(f"the template could not fork: {said[1:].decode()}", once=True)
            try:
                pid_inside = int(said)
            except ValueError:
                self.broken = f"the template said {said[:80]!r}"
                raise ZygoteFailed(self.broken) from None
            os.close(status_w)
            os.close(go_r)
            status_w = go_r = -1
            host = self._host_pid(pid_inside)
            try:
                group.move(host)
            except OSError as e:  # the child waits for "g" and leaves when go_w closes
                raise ZygoteFailed(f"a fork could not join its cgroup ({e})", once=True) from None
            os.write(go_w, b"g")
            ready, _, _ = select.select([status_r], [], [], timeout)
            line = os.read(status_r, 512) if ready else b"(no answer)"
            if not line.startswith(b"+\n"):
                group.kill()
                why = line.decode("utf-8", "replace")
                raise ZygoteFailed(f"a fork did not start: {why}", once=True)
            return Forked(host, status_r, line)  # from here on it closes status_r
        except BaseException:
            for fd in (status_r, status_w, go_r):
                if fd >= 0:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            raise
        finally:
            os.close(go_w)

    def _order(self, fds, status_w: int, go_r: int, timeout: float) -> bytes:
        """Ask for one fork; its answer (a pid inside, or `!why`). Answers come in order, each with
        its order's token: one meant for a process that died waiting for it is skipped."""
        token = secrets.token_hex(8).encode()
        end = time.monotonic() + timeout
        try:
            self.sock.settimeout(timeout)
            socket.send_fds(self.sock, [b"fork " + token], [*fds, status_w, go_r])
            while True:
                self.sock.settimeout(max(0.01, end - time.monotonic()))
                said = self.sock.recv(512)
                tok, _, rest = said.partition(b" ")
                if tok == token:
                    return rest
                if not said or time.monotonic() >= end:
                    raise OSError(f"answer {said[:80]!r}")
        except OSError as e:
            self.broken = f"the template stopped answering ({e})"
            raise ZygoteFailed(self.broken) from None

    def _host_pid(self, inside: int) -> int:
        "The pid, as this process sees it, of the template's child numbered `inside` there."
        for pid in self.cgroup.pids():
            try:
                text = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("NSpid:"):
                    ids = line.split()[1:]
                    if len(ids) >= 2 and int(ids[-1]) == inside:
                        return pid
        raise ZygoteFailed(f"the template's child {inside} is not in its cgroup", once=True)

    def alive(self) -> bool:
        "Whether it may fork (a process that shares it learns of its end at its next order)."
        return not self.broken and (self.pid != os.getpid() or self.proc.poll() is None)

    def close(self):
        "Stop it, in its owner; in a process that shares it, only forget it."
        try:
            self.sock.close()
        except OSError:
            pass
        if self.pid != os.getpid():
            self.broken = self.broken or "closed"
            return
        self.cgroup.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.cgroup.remove()
        shutil.rmtree(self.home, ignore_errors=True)


_templates: dict = {}
_lock = threading.Lock()
_stages_lock = threading.Lock()
_stages: list[str] = []
_asked: set = set()  # keys a worker was asked for once already
_many: list = []  # non-empty once this process said it will ask for many workers


def expect_many():
    "This process will grade many submissions: start each template with its first worker."
    _many[:] = [True]


class _Ordered:
    "An exclusive POSIX record lock on a file: between processes (threads use the thread lock)."

    def __init__(self, f):
        self.fd = f.fileno()

    def __enter__(self):
        fcntl.lockf(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc):
        fcntl.lockf(self.fd, fcntl.LOCK_UN)


def zygote_for(limits, probes: Path | None, now: bool = False) -> Zygote | None:
    """This process's template for these limits and probes; None where templates are off
    (AG_NO_ZYGOTE, a GPU) or this one failed before (then always cold).

    The first worker a process asks for starts cold, and the template only with the second
    (or at once with `now`): a lone worker is quicker cold, since it imports torch while the
    parent goes on, where waiting for a template would make the parent wait for that import.
    A process that knows it will grade many (a batch) calls expect_many() and skips that."""
    if os.environ.get("AG_NO_ZYGOTE") or limits.device != "cpu":
        return None
    stamp = os.stat(probes).st_mtime_ns if probes is not None else 0
    key = (limits, str(probes), stamp)
    with _lock:
        z = _templates.get(key)
        if z is None and not (now or _many) and key not in _asked:
            _asked.add(key)
            return None
        if z is None:
            try:
                z = Zygote(limits, probes)
            except (ZygoteFailed, OSError, subprocess.SubprocessError) as e:
                z = str(e) or type(e).__name__
            _templates[key] = z
        if isinstance(z, Zygote) and not z.alive():
            z.close()
            z = _templates[key] = z.broken or "the template exited"
    return z if isinstance(z, Zygote) else None


def share() -> int:
    """Before forking grading processes: wait for this process's templates, which they then share
    instead of starting their own (each would import torch once more). How many are ready."""
    with _lock:
        found = [z for z in _templates.values() if isinstance(z, Zygote)]
    for z in found:
        z.shared = z.wait_ready()
    return sum(z.shared for z in found)


def failed(limits, probes: Path | None, why: str):
    "Forget a template that could not fork: this process uses cold workers for its key from now."
    stamp = os.stat(probes).st_mtime_ns if probes is not None else 0
    with _lock:
        z = _templates.get((limits, str(probes), stamp))
        if isinstance(z, Zygote):
            z.close()
        _templates[(limits, str(probes), stamp)] = why


def stages() -> str:
    """The folder every worker of this process sees read-only, each submission's stage in it
    under a random name: traversable (0711) but not listable, so no worker finds another's.
    A process forked from ours keeps it (a shared template shows only it); ours removes it."""
    with _stages_lock:
        if not _stages:
            _stages[:] = [str(os.getpid()), tempfile.mkdtemp(prefix="ag-stages-")]
            os.chmod(_stages[1], 0o711)
        return _stages[1]


def new_stage() -> str:
    "A fresh stage folder for one submission, under stages()."
    path = os.path.join(stages(), secrets.token_hex(16))
    os.mkdir(path, 0o755)
    os.chmod(path, 0o755)
    return path


def _forget():
    """In a process forked from ours (a batch's grading process): it keeps the templates we
    shared, each with a new thread lock, and forgets the others."""
    global _lock, _stages_lock
    _lock, _stages_lock = threading.Lock(), threading.Lock()
    for key, z in list(_templates.items()):
        if isinstance(z, Zygote) and z.shared and not z.broken:
            z.lock = threading.Lock()
        else:
            del _templates[key]
    _asked.clear()


def close_all():
    "Stop this process's templates (at exit; or sooner, by a caller that wants none left)."
    with _lock:
        found = list(_templates.values())
        _templates.clear()
    for z in found:
        if isinstance(z, Zygote) and z.pid == os.getpid():
            z.close()


def _at_exit():
    close_all()
    if _stages and _stages[0] == str(os.getpid()):
        shutil.rmtree(_stages[1], ignore_errors=True)


os.register_at_fork(after_in_child=_forget)
atexit.register(_at_exit)
