"""`autograder demo`: the main job on the bundled default: grade the solution and the stubs."""

from __future__ import annotations

import json
from pathlib import Path

from autograder import assignment
from autograder.batch import grade_batch
from autograder.grade import Options


def demo(out: Path, name: str | None = None) -> int:
    "Grade the instructor solution and the released stub notebook; print both reports."
    a = assignment.get(name)
    subs = {"solution": a.solution, "stubs": a.release}
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
    print(
        json.dumps(
            {
                "solution": reports[0]["score"],
                "stubs": reports[1]["score"],
                "max_score": reports[0]["max_score"],
            }
        )
    )
    return 0
