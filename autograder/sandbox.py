"""Start the untrusted worker and talk to it: limits, timeouts, restarts, output capture.

The worker is `python -I worker.py` in a fresh empty folder, in its own session (process group),
with resource limits, a minimal environment and its stdout/stderr drained into capped buffers.
Requests and answers travel on two dedicated pipes, never on stdout. On a timeout or a crash the
whole process group is killed; the caller decides whether to start a new one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from autograder import protocol

HERE = Path(__file__).resolve().parent
OUTPUT_CAP = 64 * 1024  # bytes of the student's prints we keep per stream


@dataclass(frozen=True)
class Limits:
    "Resource limits for one worker process."

    memory_bytes: int = 8 * 2**30  # address space; torch alone maps ~1-2 GiB
    cpu_seconds: int = 900
    file_bytes: int = 64 * 2**20
    open_files: int = 256
    threads: int = 1  # torch intra-op threads: 1 is fastest for the lesson's small MLP on 2 cores


class WorkerGone(Exception):
    "The worker died or was killed; `reason` says how, for the student."

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Drain(threading.Thread):
    "Reads a pipe to its end, keeping the first OUTPUT_CAP bytes (a print loop cannot fill RAM)."

    def __init__(self, fd: int):
        super().__init__(daemon=True)
        self.fd, self.buf, self.total = fd, bytearray(), 0
        self.start()

    def run(self):
        while chunk := os.read(self.fd, 65536):
            self.total += len(chunk)
            if len(self.buf) < OUTPUT_CAP:
                self.buf += chunk[: OUTPUT_CAP - len(self.buf)]
        os.close(self.fd)

    def text(self) -> str:
        more = (
            f"\n[... {self.total - len(self.buf)} more bytes not kept]"
            if self.total > len(self.buf)
            else ""
        )
        return self.buf.decode("utf-8", "replace") + more


def _limit(limits: Limits):
    import resource

    def apply():
        for res, val in [
            (resource.RLIMIT_AS, limits.memory_bytes),
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_FSIZE, limits.file_bytes),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_CORE, 0),
        ]:
            try:
                resource.setrlimit(res, (val, val))
            except (ValueError, OSError):
                pass  # the platform refuses this one; the wall-clock limits still hold

    return apply


def worker_env(threads: int, home: str) -> dict:
    "A minimal environment: nothing of the grader's own variables reaches student code."
    env = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT") if k in os.environ}
    n = str(threads)
    env.update(
        HOME=home,
        TMPDIR=home,
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
        OMP_NUM_THREADS=n,
        MKL_NUM_THREADS=n,
        OPENBLAS_NUM_THREADS=n,
    )
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # keep numerics the same as the parent's
        if k in os.environ:
            env[k] = os.environ[k]
    return env


class WorkerProcess:
    "One running worker: send a request, get data back, or learn that it is gone."

    def __init__(self, limits: Limits = Limits()):
        self.limits, self.isolation = limits, "process"
        self.home = tempfile.mkdtemp(prefix="ag-worker-")
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        cmd = [
            sys.executable,
            "-I",
            "-X",
            "faulthandler",
            str(HERE / "worker.py"),
            str(req_r),
            str(resp_w),
            str(limits.threads),
        ]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out_w,
            stderr=err_w,
            cwd=self.home,
            env=worker_env(limits.threads, self.home),
            pass_fds=(req_r, resp_w),
            start_new_session=True,
            preexec_fn=_limit(limits) if os.name == "posix" else None,
        )
        for fd in (req_r, resp_w, out_w, err_w):
            os.close(fd)
        self.stdout, self.stderr = Drain(out_r), Drain(err_r)

    def request(self, msg: dict, timeout: float):
        "Send one request and wait for its answer; WorkerGone on timeout, crash or garbage."
        try:
            protocol.write_message(self.req_w, msg)
            return protocol.read_message(self.resp_r, timeout)
        except TimeoutError:
            self.kill()
            raise WorkerGone(
                f"took longer than {timeout:g} s and was stopped (an infinite loop? "
                "a very slow loop?)"
            ) from None
        except (EOFError, BrokenPipeError, OSError):
            raise WorkerGone(self._death()) from None
        except protocol.ProtocolError as e:
            self.kill()
            raise WorkerGone(f"the worker's answer could not be read ({e})") from None

    def _death(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            return "the worker stopped answering and was stopped"
        self.kill()
        if code < 0:
            sig = signal.Signals(-code).name
            hint = {
                "SIGKILL": " (out of memory, or a time limit)",
                "SIGXCPU": " (CPU time limit)",
                "SIGSEGV": " (a crash in native code)",
            }.get(sig, "")
            return f"the worker process was killed by {sig}{hint}"
        return f"the worker process exited with status {code} (sys.exit, os._exit or a crash?)"

    def kill(self):
        "Kill the whole process group, so children the student started die too."
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def close(self):
        for fd in (self.req_w, self.resp_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.kill()
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def wait_ready(w: WorkerProcess, timeout: float = 60.0) -> float:
    "Ping until the worker answers (torch's import dominates); returns the seconds it took."
    t0 = time.perf_counter()
    w.request({"op": "ping"}, timeout)
    return time.perf_counter() - t0
