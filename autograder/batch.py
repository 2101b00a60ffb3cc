"""Grade many submissions: one worker each, N at a time, resumable, one bad file never stops it."""

from __future__ import annotations

import json
import os
import re
import stat
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from autograder import report, scoring, template
from autograder.grade import Options, grade_notebook

SUFFIX = ".ipynb"


def _stem(name: str) -> str:
    "A file name without its .ipynb (whatever else it holds: `..ipynb` -> `.`)."
    return name[: -len(SUFFIX)] if name.lower().endswith(SUFFIX) else name


def safe_component(text: str) -> str:
    """One folder name, safe on any file system: only letters, digits, `.`, `_`, `-`; never a
    leading dot (no `.`, `..` or hidden folder); `submission` when nothing is left."""
    s = re.sub(r"[^A-Za-z0-9._-]", "_", text)[:100]
    s = re.sub(r"^\.+", lambda m: "_" * len(m.group()), s)
    return s if s.strip("._-") else "submission"


def is_safe_component(name: str) -> bool:
    "True for a name safe_component leaves as it is: it can only ever be one folder inside --out."
    return isinstance(name, str) and bool(name) and safe_component(name) == name


def safe_name(path: Path) -> str:
    "A folder name for a submission: its file stem, made safe for any file system."
    return safe_component(_stem(Path(path).name))


def shard(paths: list[Path], spec: str | None) -> list[Path]:
    "Deterministic split: --shard I/N takes every N-th sorted file, starting at I (1-based)."
    paths = sorted(paths)
    if not spec:
        return paths
    i, n = (int(v) for v in spec.split("/"))
    if not 1 <= i <= n:
        raise ValueError(f"--shard {spec}: expected I/N with 1 <= I <= N")
    return paths[i - 1 :: n]


def submission_names(items: list[str], dedupe: bool = True) -> dict[Path, str]:
    """A report name per notebook, the same whichever shard grades it: a file's stem, or for a
    folder its path inside that folder (submissions/alice/minibatch.ipynb -> alice__minibatch)."""
    named = []
    for it in items:
        root = Path(it)
        for p in expand([it]):
            parts = p.relative_to(root).parts if _is_dir(root) else (p.name,)
            named.append((p, safe_component("__".join([*parts[:-1], _stem(parts[-1])]))))
    if not dedupe:
        return dict(sorted(named))
    return dict(zip([p for p, _ in sorted(named)], _dedupe([n for _, n in sorted(named)])))


def _dedupe(names: list[str]) -> list[str]:
    """Distinct names, suffixed -2, -3... where they repeat; compared case-insensitively, since
    Alice and alice share a folder on macOS and Windows."""
    taken = {n.casefold() for n in names}
    seen: set[str] = set()
    out = []
    for n in names:
        m, k = n, 1
        while m.casefold() in seen or (m != n and m.casefold() in taken):
            k += 1
            m = f"{n[:95]}-{k}"
        seen.add(m.casefold())
        out.append(m)
    return out


def _is_dir(p: Path) -> bool:
    "A real folder, not a link to one."
    try:
        return stat.S_ISDIR(os.lstat(p).st_mode)
    except OSError:
        return False


def expand(items: list[str]) -> list[Path]:
    """Files as given, and every entry named *.ipynb inside any folder given: files, and also
    links, FIFOs, devices and folders so named (each gets a report saying it is not a notebook;
    none is opened). Links to folders are not followed."""
    out = []
    for it in items:
        p = Path(it)
        if not _is_dir(p):
            out.append(p)
            continue
        found = []
        for top, dirs, files in os.walk(p, followlinks=False):
            dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints")
            found += [Path(top, f) for f in [*dirs, *files] if f.lower().endswith(SUFFIX)]
        out += sorted(found)
    return [p for p in out if ".ipynb_checkpoints" not in p.parts]


def batch_seed(paths: list[Path], names: list[str]) -> int:
    """One seed for every shard of a batch, from what all its notebooks hold: the same on every
    machine, unknown to a student who has only their own notebook."""
    import hashlib

    from autograder.extract import read_bytes

    h = hashlib.sha256()
    for name, p in sorted(zip(names, paths), key=lambda t: t[0]):
        try:
            digest = hashlib.sha256(read_bytes(p)).hexdigest()
        except (OSError, ValueError):
            digest = "unreadable"  # its report says why; the seed stays the same everywhere
        h.update(f"{name}\0{digest}\n".encode())
    return int.from_bytes(h.digest()[:4], "big") >> 1


