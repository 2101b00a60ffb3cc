"""Transition aid: grade bank cases with the old checks (autograder/checks/) and the new pytest
tests (solutions/minibatch/tests/) in one worker session each, and print every check whose verdict
differs. Usage: .venv/bin/python scripts/compare_engines.py [--exercise a,b] [--seed N]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

from autograder import assignment as asg
from autograder import grade, policy
from autograder.bank import cases, make_submission
from autograder.extract import extract
from autograder.oracle import Oracle


def verdicts(results):
    return {(r.exercise, r.name, r.hidden): r for r in results}


def hint_of(msg):
    m = re.search(r"\nHint: (.*)", msg)
    return m.group(1).strip() if m else ""


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--exercise", default="")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--kinds", default="lesson,alternative,bug,solution,stub")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    a = asg.get()
    want = set(filter(None, args.exercise.split(",")))
    subs = []
    tmp = Path(tempfile.mkdtemp())
    kinds = args.kinds.split(",")
    if "solution" in kinds:
        subs.append(("solution", a.solution))
    if "stub" in kinds:
        subs.append(("stub", a.release))
    for i, (kind, label, src) in enumerate(cases(a)):
        if kind not in kinds or (want and kind == "bug" and not set(src) & want):
            continue
        name = f"{kind} {label[0]}/{label[1].name}" if kind == "bug" else f"{kind} {label}"
        subs.append((name, make_submission(tmp / f"c{i}.ipynb", src)))
    oracle = Oracle()
    bad = 0
    import torch

    torch.set_num_threads(1)
    for name, path in subs:
        opts = grade.Options(seed=args.seed, training=False)
        sub = extract(path, a)
        policy.apply(sub, a)
        s = grade.Session(sub, opts, {})
        try:
            s.spawn()
            from autograder.suite import load_suite

            old = grade._run_checks(
                load_suite(a.name), a, sub, s, opts, oracle, time.perf_counter()
            )
            new = grade._run_tests(a, sub, s, opts, oracle)
        finally:
            s.close()
        o, n = verdicts(old), verdicts(new)
        ex_new = {k[0] for k in n if k[1] != "own_implementation"}
        for key in sorted(set(o) | set(n)):
            if want and key[0] not in want or key[0] not in ex_new:
                continue
            ro, rn = o.get(key), n.get(key)
            if ro is None or rn is None:
                print(f"[{name}] {key}: only in {'new' if ro is None else 'old'}")
                bad += 1
            elif (
                ro.passed != rn.passed
                or hint_of(ro.message)
                and hint_of(ro.message) != hint_of(rn.message)
                and "not implemented yet" not in rn.message  # no advice on code not written
            ):
                bad += 1
                print(f"[{name}] {key}: old passed={ro.passed} new passed={rn.passed}")
                print(f"   old: {ro.message[:300]!r}\n   new: {rn.message[:300]!r}")
            elif args.verbose and ro.message != rn.message:
                print(
                    f"[{name}] {key} message differs:\n"
                    f"   old: {ro.message[:200]!r}\n   new: {rn.message[:200]!r}"
                )
        if s.instructor_errors:
            print(f"[{name}] instructor errors: {s.instructor_errors}")
            bad += 1
    print(f"{len(subs)} submissions, {bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
