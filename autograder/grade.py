"""Grade one notebook: extract its cells, run them in a worker, check every answer, score it.

The trusted side of the design: this module never imports or runs student code. It sends cells
and probe requests to a `WorkerProcess` and judges the data that comes back against the oracle.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from autograder import assignment as asg
from autograder import early, forbidden, hints, parsing, policy, scoring, template
from autograder.extract import Submission, extract
from autograder.model import NOT_IMPLEMENTED, CheckResult, ProbeError, Report
from autograder.sandbox import Limits, WorkerGone, WorkerProcess, wait_ready

if TYPE_CHECKING:
    from autograder.oracle import Oracle


@dataclass
class Options:
    "How to grade: which checks, the seed, the limits, the training runs."

    hidden: bool = True
    training: bool = True  # the tests marked `training` (long graded runs)
    seed: int | None = None
    device: str = "cpu"
    data: Path | None = None
    limits: Limits = field(default_factory=Limits)
    submission_timeout: float = 900.0
    max_restarts: int = 20  # worker starts after the first, for the whole submission
    crashes_per_exercise: int = 2  # after this many, an exercise's remaining checks are not run
    cell_timeout: float = 30.0
    cell_memory_bytes: int = 1 << 30  # what one cell may keep alive after it ran
    probe_timeout: float | None = None  # caps each check's own limit (not a training run's)
    recorded: Path | None = None  # expected answers for the student bundle (no reference there)
    progress: object = None  # called as progress(stage, done, total) while grading
    assignment: str | None = None  # None: the notebook's own (its metadata stamp)
    # the static policy (autograder.policy); off only where tests attack the layers behind it
    policy: bool = True


class Session:
    "One submission's worker: executes its cells once, re-executes them after a crash."

    def __init__(self, sub: Submission, opts: Options, files: dict | None = None):
        self.sub, self.opts, self.worker, self.files = sub, opts, None, files or {}
        self.cell_error: dict[str, str] = dict(sub.cell_problems)
        self.restarts, self.start_seconds, self.ready = -1, 0.0, False
        self.answered = False  # whether the current worker has answered a probe
        self.isolation = "none"  # what the last worker ran under; "none" if none ever started
        self.instructor_errors: list[str] = []  # mistakes in the assignment's tests, file and line
        self.memory_cap = "none"  # how the last worker's memory was capped: "cgroup" or "rlimit"
        self.forked = False  # whether the last worker was forked from a template (not cold)
        # files a probe reads (testing.File) are linked into one folder that every worker of the
        # submission sees read-only, so a new file needs no restart; only the parent adds to it
        self.stage = template.new_stage()  # where every worker, forked or cold, can see it
        self.files[self.stage] = None
        self.staged: dict[str, str] = {}  # file outside -> its name in the stage
        # a worker started in the background while the checks run, for a test that asks for a
        # fresh one (a training run): it has imported torch by the time it is needed
        self.standby: WorkerProcess | None = None
        # one deadline over everything the worker does for this submission (cells, probes,
        # shrinking, restarts, training runs); a watchdog kills the current worker when it passes
        self.deadline = time.monotonic() + opts.submission_timeout
        self.expired_reason = f"not run: the submission used up its {opts.submission_timeout:g} s"
        self._watchdog = threading.Timer(opts.submission_timeout, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()
        # the cells, and a question known in advance, asked from a thread while this process
        # imports torch and collects the tests (begin); every other use of the worker waits
        self._early: threading.Thread | None = None
        self._cells_ran = threading.Event()
        self._early_error: Exception | None = None
        self._asked_early = None  # (the request's fingerprint, its worker) while unclaimed
        self._early_answer = None  # ("ok", answer) or ("gone", WorkerGone), once it came
        self.asked_early = False  # whether the first question took the early answer
        self.closing = False

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def _expire(self):
        "The watchdog: at the deadline the current worker dies, whatever it is doing."
        for w in (self.worker, self.standby):
            if w is not None:
                w.kill()

    def spawn(self):
        "Start a worker process without waiting for it (it takes a second to import torch)."
        if self.closing:
            raise WorkerGone("the grading was over")
        if self.expired():
            raise WorkerGone(self.expired_reason)
        self.restarts += 1
        if self.restarts > self.opts.max_restarts:
            raise WorkerGone("the worker crashed too many times; later checks were not run")
        self._use(self._start())

    def _start(self) -> WorkerProcess:
        limits = replace(self.opts.limits, device=_device(self.opts.device))
        probes = asg.get(self.opts.assignment).probes_file
        w = WorkerProcess(limits, files=self.files, probes=probes)
        w.deadline, w.deadline_reason = self.deadline, self.expired_reason
        if self.expired():  # the watchdog fired while this one was starting
            w.kill()
        return w

    def _use(self, w: WorkerProcess):
        "Make w the current worker; its cells run at the next `ensure`."
        self.worker, self.ready, self.answered = w, False, False
        self.isolation, self.memory_cap, self.forked = w.isolation, w.memory_cap, w.forked

    def ensure(self) -> WorkerProcess:
        "A worker that has run the submission's cells: the current one, or a new one."
        if self._early is not None:
            self._cells_ran.wait()
            if self._early_error is not None:
                e, self._early_error = self._early_error, None
                raise e
        return self._ensure()

    def _ensure(self) -> WorkerProcess:
        if self.worker is None or self.worker.proc.poll() is not None:
            self.spawn()
        if not self.ready:
            self.start_seconds += wait_ready(self.worker)
            self.ready = True
            self._run_cells()
        return self.worker

    def start_standby(self):
        "Start the worker a fresh-worker test will get; it imports torch while the checks run."
        if self.standby is None and not self.expired():
            self.standby = self._start()

    def _run_cells(self):
        ans = self.worker.request({"op": "exec", "grade_id": "setup", "source": self.sub.setup}, 60)
        if not ans.get("ok"):
            raise RuntimeError(f"the setup cell failed in the worker: {ans.get('error')}")
        before = ans.get("rss", 0)
        for e in asg.get(self.opts.assignment).exercises:
            gid, src = e.grade_id, self.sub.cells.get(e.grade_id)
            if gid not in self.cell_error:
                req = {"op": "exec", "grade_id": gid, "source": src, "defines": list(e.defines)}
                try:
                    ans = self.worker.request(req, self.opts.cell_timeout)
                except WorkerGone as err:
                    self.cell_error[gid] = (
                        f"cell {gid!r} was stopped: the submission used up its "
                        f"{self.opts.submission_timeout:g} s"
                        if self.expired()
                        else f"running cell {gid!r} {err.reason}"
                    )
                    self.worker = None
                    return self._ensure()
                if not ans.get("ok"):
                    self.cell_error[gid] = _cell_message(gid, ans)
                elif _int(ans.get("rss")) - before > self.opts.cell_memory_bytes:
                    kept = (_int(ans.get("rss")) - before) // 2**20
                    self.cell_error[gid] = (
                        f"cell {gid!r} keeps {kept} MiB in memory after it runs (the limit is "
                        f"{self.opts.cell_memory_bytes // 2**20} MiB); build large data inside "
                        "functions, not at definition time"
                    )
                    self.worker.close()  # start afresh without it, so other cells have room
                    self.worker = None
                    return self._ensure()
                before = max(before, _int(ans.get("rss")))
            if gid in self.cell_error:
                self._stand_in(gid, e.defines)

    def begin(self, first: dict | None = None):
        """Run the cells as soon as the worker is up, from a thread, and then ask `first` (the
        question the last grading asked first: early.record) unless a cell it needs failed.
        The parent meanwhile imports torch and collects the tests; `ensure` waits for the cells,
        and `_ask` takes the early answer only for exactly the same request."""
        files = [a["file"] for a in first["args"] if isinstance(a, dict)] if first else []
        staged = [self._stage(f) for f in files]  # here, before the tests stage theirs
        self._early = threading.Thread(target=self._begin, args=(first, staged), daemon=True)
        self._early.start()

    def _begin(self, first: dict | None, staged: list[str]):
        try:
            self._ensure()
            if first is None or any(g in self.cell_error for g in first["needs"]):
                return
            w, names = self.worker, iter(staged)
            args = [
                os.path.join(w.inside(self.stage), next(names)) if isinstance(a, dict) else a
                for a in first["args"]
            ]
            req = early.request(first["probe"], args, first["seed"], first["forbid"])
            self._asked_early = early.fingerprint(req, first["timeout"]), w
        except Exception as e:  # WorkerGone, a broken setup cell: the first `ensure` raises it
            self._early_error = e
            return
        finally:
            self._cells_ran.set()
        try:
            self._early_answer = ("ok", w.request(req, first["timeout"]))
        except WorkerGone as e:
            self._early_answer = ("gone", e)

    def _claim(self, req: dict, timeout: float):
        """The early answer if req is the question asked early, else None (and the early
        question is dropped: its worker killed if it is still answering)."""
        if self._asked_early is None:
            return None
        fp, w = self._asked_early
        if w is self.worker and early.same(req, timeout, fp):
            self._early.join()
            self._asked_early, self.asked_early = None, True
            return self._early_answer
        self._drop_early()
        return None

    def _drop_early(self):
        """Forget the question asked early, and the worker it was asked of (it is no longer
        fresh, and may still be answering): the next use starts another, a planned start."""
        if self._asked_early is None:
            return
        _, w = self._asked_early
        self._asked_early = None
        w.kill()
        self._early.join()
        if w is self.worker:
            w.close()
            self.worker = None
            self.restarts -= 1

    def _stand_in(self, gid: str, names: tuple[str, ...]):
        "Define a failed cell's names as placeholders, so later cells that mention them still run."
        src = "".join(
            f"def {n}(*args, **kwargs):\n    raise RuntimeError('{n} is unavailable: "
            f"cell {gid} did not run')\n"
            for n in names
        )
        self.worker.request({"op": "exec", "grade_id": "placeholder", "source": src}, 10)

    def prepare(self, files: list[str], fresh: bool) -> list[str]:
        """Show these files (read-only) to the worker and return their paths inside; with
        `fresh`, first swap a worker that has answered a probe for one that has not (the standby,
        or a new one). WorkerGone if no worker can start."""
        with parsing.released():  # starting a worker is waiting too
            return self._prepare(files, fresh)

    def _prepare(self, files: list[str], fresh: bool) -> list[str]:
        names = [self._stage(f) for f in files]
        if fresh and self.answered:
            if self.worker is not None:
                self.worker.close()
            self.worker = None
            standby, self.standby = self.standby, None
            if standby is not None and standby.proc.poll() is None:
                self._use(standby)
            else:
                self.restarts -= 1  # a planned start, not a crash
        w = self.ensure()
        return [os.path.join(w.inside(self.stage), n) for n in names]

    def _stage(self, path: str) -> str:
        "Link (or copy, across file systems) a file into the stage once; its name there."
        path = os.path.realpath(path)
        if path not in self.staged:
            name = f"{len(self.staged)}-{os.path.basename(path)}"
            try:
                os.link(path, os.path.join(self.stage, name))
            except OSError:
                shutil.copyfile(path, os.path.join(self.stage, name))
            self.staged[path] = name
        return self.staged[path]

    def ask(self, probe: str, args, seed: int, forbid: list[str], timeout: float):
        "The student's answer to one probe: a value, or a ProbeError; and what it was seen using."
        with parsing.released():  # another grading's tests run while this one waits
            return self._ask(probe, args, seed, forbid, timeout)

    def _ask(self, probe: str, args, seed: int, forbid: list[str], timeout: float):
        req = early.request(probe, args, seed, forbid)
        try:
            w = self.ensure()
            got = self._claim(req, timeout)
            if got is not None and got[0] == "gone":
                raise got[1]
            if got is None:
                w = self.ensure()  # a worker still answering the early question was stopped
            self.answered = True
            ans = got[1] if got is not None else w.request(req, timeout)
        except WorkerGone as e:
            self.worker = None
            return ProbeError(e.reason, "WorkerGone"), []
        if not isinstance(ans, dict) or not isinstance(ans.get("forbidden", []), list):
            return ProbeError("the worker's answer had an unexpected form"), []
        if not ans.get("ok"):
            return ProbeError(str(ans.get("error", "?")), str(ans.get("kind", ""))), ans.get(
                "forbidden", []
            )
        return ans.get("value"), ans.get("forbidden", [])

    def origins(self, names: list[str]) -> dict:
        try:
            self.ensure()
            self._drop_early()
            ans = self.ensure().request({"op": "origins", "names": names}, 10)
            return ans if isinstance(ans, dict) else {}
        except WorkerGone:
            self.worker = None
            return {}

    def peak_mib(self) -> float | None:
        "The worker's peak resident memory, as it reports it (for benchmarks, not for scores)."
        try:
            if self._early is not None and self._early.is_alive():
                return None  # still running the cells or the early question: not measured
            self._drop_early()
            peak = self.worker.request({"op": "ping"}, 5).get("peak")
        except (WorkerGone, AttributeError):
            return None
        return round(peak / 2**20, 1) if type(peak) is int else None

    def close(self):
        self._watchdog.cancel()
        self.closing = True  # no worker starts from here on (the cells' thread may try)
        while self._early is not None and self._early.is_alive():
            for w in (self.worker, self.standby):
                if w is not None:
                    w.kill()
            self._early.join(0.1)
        for w in (self.worker, self.standby):
            if w is not None:
                w.close()
        self.worker = self.standby = None
        shutil.rmtree(self.stage, ignore_errors=True)


def _int(v) -> int:
    return v if type(v) is int else 0


def _cell_message(gid: str, ans: dict) -> str:
    if ans.get("kind") == "NotImplementedError":
        return NOT_IMPLEMENTED.format(gid=gid)
    if ans.get("kind") == "MissingDefinition":
        return f"cell {gid!r} {ans.get('error')}; keep the names from the released notebook"
    return f"cell {gid!r} raised an error when it ran:\n{ans.get('error', '?')}"


def grade_notebook(
    path: str | Path,
    *,
    hidden: bool = True,
    training: bool = True,
    options: Options | None = None,
    oracle: Oracle | None = None,
) -> Report:
    "Grade one notebook and return its report; a broken notebook still gets one."
    opts = replace(options or Options(), hidden=hidden, training=training)
    if opts.seed is None:
        opts.seed = secrets.randbelow(2**31)
    opts.assignment, wrong = asg.infer(path, opts.assignment)
    a = asg.get(opts.assignment)
    t0 = time.perf_counter()
    sub = extract(path, a)
    sub.error = sub.error or wrong
    if opts.policy:
        policy.apply(sub, a)  # cells that break the assignment's policy never reach the worker
    results: list[CheckResult] = []
    session = Session(sub, opts)
    meta = {"assignment": a.name, "seed": opts.seed, "hidden": opts.hidden, "notes": sub.notes}
    try:
        first = first_key(a, opts)
        if not sub.error:
            session.spawn()  # it imports torch on one core while we do on the other
            session.begin(early.load(first))  # its cells, and the question it will be asked first
        import torch

        from autograder.oracle import Oracle
        from autograder.runner import collect

        torch.set_num_threads(1)  # the parent's tensor work is small; leave the cores to workers
        tests = [
            (t, p) for t, p in collect(a.tests, opts.hidden) if opts.training or not t.training
        ]
        # the student bundle ships no hidden tests: its reports say none ran
        meta["hidden"] = opts.hidden and any(t.hidden for t, _ in tests)
        # the first training run gets the worker that ran the cells (runs go first, before it
        # has answered anything); a second one needs another fresh worker, started now
        if not sub.error and sum(t.training for t, _ in tests) > 1:
            session.start_standby()
        if sub.error:
            results = _all_fail(tests, a, opts, sub.error)
        else:
            if oracle is None or getattr(oracle, "assignment", a.name) != a.name:
                oracle = Oracle(opts.recorded, a.name)
            results, records = _run_tests(a, sub, session, opts, oracle, first)
            meta["cell_errors"] = dict(session.cell_error)
            meta["asked_early"] = session.asked_early  # the first question, asked from a record
            if session.instructor_errors:
                meta["instructor_errors"] = session.instructor_errors
            meta.update({k: v for k, v in records.items() if k not in meta})
    finally:
        if session.worker is not None:
            meta["output"] = session.worker.stdout.text()[-4000:]
            meta["worker_peak_mib"] = session.peak_mib()
        meta["isolation"] = session.isolation
        meta["memory_cap"] = session.memory_cap
        meta["worker_forked"] = session.forked
        session.close()
    meta.update(
        seconds=round(time.perf_counter() - t0, 3),
        worker_start_seconds=round(session.start_seconds, 3),
        worker_restarts=max(session.restarts, 0),
    )
    return _report(sub.name, a, results, meta)


def warm_up(path: Path, opts: Options) -> str:
    """Before a batch's first submission (path): start the template its workers fork from, then
    import torch and the tests while it imports torch too. The assignment's name."""
    name = asg.infer(path, opts.assignment)[0]
    a = asg.get(name)
    if opts.device in ("cpu", "auto"):  # a GPU's workers start cold: this one is then unused
        template.zygote_for(replace(opts.limits, device="cpu"), a.probes_file, now=True)
    import torch

    from autograder.runner import collect

    torch.set_num_threads(1)
    collect(a.tests, opts.hidden)
    return name