def grade_batch(
    paths: list[Path],
    out: Path,
    workers: int = 1,
    force: bool = False,
    options: Options | None = None,
    progress=print,
    names: list[str] | None = None,
    feedback: bool = True,
    label: str = "",
    slots: str = "processes",
) -> list[dict]:
    """Grade every path into out/<name>/, skipping finished ones unless force; write grades.csv.
    With workers > 1 each worker is driven by its own grading process (`slots="processes"`: no
    lock or interpreter shared between them) or by a thread of this one (`"threads"`)."""
    opts = options or Options()
    if opts.seed is None:
        import secrets

        opts = replace(opts, seed=secrets.randbelow(2**31))  # one seed for the whole batch
    if slots not in ("processes", "threads"):
        raise ValueError(f"slots must be 'processes' or 'threads', got {slots!r}")
    names = names or _unique_names(paths)
    bad = [n for n in names if not is_safe_component(n)]
    if bad or len({n.casefold() for n in names}) != len(names):
        raise ValueError(
            f"report names must be distinct single folder names, got {bad[:5] or names[:10]}"
        )
    todo = [(p, n) for p, n in zip(paths, names) if force or not (out / n / "report.json").exists()]
    progress(
        f"{label}grading {len(todo)} of {len(paths)} submissions with {workers} worker(s), "
        f"seed {opts.seed}"
    )
    job = _Job(out, replace(opts, progress=None), feedback)
    failed = []
    for k, (name, score, max_score, broke) in enumerate(_each(job, todo, workers, slots), 1):
        failed += [name] if broke else []
        progress(f"{label}[{k}/{len(todo)}] {name}: {score:g} / {max_score:g}")
    reports = [
        json.loads((out / n / "report.json").read_text())
        for n in names
        if (out / n / "report.json").exists()
    ]
    report.atomic_write(out / "grades.csv", report.grades_csv(reports))
    if reports and feedback:
        from autograder.summary import write_summary

        write_summary(out)  # the class view: histogram, pass rates, common failures, gradebook
    if failed:
        raise GraderFailed(
            f"the grader itself failed on {len(failed)} submission(s): "
            f"{', '.join(failed[:10])}; their reports say why, please report this"
        )
    return reports


@dataclass(frozen=True)
class _Job:
    "What every submission of a batch is graded with; sent once to each grading process."

    out: Path
    opts: Options
    feedback: bool

    def one(self, path: Path, name: str, oracle) -> tuple[str, float, float, bool]:
        "Grade one submission into out/name/: (name, score, max score, whether the grader broke)."
        broke = False
        try:
            r = grade_notebook(
                path,
                hidden=self.opts.hidden,
                training=self.opts.training,
                options=self.opts,
                oracle=oracle,
            )
        except Exception as e:  # a grader bug: this one gets a report saying so, others go on
            broke, r = True, grader_failure(path, e, self.opts)
        return self.write(replace(r, submission=name), broke)

    def write(self, r, broke: bool) -> tuple[str, float, float, bool]:
        if self.feedback:
            from autograder.feedback import write_feedback

            write_feedback(r, self.out / r.submission)
        report.write_all(r, self.out / r.submission)  # report.json last: it marks the work done
        return r.submission, r.score, r.max_score, broke


def _oracles(opts: Options) -> _Locked:
    def make(name):
        from autograder.oracle import Oracle  # imports torch: not before the first worker starts

        return Oracle(opts.recorded, name)

    return _Locked(make, threading.Lock())


def code_size(path: Path) -> int:
    """How much code a notebook holds (its code cells' source; outputs do not count): a stub is
    graded in a second, a whole pipeline trains a model. 0 for anything that is not a readable
    notebook (its report, saying so, is quick). Read as data, like every notebook here."""
    from autograder.extract import read_bytes

    try:
        cells = json.loads(read_bytes(path)).get("cells", [])
        return sum(
            len("".join(c["source"]) if isinstance(c["source"], list) else c["source"])
            for c in cells
            if c.get("cell_type") == "code"
        )
    except Exception:  # not JSON, not a notebook, not a file: any shape a submission may take
        return 0


