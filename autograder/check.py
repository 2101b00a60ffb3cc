"""`autograder check`: what a student runs: public checks, a table, what to fix next.

Students re-run checks many times; an unchanged notebook (same exercise cells, same kit, same
options) reuses its last report from a cache instead of running again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from autograder import __version__, assignment, report
from autograder.extract import extract
from autograder.model import Report

if TYPE_CHECKING:
    from autograder.grade import Options

CACHE_ENV = "AUTOGRADER_CHECK_CACHE"


def cache_file(path: Path, opts: Options) -> Path | None:
    "Where the report of this exact notebook content lives, or None if it cannot be read."
    a = assignment.get(assignment.infer(path, opts.assignment)[0])
    sub = extract(path, a)
    if sub.error:
        return None
    kit = Path(__file__).resolve().parent
    # the kit's code and the assignment's own (its tests, probes, settings): a change regrades
    own = [*sorted(a.tests.rglob("*.py")), a.probes_file, a.folder / "assignment.toml"]
    files = [*sorted(kit.rglob("*.py")), *(f for f in own if f is not None and f.is_file())]
    code = b"".join(p.read_bytes() for p in files)
    key = json.dumps(
        [
            __version__,
            sub.cells,
            sub.cell_problems,
            sub.setup,
            opts.training,
            opts.device,
            hashlib.sha256(code).hexdigest(),
        ],
        sort_keys=True,
    )
    import platformdirs

    root = Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("autograder"))
    return root / "checks" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def cached_grade(path: Path, opts: Options) -> Report:
    "Grade, or reuse the report of an unchanged notebook."
    f = cache_file(path, opts)
    if f is not None and f.exists():
        try:
            return Report.from_dict(json.loads(f.read_text()))
        except (ValueError, KeyError, TypeError):
            f.unlink(missing_ok=True)  # a damaged cache entry is simply graded again
    from autograder.grade import grade_notebook  # imports torch: only when we must grade

    r = grade_notebook(path, hidden=False, training=opts.training, options=opts)
    # the assignment's whole total, hidden checks included: kept with the report, so that an
    # unchanged notebook is answered without collecting the tests again (that imports torch)
    r.meta["full_points"] = full_points(r.meta.get("assignment") or opts.assignment)
    if f is not None:
        report.atomic_write(f, report.report_json(r))
    return r


class Progress:
    "One status line that redraws in place on a terminal, and plain lines elsewhere."

    def __init__(self, stream):
        self.stream, self.tty, self.last = stream, stream.isatty(), None

    def __call__(self, stage: str, done: int, total: int):
        if self.tty:
            bar = "#" * int(20 * done / max(total, 1))
            end = "\n" if stage == "done" else ""
            self.stream.write(f"\r\x1b[K{stage:>18} [{bar:<20}] {done}/{total}{end}")
        elif stage != self.last:
            self.stream.write(f"{stage}…\n" if stage != "done" else "")
        self.stream.flush()
        self.last = stage


POINTS_FILE = Path(__file__).resolve().parent / "points.json"  # written into the student bundle


def full_points(name: str) -> float | None:
    "All the assignment's points, hidden ones included: from its checks, or as the bundle recorded."
    from autograder.runner import HIDDEN_DIR, collect

    a = assignment.get(name)
    if not (a.tests / HIDDEN_DIR).is_dir():  # the student bundle: as recorded at release
        try:
            return float(json.loads(POINTS_FILE.read_text())[name])
        except (OSError, ValueError, KeyError, TypeError):
            return None
    return sum(points for _, points in collect(a.tests, hidden=True))


def next_step(r: Report, total: float | None = None) -> str:
    "One line: the public score out of everything, and the first thing to fix."
    of = f" of {total:g}" if total else ""
    score = f"public {r.score:g}/{r.max_score:g} points{of}; hidden checks are graded later."
    for gid, e in r.exercises.items():
        for c in e.checks:
            if not c.passed:
                first = c.message.split("\n")[0]
                return f"{score} Next: {gid} · {c.name}: {first}"
    return f"{score} Every public check passes."


def training_line(r: Report) -> str:
    "A training run's measure beside its threshold, when a run recorded one."
    from autograder.feedback import training_of

    t = training_of(r)
    v, thr = t.get("value"), t.get("threshold")
    if type(v) not in (int, float) or type(thr) not in (int, float):
        return ""
    ok = v >= thr if t["higher_is_better"] else v <= thr
    verdict = "passes" if ok else "misses"
    return f"{t['title']}: {t['metric']} {v:.4f} ({verdict} the threshold {thr:g})"


def check(
    path: Path,
    training: bool = True,
    device: str = "cpu",
    data: Path | None = None,
    say=print,
    cache: bool = True,
    assignment: str | None = None,
    html: Path | None = None,
) -> int:
    "Run the public checks on a notebook and print the result; exit status 0 iff all pass."
    from autograder.grade import Options, grade_notebook

    opts = Options(
        hidden=False,
        training=training,
        device=device,
        data=data,
        seed=0,
        progress=Progress(sys.stderr),
        assignment=assignment,
    )
    if cache:
        r = cached_grade(Path(path), opts)
    else:
        r = grade_notebook(path, hidden=False, training=training, options=opts)
    for note in r.meta.get("notes", []):  # an edited locked cell, dropped magics: said first
        say(f"Note: {note}")
    say(report.table(r, hidden=False))
    fails = report.failures(r)
    if fails:
        say("\n" + fails)
    if line := training_line(r):
        say("\n" + line)
    total = r.meta.get("full_points")
    if type(total) not in (int, float):
        total = full_points(r.meta.get("assignment") or assignment)
    say("\n" + next_step(r, total))
    if html is not None:
        from autograder.feedback import write_feedback

        paths = write_feedback(r, Path(html))
        say(f"feedback page: {paths[0]}")
    return 0 if all(c.passed for e in r.exercises.values() for c in e.checks) else 1