def first_key(a: asg.Assignment, opts: Options) -> str:
    "Which record of a first question (autograder.early) a grading with these options uses."
    return early.key(a.name, str(a.tests), opts.hidden, opts.training, opts.device,
                     str(opts.data), opts.probe_timeout)  # fmt: skip


def _report(name: str, a: asg.Assignment, results: list[CheckResult], meta: dict) -> Report:
    ran = {r.exercise for r in results}  # a run left out (--no-training) has no row
    ids = [*a.ids, *(r.grade_id for r in a.runs if r.grade_id in ran)]
    by_ex = {gid: [r for r in results if r.exercise == gid] for gid in ids}
    return Report(name, {gid: scoring.exercise_score(gid, rs) for gid, rs in by_ex.items()}, meta)


def _all_fail(tests, a: asg.Assignment, opts: Options, why: str) -> list[CheckResult]:
    "Every test fails with why (the notebook could not be read): the same rows as a graded one."
    out = [scoring.result(t.exercise, t.name, False, pts, t.hidden, why) for t, pts in tests]
    out.sort(key=lambda r: r.hidden)
    out += [scoring.result(gid, scoring.GATE, False, 0.0, False, why) for gid in a.gated]
    return out


def _run_tests(
    a: asg.Assignment, sub: Submission, session: Session, opts: Options, reference, first: str
) -> list[CheckResult]:
    "The assignment's pytest tests, run here against the worker's answers (autograder.runner)."
    from autograder.runner import Grading, run_tests

    reference = reference.resolve(a.name) if hasattr(reference, "resolve") else reference
    say = opts.progress or (lambda *a: None)
    say("starting", 0, 1)
    try:
        session.ensure()
    except WorkerGone:  # past the deadline, or crashed while starting: each check says so
        session.worker = None
    g = Grading(
        session,
        reference.ns,
        a.probes(),
        a.runtime_names,
        opts.seed,
        recorded=reference.calls,
        crashes_per_exercise=opts.crashes_per_exercise,
        probe_timeout=opts.probe_timeout,
        cache=reference.answers,
        needs=a.needs,
        titles=a.title,
        training=opts.training,
        device=_device(opts.device),
        data_path=opts.data,
    )
    g.ref_files = tuple(
        str(f)
        for f in (asg.ROOT / "reference" / f"{a.name}.py", a.probes_file)
        if f and f.is_file()
    )
    say("checks", 0, 1)
    run_tests(a.tests, g, hidden=opts.hidden)
    # what the next grading will ask early: learnt only where every cell ran (where one did not,
    # its tests ask nothing and the first question is another's: a record that flips between
    # the two costs the next grading a worker)
    if g.first is not False and not g.errors and not session.cell_error:
        early.save(first, g.first)
    out = list(g.results)
    out += _gates(a, sub, session, g.seen_forbidden, g.stubs)
    say("done", 1, 1)
    session.instructor_errors = g.errors
    return [_explained(r, sub.outside) for r in out], g.records


