"""`autograder demo`: the main job on the bundled default: grade the solution and the stubs."""

from __future__ import annotations

import json
from pathlib import Path

from autograder import assignment
from autograder.batch import grade_batch
from autograder.grade import Options


def demo(out: Path, name: str | None = None) -> int:
    """Grade the instructor solution and the released stub notebook of every assignment (or of
    the one named) in one batch; print the reports."""
    many = len(assignment.names(name)) > 1
    subs = {}
    for n in assignment.names(name):
        a, tag = assignment.get(n), f"{n}-" if many else ""
        subs |= {f"{tag}solution": a.solution, f"{tag}stubs": a.release}
    out.mkdir(parents=True, exist_ok=True)
    reports = grade_batch(
        list(subs.values()), out, force=True, options=Options(seed=0), names=list(subs)
    )
    for label, r in zip(subs, reports):
        print(f"\n== {label}: {r['submission']} ({subs[label].relative_to(assignment.ROOT)}) ==")
        for gid, e in r["exercises"].items():
            failed = [c for c in e["checks"] if not c["passed"]]
            note = failed[0]["message"].split("\n")[0][:90] if failed else "ok"
            print(f"  {gid:22} {e['score']:>5g} / {e['max_score']:<4g} {note}")
        print(f"  {'total':22} {r['score']:>5g} / {r['max_score']:<4g}")
    print(
        f"\nreport.json, results.json and junit.xml per submission in {out}/; "
        f"summary: {out / 'grades.csv'}"
    )
    scores = {
        n: {"solution": sol["score"], "stubs": stub["score"], "max_score": sol["max_score"]}
        for n, sol, stub in zip(assignment.names(name), reports[::2], reports[1::2])
    }
    print(json.dumps(scores if many else next(iter(scores.values()))))
    return 0
