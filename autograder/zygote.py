"""The template worker: it imports torch once, inside the sandbox, then forks one fresh worker
per request, each in namespaces of its own.

Started as a script under the same bubblewrap command as a cold worker (`python -I zygote.py CTL
THREADS TMP_BYTES [PROBES]`), never imported by the trusted parent. It runs `worker.prepare`, no
student code, and refuses to serve if it holds more than one thread or a shared writable
mapping (either would be shared with every fork). Each fork, before any request reaches it:

- waits until the parent has moved it into the new worker's cgroup (memory and pids limits);
- takes a new user, mount, pid, network, ipc, uts and cgroup namespace;
- gets a fresh /tmp and /dev/shm, and a /proc that shows only itself;
- drops every capability, and reports on a status pipe that it is ready; its pid 1 reports its
  exit code there when it ends, so the parent can tell a crash from a kill.

Nothing a fork leaves behind reaches the next one: it cannot see the template or its siblings
(other pid namespace, /proc hidden), nor share files, sockets or IPC with them.
"""

import ctypes
import fcntl
import os
import signal
import socket
import sys

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWUSER = 0x08000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_CAP_AMBIENT = 1, 4, 24, 47
OPEN_TREE_CLONE, AT_RECURSIVE, O_CLOEXEC = 1, 0x8000, 0o2000000
SYS_OPEN_TREE, SYS_MOVE_MOUNT, MOVE_MOUNT_F_EMPTY_PATH, AT_FDCWD = 428, 429, 4, -100
PROC_FILES = ("meminfo", "stat", "cpuinfo", "uptime", "loadavg")  # what torch and Python read

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def ok(r, what):
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")
    return r


def mount(src, target, fstype, flags, data=None):
    enc = [None if a is None else a.encode() for a in (src, target, fstype, data)]
    ok(libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]), f"mount {target}")