def longest_first(todo: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """The most code first (longest processing time first): the last to finish are quick ones, so
    no worker idles at the end waiting for a training run that started late. Ties keep their
    order (the batch's sorted one)."""
    return sorted(todo, key=lambda t: -code_size(t[0]))


def _each(job: _Job, todo: list[tuple[Path, str]], workers: int, slots: str):
    "Grade todo, `workers` at a time; yields each submission's (name, score, max, broke) as done."
    oracle = _oracles(job.opts)
    if len(todo) > 1:
        template.expect_many()  # its workers fork from a template from the first one on
        _warm(job, todo[0][0], oracle)
    if workers <= 1 or len(todo) <= 1:
        for p, n in todo:
            yield job.one(p, n, oracle)
        return
    todo = longest_first(todo)
    if slots == "threads":
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for f in as_completed([pool.submit(job.one, p, n, oracle) for p, n in todo]):
                yield f.result()
        return
    import multiprocessing
    import sys

    # fork where this process has no other thread (the command line): a slot starts at once,
    # with what is imported here; forkserver otherwise, since a fork copies no thread's locks
    ctx = multiprocessing.get_context("fork" if threading.active_count() == 1 else "forkserver")
    sys.stdout.flush()  # a forked slot would print what is still buffered a second time
    # forked slots share this process's template and oracle (torch, the reference, the tests
    # imported once); forkserver ones start their own
    shared = oracle if ctx.get_start_method() == "fork" and template.share() else None
    pending, alone = list(todo), False
    while pending:
        # a grading process that dies (killed, out of memory) breaks its pool and every
        # submission queued in it; those are graded again, one process at a time until the one
        # that was running when it died is found: only that one gets a report saying so
        pending, died = yield from _pool(ctx, job, pending, 1 if alone else workers, alone, shared)
        if died is not None:
            p, n = died
            why = RuntimeError("the grading process stopped while grading it (killed, or out "
                               "of memory); grade it again with --force")  # fmt: skip
            yield job.write(replace(grader_failure(p, why, job.opts), submission=n), True)
        alone = bool(pending) and died is None


def _warm(job: _Job, first: Path, oracle: _Locked):
    "Start the batch's template, and import torch, the reference and the tests while it starts."
    from autograder.grade import warm_up

    try:
        oracle.resolve(warm_up(first, job.opts))
    except Exception:  # an assignment that cannot load: each submission's report says why
        pass
    if job.feedback:  # the class summary at the end draws with it too
        from autograder import feedback

        feedback.warm_up()


def _pool(ctx, job: _Job, todo: list, workers: int, alone: bool, oracle=None):
    """Grade todo in `workers` processes, yielding each result; returns what is left to grade
    after the pool broke, and (alone) the submission that was being graded when it did."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    left, died = [], None
    with ProcessPoolExecutor(
        min(workers, len(todo)), mp_context=ctx, initializer=_slot_start, initargs=(job, oracle)
    ) as pool:
        futures = {pool.submit(_slot_one, p, n): (p, n) for p, n in todo}
        for f in futures if alone else as_completed(futures):  # alone: in the order they ran
            try:
                yield f.result()
            except BrokenProcessPool:
                if alone and died is None:
                    died = futures[f]
                else:
                    left.append(futures[f])
    return sorted(left, key=todo.index), died


_SLOT: dict = {}  # in a grading process of a batch: its job and its oracles


def _slot_start(job: _Job, oracle: _Locked | None):
    "A grading process begins: with its parent's oracle where it was forked from it."
    template.expect_many()
    _SLOT.update(job=job, oracle=oracle or _oracles(job.opts))


def _slot_one(path: Path, name: str):
    return _SLOT["job"].one(path, name, _SLOT["oracle"])


class GraderFailed(Exception):
    "Grading finished, but the grader broke on some submissions (not the students' fault)."


def grader_failure(path: Path, e: Exception, opts: Options):
    "A zero report that says the grader failed; the submission can be regraded with --force."
    from autograder import assignment
    from autograder.model import Report

    a = assignment.get(assignment.infer(path, opts.assignment)[0])
    empty = {g: scoring.exercise_score(g, []) for g in a.report_ids}
    return Report(path.stem, empty, {"grader_error": f"{type(e).__name__}: {e}"})


def merge(folders: list[Path], out: Path) -> Path:
    "Merge shard outputs: every report.json under the folders, one grades.csv."
    reports = [json.loads(p.read_text()) for f in folders for p in sorted(f.glob("*/report.json"))]
    report.atomic_write(out / "grades.csv", report.grades_csv(reports))
    return out / "grades.csv"


def _unique_names(paths: list[Path]) -> list[str]:
    return _dedupe([safe_name(p) for p in paths])


class _Locked:
    """The shared oracles, one per assignment (a folder may mix them), built on first use:
    importing the reference imports torch, and the first worker should be booting by then."""

    def __init__(self, make, lock: threading.Lock):
        self.make, self.lock, self.oracles = make, lock, {}

    def resolve(self, name: str | None = None):
        "The oracle of one assignment (the pytest tests compute under runner.LOCK)."
        if name not in self.oracles:
            with _MAKE:
                if name not in self.oracles:
                    self.oracles[name] = self.make(name)
        return self.oracles[name]


_MAKE = threading.Lock()