def _explained(r: CheckResult, outside: set[str]) -> CheckResult:
    "A failed check's message, with the hint for a name grading cannot see (a demo cell's)."
    hint = "" if r.passed else hints.name_error(r.message, outside)
    return replace(r, message=r.message + hint) if hint else r


def _gates(a, sub, session, seen_forbidden, stubs: dict | None = None) -> list[CheckResult]:
    "One own_implementation check per exercise that has forbidden shortcuts."
    names = [n for e in a.exercises for n in e.defines]
    origins = session.origins(names)
    out, no_bases = [], dict(a.policy.no_bases)
    for e in a.exercises:
        if e.grade_id not in a.gated:
            continue
        banned = [*e.forbidden, *no_bases.get(e.grade_id, ())]
        stubbed = (stubs or {}).get(e.grade_id)
        if e.grade_id in session.cell_error or stubbed:  # nothing was shown to be its own work
            why = session.cell_error.get(e.grade_id) or stubbed
            out.append(scoring.result(e.grade_id, scoring.GATE, False, 0.0, False, why))
            continue
        found = forbidden.shortcuts(e.grade_id, sub.cells.get(e.grade_id, ""), sub.setup, a)
        found += [f"{n} (called at run time)" for n in sorted(seen_forbidden.get(e.grade_id, ()))]
        for n in e.defines:
            mods = origins.get(n, [])
            bad = [
                m
                for m in mods
                if isinstance(m, str) and any(m == b or m.startswith(b + ".") for b in banned)
            ]
            found += [f"{n} comes from {m}" for m in bad]
        msg = (
            (
                f"cell {e.grade_id!r} uses built-ins this exercise asks you to write yourself: "
                f"{', '.join(found)}. Write it with basic tensor operations; the exercise scores "
                "0 until then"
            )
            if found
            else ""
        )
        out.append(scoring.result(e.grade_id, scoring.GATE, not found, 0.0, False, msg))
    return out


def _device(device: str) -> str:
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device