def prctl(option, arg=0):
    return ok(libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl {option}")


def open_tree(path):
    "A detached copy of the mount (or subtree) at path, to attach elsewhere later."
    flags = OPEN_TREE_CLONE | AT_RECURSIVE | O_CLOEXEC
    return ok(libc.syscall(SYS_OPEN_TREE, AT_FDCWD, path.encode(), flags), f"open_tree {path}")


def move_mount(fd, target):
    args = (SYS_MOVE_MOUNT, fd, b"", AT_FDCWD, target.encode(), MOVE_MOUNT_F_EMPTY_PATH)
    ok(libc.syscall(*args), f"move_mount {target}")
    os.close(fd)


def mount_points() -> list[str]:
    with open("/proc/self/mountinfo") as f:
        fields = [line.split() for line in f]
    unescape = lambda p: p.encode().decode("unicode_escape").encode("latin-1").decode()  # noqa
    return [unescape(f[4]) for f in fields]


def shared_writable() -> list[str]:
    "Mappings a fork would share with its siblings (shared and writable)."
    with open("/proc/self/maps") as f:
        perms = [(line.split()[1], line.strip()) for line in f]
    return [line for p, line in perms if p[1] == "w" and p[3] == "s"]


def fresh_tmp(size: int):
    "A new private /tmp; what was mounted below the old one (a checkout's .venv) is kept."
    below = sorted(p for p in mount_points() if p.startswith("/tmp/"))
    below = [p for p in below if not any(p.startswith(q + "/") for q in below if q != p)]
    trees = [(p, open_tree(p)) for p in below]
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    for p, fd in trees:
        os.makedirs(p, exist_ok=True)
        move_mount(fd, p)
    # the folders made to hold them are read-only, as bubblewrap's are: a cell cannot add files
    # beside the checkout's .venv (a path that looks like the checkout's own)
    for top in sorted({"/".join(p.split("/")[:3]) for p in below} - set(below)):
        mount(top, top, None, MS_BIND | MS_REC)
        mount(None, top, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")


def own_proc():
    "Cover /proc with a read-only one that shows this process only (and a few system files)."
    me = os.readlink("/proc/self")
    trees = [("self", open_tree(f"/proc/{me}"))]
    trees += [(name, open_tree(f"/proc/{name}")) for name in PROC_FILES]
    mount("tmpfs", "/proc", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k,mode=755")
    for name, fd in trees:
        if name == "self":
            os.mkdir(f"/proc/{name}")
        else:
            open(f"/proc/{name}", "w").close()
        move_mount(fd, f"/proc/{name}")
    os.symlink("self", "/proc/thread-self")
    os.symlink("self/mounts", "/proc/mounts")
    mount(None, "/proc", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [(k, ctypes.c_uint32) for k in ("effective", "permitted", "inheritable")]


def drop_capabilities():
    "None in the bounding, ambient, effective, permitted or inheritable sets; checked after."
    cap = 0
    while libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) == 0:
        cap += 1
    prctl(PR_CAP_AMBIENT, 4)  # PR_CAP_AMBIENT_CLEAR_ALL
    data = (CapData * 2)()
    ok(libc.capset(ctypes.byref(CapHeader(0x20080522, 0)), data), "capset")
    with open("/proc/self/status") as f:
        caps = {k: v.strip() for k, _, v in (line.partition(":") for line in f)}
    for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if int(caps.get(k, "1"), 16):
            raise OSError(f"{k} is {caps.get(k)} after dropping every capability")


def become_worker(fds, status_w, argv, worker_mod, w):
    "The worker itself (pid 2 of its namespace): its fds, its /proc, no capabilities, serve."
    try:
        os.setsid()
        null = os.open("/dev/null", os.O_RDONLY)
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in (null, *fds, status_w)]
        for dst, src in enumerate(high):  # 0 stdin, 1 stdout, 2 stderr, 3 requests, 4 answers
            os.dup2(src, dst)
        os.closerange(6, os.sysconf("SC_OPEN_MAX"))
        own_proc()
        drop_capabilities()
        prctl(PR_SET_DUMPABLE, 0)
        os.write(5, b"+\n")
        os.close(5)
    except BaseException as e:
        os.write(5, f"!{type(e).__name__}: {e}\n".encode()[:500])
        os._exit(4)
    sys.argv = argv
    os._exit(worker_mod.serve(w, 3, 4))


def fork_worker(fds, go_r, tmp_bytes, argv, worker_mod, w):
    "Runs in the template's child C; never returns."
    status_w = fds[4]
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        if os.read(go_r, 1) != b"g":  # the parent moves us into the worker's cgroup first
            os._exit(3)
        os.close(go_r)
        prctl(PR_SET_DUMPABLE, 1)  # to write our own uid_map
        uid, gid = os.getuid(), os.getgid()
        flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
        ok(libc.unshare(flags | CLONE_NEWNET | CLONE_NEWCGROUP), "unshare")
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
        if os.fork():
            os._exit(0)  # the child is pid 1 of the new pid namespace
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        fresh_tmp(tmp_bytes)
        worker = os.fork()
        if worker == 0:
            out = (fds[2], fds[3], fds[0], fds[1])  # stdout, stderr, requests, answers
            become_worker(out, status_w, argv, worker_mod, w)
        for fd in fds[:4]:
            os.close(fd)
        while True:
            pid, status = os.waitpid(-1, 0)  # pid 1 reaps everything; its worker's code is sent
            if pid == worker:
                os.write(status_w, f"{os.waitstatus_to_exitcode(status)}\n".encode())
                os._exit(0)
    except BaseException as e:
        try:
            os.write(status_w, f"!{type(e).__name__}: {e}\n".encode()[:500])
        finally:
            os._exit(4)


def main(argv):
    ctl, threads, tmp_bytes = int(argv[1]), argv[2], int(argv[3])
    probes = argv[4] if len(argv) > 4 else ""
    here = os.path.dirname(os.path.abspath(__file__))
    spec_argv = [os.path.join(here, "worker.py"), "3", "4", threads, probes]
    import importlib.util

    spec = importlib.util.spec_from_file_location("_ag_worker", spec_argv[0])
    worker_mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worker_mod)
    w = worker_mod.prepare(spec_argv)
    prctl(PR_SET_DUMPABLE, 0)  # no fork may read the template's memory
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forks are reaped by the kernel
    sock = socket.socket(fileno=ctl)
    threads_now = len(os.listdir("/proc/self/task"))
    shared = shared_writable()
    if threads_now != 1 or shared:
        sock.send(f"refused: {threads_now} threads, shared writable maps {shared[:3]}".encode())
        return 1
    sock.send(b"ready")
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 64, 6)
        except OSError:
            return 0
        order, _, token = msg.partition(b" ")
        if order != b"fork" or not token or len(fds) != 6:
            for fd in fds:
                os.close(fd)
            return 0 if not msg else 2
        try:
            pid = os.fork()
        except OSError as e:  # out of processes (a fork bomb elsewhere): this one starts cold
            pid = f"!{e}"  # never exit here: every fork lives in our pid namespace and dies with it
        if pid == 0:
            sock.close()
            fork_worker(fds[:5], fds[5], tmp_bytes, spec_argv, worker_mod, w)
        for fd in fds:
            os.close(fd)
        sock.send(token + b" " + str(pid).encode())  # the token: whose order this answers


if __name__ == "__main__":
    sys.exit(main(sys.argv))
