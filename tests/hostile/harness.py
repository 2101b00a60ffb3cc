"""Grade the hostile corpus once, through `grade_batch`, and keep what the tests need to judge it.

Every notebook of the corpus plus the instructor solution goes through one `grade_batch(...,
workers=2)` call with the same options. `autograder.batch.grade_notebook` is wrapped (not changed)
to time each notebook with time.monotonic and to keep its `Report` object. Worker folders are put
under a folder of our own (tempfile.tempdir), so the processes this run started can be told apart
from those of anyone else grading on the same machine.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import autograder.batch as batch_mod
from autograder import template
from autograder.assignment import ROOT, get
from autograder.batch import GraderFailed, grade_batch
from autograder.grade import Options
from autograder.model import Report
from autograder.sandbox import Limits, bwrap_works
from tests.hostile.build import build

SEED = 1234
# One set of limits for the whole corpus, generous for a correct notebook (under 2 s of CPU and
# 0.6 GiB of address space per worker) and tight enough that loops and hogs end quickly.
# AG_HOSTILE_ISOLATION=process runs the corpus without bubblewrap (to see what that mode allows).
ISOLATION = os.environ.get("AG_HOSTILE_ISOLATION", "auto")
# The cap over all of a worker's processes (a cgroup) is tested in tests/test_bounded.py; here it
# is set well above the per-process limit, so each case meets the limit it was written against.
LIMITS = Limits(
    cpu_seconds=6,
    memory_bytes=3 * 2**30,
    total_memory_bytes=12 * 2**30,
    processes=64,
    isolation=ISOLATION,
)
# The static policy would refuse most of this corpus before it runs (tests/test_policy.py): it is
# switched off here so that the sandbox, the limits and the run-time checks behind it are tested.
OPTIONS = Options(seed=SEED, hidden=True, training=False, limits=LIMITS, policy=False)
# Without bubblewrap the cases marked bwrap_only would really read and write the grader's files:
# they are left out of the corpus (and their tests skipped).
SANDBOXED = ISOLATION != "process" and bwrap_works()
WORKERS = 2


@dataclass
class Graded:
    root: Path
    out: Path
    paths: dict[str, Path]  # notebook name -> file (the solution is "minibatch")
    values: dict[str, str]  # the placeholders the corpus was built with
    secret: tuple[str, str]  # (variable, value) set in the grader's environment only
    reports: dict[str, Report] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    marker_after: dict[str, list[str]] = field(default_factory=dict)
    batch_reports: list[dict] = field(default_factory=list)
    batch_error: str | None = None
    total_seconds: float = 0.0
    progress: list[str] = field(default_factory=list)
    left_running: list[str] = field(default_factory=list)
    forged: list[str] = field(default_factory=list)  # files write_outdir managed to create


def ours(prefix: str, marker: str) -> list[str]:
    """Processes this run left behind: the fork bomb's children (by their argv[0]), and any
    process whose command line, working folder or mounts mention our worker folders (bwrap, the
    worker and its children in the sandbox, or an unsandboxed worker)."""
    ps = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    found = []
    for line in ps.splitlines():
        pid, _, args = line.strip().partition(" ")
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        hit = marker in args or prefix in args
        if not hit:
            try:
                hit = os.readlink(f"/proc/{pid}/cwd").startswith(prefix)
                hit = hit or prefix in Path(f"/proc/{pid}/mountinfo").read_text()
            except OSError:
                pass  # gone, or not ours to read
        if hit:
            found.append(line.strip())
    return found


def settle(prefix: str, marker: str, grace: float = 10.0) -> list[str]:
    """ours() once the kernel has finished: processes of a killed sandbox die a moment after bwrap
    itself is reaped (they show as '[python]' meanwhile), so allow them a short grace period."""
    deadline = time.monotonic() + grace
    while (found := ours(prefix, marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def kill_leftovers(lines: list[str]) -> None:
    "Our own leftovers only, by pid (the test fails anyway; this keeps the machine clean)."
    for line in lines:
        try:
            os.kill(int(line.split()[0]), 9)
        except (ProcessLookupError, PermissionError, ValueError):
            pass


def grade_corpus(root: Path) -> Graded:
    token = secrets.token_hex(4)
    homes, out, corpus = root / "homes", root / "out", root / "corpus"
    homes.mkdir(parents=True)
    secret = (f"AG_HOSTILE_SECRET_{token.upper()}", f"hostile-secret-{token}")
    values = {
        "OUT": str(out),
        "MARKER": f"ag-hostile-fork-{token}",
        "PARENT_PID": str(os.getpid()),
        "REPO": str(ROOT),
        "HOME": str(Path.home()),
        "SECRET_VAR": secret[0],
    }
    paths = {"minibatch": get("minibatch").solution, **build(corpus, values, sandboxed=SANDBOXED)}
    g = Graded(root, out, paths, values, secret)
    by_path = {p: n for n, p in paths.items()}
    real = batch_mod.grade_notebook

    def timed(path, **kw):
        name = by_path[Path(path)]
        t0 = time.monotonic()
        try:
            r = real(path, **kw)
        finally:
            g.seconds[name] = time.monotonic() - t0
            if name == "fork_bomb":
                g.marker_after[name] = settle(values["MARKER"], values["MARKER"])
        g.reports[name] = r
        return r

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(*secret)
        mp.setattr(tempfile, "tempdir", str(homes))
        mp.setattr(batch_mod, "grade_notebook", timed)
        t0 = time.monotonic()
        try:
            g.batch_reports = grade_batch(  # threads: `timed` records in this process
                list(paths.values()),
                out,
                workers=WORKERS,
                force=True,
                options=OPTIONS,
                progress=g.progress.append,
                slots="threads",
            )
        except GraderFailed as e:
            g.batch_error = str(e)
        g.total_seconds = time.monotonic() - t0
    template.close_all()  # the templates this run started live until asked, or until exit
    g.left_running = settle(str(homes), values["MARKER"])
    kill_leftovers(g.left_running)
    outside = ROOT / "tests" / "hostile" / f"FORGED-{values['MARKER']}.txt"
    g.forged = [str(p) for p in (out / "FORGED.txt", out / "zz_forged", outside) if p.exists()]
    outside.unlink(missing_ok=True)  # never leave it in the checkout, sandbox or not
    return g


def dump(g: Graded) -> str:
    "Everything the corpus got, for reading while writing the expectations."
    lines = [f"total {g.total_seconds:.1f} s, batch error: {g.batch_error}"]
    for name, r in g.reports.items():
        lines.append(
            f"== {name}: {r.score}/{r.max_score} in {g.seconds[name]:.1f} s, "
            f"isolation={r.meta.get('isolation')} restarts={r.meta.get('worker_restarts')} "
            f"notes={r.meta.get('notes')}"
        )
        for gid, e in r.exercises.items():
            if e.score != e.max_score:
                msgs = {c.message.split("\n")[0][:160] for c in e.checks if not c.passed}
                lines.append(f"   {gid}: {e.score}/{e.max_score} {sorted(msgs)[:3]}")
    lines.append(f"left running: {g.left_running}")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(dump(grade_corpus(Path(tempfile.mkdtemp(prefix="hostile-")))))
    sys.exit(0)
