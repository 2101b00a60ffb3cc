"""The untrusted side: a child process that runs a submission's cells and answers with data only.

Started as a script (`python -I worker.py ...`), never imported by the trusted parent. It loads
`protocol.py` and `probes.py` by path, hides the grader's own packages from the student's code,
executes exercise cells one request at a time, and runs probes on the names they defined.
Whatever the student does in here, the parent receives only decoded data and checks it.
"""

import importlib.abc
import importlib.util
import linecache
import os
import random
import sys
import time
import traceback

HIDDEN_PACKAGES = ("autograder", "reference", "_pytest", "pytest")


def load_by_path(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_assignment_probes(probes, path):
    """The assignment's own probes.py, which imports helpers from `autograder.probes`: here that
    is our copy, for the moment of the import only (the grader is hidden again right after)."""
    import types

    pkg = types.ModuleType("autograder")
    pkg.__path__, pkg.probes = [], probes
    sys.modules["autograder"], sys.modules["autograder.probes"] = pkg, probes
    try:
        mod = load_by_path("_ag_assignment_probes", path)
    finally:
        del sys.modules["autograder"], sys.modules["autograder.probes"]
    probes.STAND_INS.update(getattr(mod, "STAND_INS", {}))
    probes.PROBES.update(getattr(mod, "PROBES", {}))


class HideGrader(importlib.abc.MetaPathFinder):
    "Makes the grader and reference unimportable from student code (the sandbox hides files too)."

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN_PACKAGES:
            raise ModuleNotFoundError(f"No module named {name!r} (not available while grading)")
        return None


def reopen_std_streams():
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name, None)
        if stream is None or getattr(stream, "closed", True):
            setattr(sys, name, open(fd, "w", closefd=False))


def rss() -> int:
    "Resident memory in bytes now (Linux), or the peak so far elsewhere."
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def format_error(exc: BaseException) -> str:
    "The error as a student needs it: the cell and line where it happened, and the message."
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell")]
    where = [
        f"{f.filename[1:-1]}, line {f.lineno}, in {f.name}: {(f.line or '').strip()}"
        for f in frames[-3:]
    ]
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith("<cell"):
        where = [f"{exc.filename[1:-1]}, line {exc.lineno}: {(exc.text or '').strip()}"]
    msg = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return "\n".join([*where, msg])[:4000]


class Worker:
    def __init__(self, probes, protocol):
        self.probes, self.protocol, self.ns = probes, protocol, {"__name__": "__main__"}

    def exec(self, grade_id: str, source: str, defines=()):
        filename = f"<cell '{grade_id}'>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            exec(compile(source, filename, "exec"), self.ns)
        except BaseException as e:  # SystemExit and friends too: the cell failed, we go on
            return {"ok": False, "error": format_error(e), "kind": type(e).__name__}
        missing = [n for n in defines if n not in self.ns]
        if missing:
            msg = f"ran but did not define {', '.join(missing)}"
            return {"ok": False, "error": msg, "kind": "MissingDefinition"}
        return {"ok": True, "rss": rss()}

    def probe(self, name: str, args, seed: int, forbidden=()):
        torch = self.probes.torch
        reopen_std_streams()  # one cell closing sys.stdout must not break prints in another
        torch.random.default_generator.manual_seed(seed)  # torch.manual_seed, less its tracebacks
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
        random.seed(seed)
        monitor = self.probes.Monitor(forbidden)
        t0 = time.perf_counter()
        try:
            with monitor:
                value = self.probes.PROBES[name](self.ns, *args)
        except BaseException as e:
            out = {"ok": False, "error": format_error(e), "kind": type(e).__name__}
        else:
            out = {"ok": True, "value": value}
        out.update(seconds=time.perf_counter() - t0, forbidden=sorted(monitor.seen))
        return out

    def origins(self, names):
        "Where each defined name comes from: its module and its bases' modules."
        return {n: self.probes.origin(self.ns.get(n)) for n in names}

    def handle(self, req):
        op = req.get("op")
        if op == "exec":
            return self.exec(req["grade_id"], req["source"], req.get("defines", ()))
        if op == "probe":
            return self.probe(req["name"], req["args"], req["seed"], req.get("forbidden", ()))
        if op == "origins":
            return self.origins(req["names"])
        if op == "ping":
            import resource

            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            return {"ok": True, "pid": os.getpid(), "rss": rss(), "peak": peak}
        return {"ok": False, "error": f"unknown request {op!r}"}


def prepare(argv) -> Worker:
    "Everything before the first request: load our modules and torch, hide the grader."
    here = os.path.dirname(os.path.abspath(__file__))
    protocol = load_by_path("_ag_protocol", os.path.join(here, "protocol.py"))
    probes = load_by_path("_ag_probes", os.path.join(here, "probes.py"))
    threads = int(argv[3])
    if len(argv) > 4 and argv[4]:
        load_assignment_probes(probes, argv[4])
    probes.torch.set_num_threads(threads)
    probes.watch()  # torch.optim, torch.utils.data and threads, seen by the run-time monitor
    sys.meta_path.insert(0, HideGrader())
    for mod in [m for m in sys.modules if m.split(".")[0] in HIDDEN_PACKAGES]:
        del sys.modules[mod]
    return Worker(probes, protocol)


def serve(worker: Worker, rfd: int, wfd: int) -> int:
    "Answer requests until the parent closes the request pipe."
    protocol = worker.protocol
    while True:
        try:
            req = protocol.read_message(rfd)
        except EOFError:
            return 0
        rid = req.get("id") if isinstance(req, dict) else None
        try:
            resp = worker.handle(req)
        except BaseException as e:
            resp = {"ok": False, "error": f"the request failed: {e!r}"[:2000]}
        if not isinstance(resp, dict):
            resp = {"ok": False, "error": "the request gave no answer"}
        resp["id"] = rid  # the parent takes only the answer to the request it sent
        try:  # the student may have closed or replaced sys.stdout: that must not cost the answer
            sys.__stdout__.flush()
        except BaseException:
            pass
        try:
            protocol.write_message(wfd, resp)
        except BaseException as e:  # an answer that cannot be encoded is reported, not fatal
            err = {"ok": False, "error": f"grader could not send: {e!r}", "id": rid}
            protocol.write_message(wfd, err)


def main(argv):
    "argv: this script, the request and answer fds, torch's threads, the assignment's probes."
    return serve(prepare(argv), int(argv[1]), int(argv[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
