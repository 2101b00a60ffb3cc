"""`autograder validate`: prove the checks right before students see them.

The solution must score full marks, the released stubs zero ("not implemented yet"), the lesson's
own code full marks, every alternative correct answer full marks, and every known bug must lose
points on its own exercise and only there.
"""

from __future__ import annotations

import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder import assignment
from autograder.batch import _Locked
from autograder.grade import Options, grade_notebook
from autograder.model import Report
from autograder.oracle import Oracle


def full_marks(r: Report, only: set[str] | None = None) -> list[str]:
    "Exercises (of only, or all) that lost points, with their first failing message."
    return [
        f"{g}: {next(c.message for c in e.checks if not c.passed)[:160]}"
        for g, e in r.exercises.items()
        if (only is None or g in only) and e.score < e.max_score
    ]


def bug_problems(
    r: Report, bug, gid: str, ids: list[str], spared: set[str] = frozenset()
) -> list[str]:
    """What is wrong with how a known bug was graded (empty when it was caught properly).
    `spared`: exercises whose points are not this bug's to keep (other bugs share the notebook)."""
    e = r.exercises[gid]
    if e.score >= e.max_score:
        return [f"{gid}/{bug.name}: not caught (full marks)"]
    msgs = " ".join(c.message.lower() for c in e.checks if not c.passed)
    out = (
        []
        if any(w in msgs for w in bug.words)
        else [f"{gid}/{bug.name}: caught, but no message mentions any of {bug.words}"]
    )
    others = set(ids) - {gid, *bug.also} - set(spared)
    return out + [f"{gid}/{bug.name} also cost {p}" for p in full_marks(r, others)]


def validate(name: str | None = None, training: bool = True, workers: int = 2, say=print) -> int:
    "Grade the solution, the stubs and the whole bank; exit status 0 iff every case behaves."
    from autograder.bank import cases, pack

    a = assignment.get(name)
    oracle = _Locked(lambda name: Oracle(None, name or a.name), threading.Lock())
    opts = Options(seed=0, assignment=a.name)
    problems: list[str] = []
    sol = grade_notebook(a.solution, training=training, options=opts, oracle=oracle)
    problems += [f"solution lost points: {p}" for p in full_marks(sol)]
    # mistakes in the folder's own tests (a test that raised, no points marker): the instructor's
    problems += [f"in the tests: {e}" for e in sol.meta.get("instructor_errors", [])]
    from autograder.runner import collect

    public = {t.exercise for t, _ in collect(a.tests, hidden=False)}
    problems += [
        f"exercise {gid!r} has no public test: add {a.tests / f'test_{gid}.py'}"
        for gid in a.ids
        if gid not in public
    ]
    say(f"solution: {sol.score:g} / {sol.max_score:g}")
    stub = grade_notebook(a.release, training=training, options=opts, oracle=oracle)
    problems += [f"stubs scored {stub.score:g}, expected 0"] if stub.score else []
    silent = [
        f"{g}·{c.name}"
        for g, e in stub.exercises.items()
        for c in e.checks
        if c.max_score and "not implemented yet" not in c.message
    ]
    problems += (
        [f"stub checks without 'not implemented yet': {', '.join(silent[:8])}"] if silent else []
    )
    say(f"stubs:    {stub.score:g} / {stub.max_score:g}")
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(workers) as pool:
        # the bugs go in packed notebooks (bank.bug_groups): one worker for many bugs
        jobs = [
            (kind, label, pool.submit(_grade, Path(tmp) / f"{i}.ipynb", src, oracle, a))
            for i, (kind, label, src) in enumerate(cases(a))
            if kind != "bug"
        ]
        jobs += [
            ("bugs", group, pool.submit(_grade, Path(tmp) / f"b{i}.ipynb", src, oracle, a))
            for i, group in enumerate(pack([lb for k, lb, _ in cases(a) if k == "bug"]))
            for src in [{gid: bug.source for gid, bug in group}]
        ]
        for kind, label, fut in jobs:
            r = fut.result()
            if kind == "bugs":
                here = {gid for gid, _ in label}
                for gid, bug in label:
                    found = bug_problems(r, bug, gid, a.ids, here - {gid})
                    problems += found
                    say(f"{'✗' if found else '✓'} {'bug':12} {gid}/{bug.name}")
                continue
            found = [f"{kind} {label}: {p}" for p in full_marks(r, set(a.ids))]
            problems += found
            say(f"{'✗' if found else '✓'} {kind:12} {label}")
    say("\n".join(["", *problems]) if problems else "\nall cases behave as expected")
    return 1 if problems else 0


def _grade(path: Path, replace: dict[str, str], oracle, a) -> Report:
    from autograder.bank import make_submission

    make_submission(path, replace, base=a.solution)
    return grade_notebook(
        path, training=False, options=Options(seed=0, assignment=a.name), oracle=oracle
    )
