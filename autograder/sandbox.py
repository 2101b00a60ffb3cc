"""Start the untrusted worker and talk to it: limits, timeouts, restarts, output capture.

The worker is `python -I worker.py` in a fresh empty folder, in its own session (process group),
with resource limits, a minimal environment and its stdout/stderr drained into capped buffers.
Requests and answers travel on two dedicated pipes, never on stdout. On a timeout or a crash the
whole process group is killed; the caller decides whether to start a new one.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT_CAP = 64 * 1024  # bytes of the student's prints we keep per stream


@dataclass(frozen=True)
class Limits:
    "Resource limits for one worker process."

    memory_bytes: int = 8 * 2**30  # address space; torch alone maps ~1-2 GiB
    cpu_seconds: int = 900
    file_bytes: int = 64 * 2**20
    open_files: int = 256
    processes: int = 512  # per uid, counted across the machine: bounds a fork bomb
    tmp_bytes: int = 256 * 2**20  # the sandbox's private /tmp
    threads: int = 1  # torch intra-op threads: 1 is fastest for the lesson's small MLP on 2 cores
    isolation: str = "auto"  # "bwrap", "process", or "auto" (bwrap where it works)
    device: str = "cpu"
    # memory over all the worker's processes (a cgroup, where one can be made); 0: total_memory()
    total_memory_bytes: int = 0
    fallback_processes: int = 128  # the per-uid process limit where no cgroup can be made


def total_memory(limits: Limits) -> int:
    """The cap over all the worker's processes: 4 GiB on the CPU (a worker that trains the lesson
    peaks near 0.5 GiB; one process alone already stops at its address-space limit), 16 GiB with
    CUDA, whose host-side mappings are larger."""
    if limits.total_memory_bytes:
        return limits.total_memory_bytes
    return 4 * 2**30 if limits.device == "cpu" else 16 * 2**30


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


def _limit(limits: Limits, group: Cgroup | None = None):
    import resource

    processes = limits.processes if group else min(limits.processes, limits.fallback_processes)

    def apply():
        if group is not None:
            group.join()  # before exec: bubblewrap and everything it starts are counted
        for res, val in [
            (resource.RLIMIT_AS, limits.memory_bytes),
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_FSIZE, limits.file_bytes),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_NPROC, processes),
            (resource.RLIMIT_CORE, 0),
        ]:
            if res == resource.RLIMIT_AS and limits.device != "cpu":
                continue  # CUDA maps a huge address space; the GPU's own memory bounds it
            # CPU: the soft limit sends SIGXCPU, so the message can say why; the hard one kills
            hard = val + 5 if res == resource.RLIMIT_CPU else val
            try:
                resource.setrlimit(res, (val, hard))
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

    def __init__(
        self,
        limits: Limits = Limits(),
        files: dict[str, str] | None = None,
        probes: Path | None = None,
    ):
        """files maps paths outside to paths the worker may read (the sandbox shows only those);
        probes is the assignment's probes.py, loaded beside ours (copied in: its folder stays
        hidden)."""
        self.limits, self.files, self.probes_file = limits, dict(files or {}), probes
        self.home = tempfile.mkdtemp(prefix="ag-worker-")
        self.isolation = choose_isolation(limits.isolation)
        self.next_id = 0  # every request carries an id; the answer must echo it
        self.deadline: float | None = None  # time.monotonic() past which no request is sent
        self.deadline_reason = "not run: the submission used up its time"
        self.cgroup = Cgroup.create(total_memory(limits), limits)
        self.memory_cap = "cgroup" if self.cgroup else "rlimit"
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        self.forked = False  # whether a template forked this worker (see autograder.template)
        if self.cgroup is not None and self.isolation == "bwrap":
            self.proc = self._fork(probes, (req_r, resp_w, out_w, err_w))
        if not self.forked:
            self.proc = self._cold(probes, (req_r, resp_w, out_w, err_w))
        if self.cgroup is not None:  # removed when this object goes, or at exit, if not before
            weakref.finalize(self, self.cgroup.remove, 2.0)
        for fd in (req_r, resp_w, out_w, err_w):
            os.close(fd)
        self.stdout, self.stderr = Drain(out_r), Drain(err_r)

    def _fork(self, probes, fds):
        "A worker forked from this process's template, or None (then a cold one starts)."
        from autograder import template

        z = template.zygote_for(self.limits, probes)
        inside = z.shown(self.files) if z is not None else None
        if inside is None:
            return None
        try:
            proc = z.fork(self.cgroup, fds)
        except template.ZygoteFailed as e:
            if not e.once:  # the template itself is broken: this process goes cold for its key
                template.failed(self.limits, probes, str(e))
            self.cgroup.kill()
            return None
        self.files, self.forked = inside, True
        return proc

    def _cold(self, probes, fds) -> subprocess.Popen:
        "A new `python worker.py` under bubblewrap (or a plain process): it imports torch itself."
        limits, (req_r, resp_w, out_w, err_w) = self.limits, fds
        argv = [str(req_r), str(resp_w), str(limits.threads), ""]
        if probes is not None:  # a copy beside the worker's own files, never the folder itself
            os.makedirs(os.path.join(self.home, "grader"), mode=0o755, exist_ok=True)
            shutil.copy(probes, os.path.join(self.home, "grader", "assignment_probes.py"))
            inside = "/grader" if self.isolation == "bwrap" else os.path.join(self.home, "grader")
            argv[3] = os.path.join(inside, "assignment_probes.py")
        if self.isolation == "bwrap":
            cmd, cwd, env = bwrap_command(self, argv), "/", worker_env(limits.threads, "/tmp")
        else:
            self.files = {k: k for k in self.files}
            cmd = [sys.executable, "-I", "-X", "faulthandler", str(HERE / "worker.py"), *argv]
            cwd, env = self.home, worker_env(limits.threads, self.home)
        return self._start(cmd, cwd, env, (req_r, resp_w), out_w, err_w)

    def _start(self, cmd, cwd, env, fds, out_w, err_w) -> subprocess.Popen:
        "Popen in the cgroup; without one (and with the tighter process limit) if joining fails."
        try:
            return self._popen(cmd, cwd, env, fds, out_w, err_w)
        except (OSError, subprocess.SubprocessError):
            if self.cgroup is None:
                raise
            self.cgroup.remove()
            self.cgroup, self.memory_cap = None, "rlimit"
            return self._popen(cmd, cwd, env, fds, out_w, err_w)

    def _popen(self, cmd, cwd, env, fds, out_w, err_w) -> subprocess.Popen:
        limits = self.limits
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out_w,
            stderr=err_w,
            cwd=cwd,
            env=env,
            pass_fds=fds,
            start_new_session=True,
            preexec_fn=_limit(limits, self.cgroup) if os.name == "posix" else None,
        )

    def inside(self, path: str) -> str:
        "Where the worker sees a file we showed it."
        return self.files[str(path)]

    def request(self, msg: dict, timeout: float):
        "Send one request and wait for its answer; WorkerGone on timeout, crash or garbage."
        from autograder import protocol  # imports torch: not needed to start a worker

        capped = False
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise WorkerGone(self.deadline_reason)
            capped, timeout = left < timeout, min(timeout, left)
        self.next_id += 1
        rid = self.next_id
        try:
            protocol.write_message(self.req_w, {**msg, "id": rid})
            ans = protocol.read_message(self.resp_r, timeout)
        except TimeoutError:
            self.kill()
            if capped:
                raise WorkerGone(self.deadline_reason) from None
            raise WorkerGone(
                f"took longer than {timeout:g} s and was stopped (an infinite loop? "
                "a very slow loop?)"
            ) from None
        except (EOFError, BrokenPipeError, OSError):
            raise WorkerGone(self._death()) from None
        except protocol.ProtocolError as e:
            self.kill()
            why = self._over_memory() or f"the worker's answer could not be read ({e})"
            raise WorkerGone(why) from None
        if not isinstance(ans, dict) or ans.get("id") != rid:
            self.kill()
            raise WorkerGone(
                "the worker sent an answer nobody asked for (something in the notebook wrote to "
                "the grader's channel) and was stopped"
            )
        del ans["id"]
        if over := self._over_memory():
            self.kill()
            raise WorkerGone(over)
        return ans

    def _over_memory(self) -> str:
        "Why the worker must stop if the kernel killed one of its processes for memory, or ''."
        if self.cgroup is None or not self.cgroup.oom_kills():
            return ""
        return (
            f"a process of the worker went over the memory limit of {self.cgroup.limit // 2**20} "
            "MiB (all its processes together) and was killed, so the worker was stopped"
        )

    def _death(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            return "the worker stopped answering and was stopped"
        self.kill()
        if self.deadline is not None and time.monotonic() >= self.deadline - 0.5:
            return self.deadline_reason  # the watchdog killed it at the submission's deadline
        if over := self._over_memory():
            return over
        if self.forked and self.proc.why:  # its pid 1 failed, and the namespace went with it
            return f"the worker's sandbox stopped it ({self.proc.why}); grade it again"
        if self.isolation == "bwrap" and not self.forked and code > 128:
            code = -(code - 128)  # bubblewrap reports its child's death by signal N as 128 + N
        if code < 0:
            try:
                sig = signal.Signals(-code).name
            except ValueError:
                sig = f"signal {-code}"
            hint = {
                "SIGKILL": " (out of memory, or a time limit)",
                "SIGXCPU": " (CPU time limit)",
                "SIGSEGV": " (a crash in native code)",
            }.get(sig, "")
            return f"the worker process was killed by {sig}{hint}"
        return f"the worker process exited with status {code} (sys.exit, os._exit or a crash?)"

    def kill(self):
        "Kill the whole process group, so children the student started die too."
        if not self.forked:  # a fork's processes are all in its cgroup (and its pid namespace)
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.cgroup is not None:
            self.cgroup.kill()  # and any that left the group (setsid) but not the cgroup
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self.cgroup is not None:  # a dead worker is often dropped without close()
            self.cgroup.remove(wait=2.0)

    def close(self):
        for fd in (self.req_w, self.resp_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.kill()
        if self.cgroup is not None:
            self.cgroup.remove()
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


# --- a cgroup over all the worker's processes ---------------------------------------------------


class Cgroup:
    """A memory cgroup made for one worker (v2 where it has the memory controller, else v1),
    and a pids one beside it where v1 has that controller. Everything the worker starts stays in
    it: a fork that multiplies memory is bounded by the total, not per process."""

    def __init__(self, memory: Path, v2: bool, limit: int, others: list[Path]):
        self.memory, self.v2, self.limit, self.dirs = memory, v2, limit, [memory, *others]
        self.final_oom: int | None = None  # the count read just before the group was removed

    @staticmethod
    def sweep(base: Path):
        "Remove empty groups left by graders that died without closing (SIGKILL, a timeout)."
        try:
            for d in base.glob("ag-worker-*"):
                pid = d.name.split("-")[2]
                if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                    d.rmdir()  # fails while processes are still in it: then it stays
        except (OSError, IndexError):
            pass

    @classmethod
    def create(cls, limit: int, limits: Limits) -> Cgroup | None:
        "A new cgroup with the limit set, or None where none can be made (not root, no cgroupfs)."
        if sys.platform != "linux" or os.environ.get("AG_NO_CGROUP"):
            return None
        try:
            own = dict(
                (ctl, path)
                for line in Path("/proc/self/cgroup").read_text().splitlines()
                for _, ctls, path in [line.split(":", 2)]
                for ctl in (ctls.split(",") if ctls else ["unified"])
            )
        except (OSError, ValueError):
            return None
        name = f"ag-worker-{os.getpid()}-{os.urandom(4).hex()}"
        made: list[Path] = []

        def mk(root: str, ctl: str) -> Path | None:
            for base in (Path(root + own[ctl]), Path(root)):  # our own group, else the root
                cls.sweep(base)
                try:
                    (base / name).mkdir()
                except OSError:
                    continue
                made.append(base / name)
                return base / name
            return None

        group = None
        try:
            if "memory" in own and os.path.isdir("/sys/fs/cgroup/memory"):
                d = mk("/sys/fs/cgroup/memory", "memory")
                if d is not None:
                    (d / "memory.limit_in_bytes").write_text(str(limit))
                    if (d / "memory.memsw.limit_in_bytes").exists():  # no swapping past it
                        (d / "memory.memsw.limit_in_bytes").write_text(str(limit))
                    group = cls(d, False, limit, [])
            if group is None and "unified" in own:
                for root in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
                    d = mk(root, "unified") if os.path.isdir(root) else None
                    if d is not None and (d / "memory.max").exists():
                        (d / "memory.max").write_text(str(limit))
                        for f, v in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
                            if (d / f).exists():
                                (d / f).write_text(v)
                        if (d / "pids.max").exists():
                            (d / "pids.max").write_text(str(limits.processes))
                        group = cls(d, True, limit, [])
                        break
            if group is None:
                raise OSError("no cgroup with a memory controller")
            if not group.v2 and "pids" in own and os.path.isdir("/sys/fs/cgroup/pids"):
                d = mk("/sys/fs/cgroup/pids", "pids")
                if d is not None:
                    (d / "pids.max").write_text(str(limits.processes))
                    group.dirs.append(d)
        except OSError:
            for d in reversed(made):
                try:
                    d.rmdir()
                except OSError:
                    pass
            return None
        for d in made:  # an empty v2 group we made on the way, without the memory controller
            if d not in group.dirs:
                try:
                    d.rmdir()
                except OSError:
                    pass
        return group

    def join(self):
        "Move the calling process in (run in the child, before exec)."
        self.move(os.getpid())

    def move(self, pid: int):
        "Move a process in; the processes it starts from then on are born in the group."
        for d in self.dirs:
            (d / "cgroup.procs").write_text(str(pid))

    def oom_kills(self) -> int:
        "How many processes the kernel killed in this group for going over its memory limit."
        if self.final_oom is not None:
            return self.final_oom
        f = self.memory / ("memory.events" if self.v2 else "memory.oom_control")
        try:
            for line in f.read_text().splitlines():
                k, _, v = line.partition(" ")
                if k == "oom_kill":
                    return int(v)
        except (OSError, ValueError):
            pass
        return 0

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.memory / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def kill(self):
        "SIGKILL everything in the group, even processes that left the worker's process group."
        if self.v2 and (self.memory / "cgroup.kill").exists():
            try:
                (self.memory / "cgroup.kill").write_text("1")
                return
            except OSError:
                pass
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def remove(self, wait: float = 5.0):
        "Kill what is left and remove the group (it can only go once empty)."
        if self.final_oom is None:
            self.final_oom = self.oom_kills()
        end = time.monotonic() + wait
        for d in reversed(self.dirs):
            while True:
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > end:
                        break
                    self.kill()
                    time.sleep(0.02)


# --- the bubblewrap sandbox -------------------------------------------------------------------

UNPRIVILEGED = 65534  # nobody


@functools.cache
def bwrap_works() -> bool:
    "bubblewrap is installed and can create the namespaces here (not on macOS, Windows, some CI)."
    if sys.platform != "linux" or not shutil.which("bwrap"):
        return False
    probe = [
        "bwrap",
        "--unshare-pid",
        "--unshare-net",
        "--ro-bind",
        "/",
        "/",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        *_drop(),
        "true",
    ]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def choose_isolation(wanted: str) -> str:
    if wanted == "process":
        return "process"
    if bwrap_works():
        return "bwrap"
    if wanted == "bwrap":
        raise RuntimeError(
            "isolation 'bwrap' was asked for, but bubblewrap is missing or cannot "
            "create namespaces here; install it (apt-get install bubblewrap) or "
            "use isolation 'auto'"
        )
    return "process"


def _drop() -> list[str]:
    "How the worker loses its privileges: setpriv to nobody as root, a user namespace otherwise."
    if os.geteuid() == 0 and shutil.which("setpriv"):
        return [
            "--cap-add",
            "CAP_SETUID",
            "--cap-add",
            "CAP_SETGID",
            "--",
            "setpriv",
            f"--reuid={UNPRIVILEGED}",
            f"--regid={UNPRIVILEGED}",
            "--clear-groups",
            "--inh-caps=-all",
            "--no-new-privs",
            "--",
        ]
    return ["--unshare-user", "--uid", str(UNPRIVILEGED), "--gid", str(UNPRIVILEGED), "--"]


def _ro(src: str, dest: str | None = None) -> list[str]:
    "A read-only bind, with its parent folders made traversable for the unprivileged worker."
    dest = dest or src
    parents = [str(p) for p in reversed(Path(dest).parents) if str(p) not in ("/", "/tmp")]
    return [a for d in parents for a in ("--perms", "0755", "--dir", d)] + ["--ro-bind", src, dest]


def _python_roots() -> list[str]:
    "The folders Python and its packages live in, resolved, without the grader's own checkout."
    roots = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    roots |= {p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p}
    roots = {os.path.realpath(r) for r in roots} | roots
    keep = sorted(r for r in roots if not r.startswith(("/usr/", "/proc")) and r != "/usr")
    return [r for r in keep if not any(r != o and r.startswith(o + os.sep) for o in keep)]


def _masks(roots: list[str]) -> list[str]:
    "Hide the grader and the reference if they are installed inside a folder we show."
    import importlib.util

    out = []
    for name in ("autograder", "reference"):
        spec = importlib.util.find_spec(name)
        for loc in (spec.submodule_search_locations or []) if spec else []:
            if any(loc.startswith(r + os.sep) for r in roots):
                out += ["--tmpfs", loc]
    return out


def bwrap_command(w, argv: list[str], script="worker.py", die_with_parent=True) -> list[str]:
    """The worker inside bubblewrap: new pid, net, ipc and uts namespaces; read-only system and
    Python; a private size-capped /tmp; only the worker's own files and the files it was shown."""
    grader = Path(w.home) / "grader"
    grader.mkdir(mode=0o755, exist_ok=True)
    os.chmod(w.home, 0o755)
    for f in ("worker.py", "protocol.py", "probes.py", "zygote.py"):
        shutil.copy(HERE / f, grader / f)
        os.chmod(grader / f, 0o644)
    cmd = [
        "bwrap",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        *(["--die-with-parent"] if die_with_parent else []),
        "--new-session",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for d in ("bin", "lib", "lib64", "sbin"):
        p = Path("/") / d
        if p.is_symlink():
            cmd += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            cmd += ["--ro-bind", str(p), str(p)]
    for f in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime"):
        if os.path.exists(f):
            cmd += ["--ro-bind", f, f]
    # the private /tmp first: binds below it (a checkout under /tmp) must land on top of it
    cmd += ["--proc", "/proc", "--dev", "/dev", "--size", str(w.limits.tmp_bytes)]
    cmd += ["--perms", "1777", "--tmpfs", "/tmp"]
    roots = _python_roots()
    for r in roots:
        cmd += _ro(r)
    cmd += _masks(roots)
    if w.limits.device != "cpu":
        cmd += ["--ro-bind", "/sys", "/sys"]
        cmd += [
            a
            for dev in sorted(Path("/dev").glob("nvidia*"))
            for a in ("--dev-bind", str(dev), str(dev))
        ]
    cmd += _ro(str(grader), "/grader")
    for k, outside in enumerate(list(w.files)):
        inside = f"/data/{k}-{Path(outside).name}"
        cmd += _ro(outside, inside)
        w.files[outside] = inside
    cmd += ["--chdir", "/tmp", *_drop()]
    return cmd + [sys.executable, "-I", "-X", "faulthandler", f"/grader/{script}", *argv]
