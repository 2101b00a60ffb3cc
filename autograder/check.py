"""`autograder check`: what a student runs: public checks, a table, what to fix next."""

from __future__ import annotations

from pathlib import Path

from autograder import report
from autograder.grade import Options, grade_notebook
from autograder.model import Report


def next_step(r: Report) -> str:
    "One line: the score, and the first thing to fix."
    for gid, e in r.exercises.items():
        for c in e.checks:
            if not c.passed:
                first = c.message.split("\n")[0]
                return f"{r.score:g}/{r.max_score:g} points. Next: {gid} · {c.name}: {first}"
    return f"{r.score:g}/{r.max_score:g} points. Every public check passes."


def check(
    path: Path, training: bool = True, device: str = "cpu", data: Path | None = None, say=print
) -> int:
    "Run the public checks on a notebook and print the result; exit status 0 iff all pass."
    if training:
        say("running the public checks, then training on MNIST with your pipeline (a few seconds)…")
    r = grade_notebook(
        path,
        hidden=False,
        training=training,
        options=Options(hidden=False, training=training, device=device, data=data, seed=0),
    )
    say(report.table(r, hidden=False))
    fails = report.failures(r)
    if fails:
        say("\n" + fails)
    say("\n" + next_step(r))
    return 0 if all(c.passed for e in r.exercises.values() for c in e.checks) else 1
