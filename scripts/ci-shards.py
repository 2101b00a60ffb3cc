#!/usr/bin/env python3
"""Plan a sharded class grading run: which shards, one seed for all, how many submissions.

    ci-shards.py SUBMISSIONS... --shards N [--seed S] [--output FILE]

Lists the notebooks exactly as `autograder grade` will (the kit's own `expand`), then writes, as
`key=value` lines to FILE (GitHub: "$GITHUB_OUTPUT") or stdout:

  shards=[1, 2, ...]  the matrix, as JSON: never more shards than submissions
  count=N             that number of shards (the N of --shard I/N)
  seed=S              the seed every shard must share (a fresh one when none was given)
  total=K             the number of submissions, for the merge job's completeness check

It fails (exit 1) when there is nothing to grade, when N is not a positive integer, or when two
notebooks would get the same report name (the kit names a report after the notebook's file name,
and shards name theirs independently, so `alice/minibatch.ipynb` and `bob/minibatch.ipynb` would
both become `minibatch`): name the notebooks after the students instead (`alice.ipynb`).
Needs the kit importable (`pip install --no-deps -e KIT` is enough: no torch).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections import Counter
from pathlib import Path

MAX_SHARDS = 256  # GitHub's limit on jobs one matrix may create


def plan(submissions: list[str], shards: str, seed: str | None) -> dict:
    from autograder.batch import expand, submission_names

    try:
        n = int(str(shards).strip())
    except ValueError:
        raise SystemExit(f"error: shards must be a positive integer, got {shards!r}") from None
    if not 1 <= n <= MAX_SHARDS:
        raise SystemExit(f"error: shards must be between 1 and {MAX_SHARDS}, got {n}")
    missing = [s for s in submissions if not Path(s).exists()]
    if missing:
        raise SystemExit(f"error: not found: {' '.join(missing)}")
    paths = expand(submissions)
    if not paths:
        raise SystemExit(f"error: no notebooks found in {' '.join(submissions)}")
    # report names come from the path inside each folder given: they clash only across folders
    clashes = {
        k: v
        for k, v in Counter(submission_names(submissions, dedupe=False).values()).items()
        if v > 1
    }
    if clashes:
        some = ", ".join(f"{k} ×{v}" for k, v in sorted(clashes.items())[:10])
        raise SystemExit(
            f"error: {sum(clashes.values())} notebooks share a report name ({some}); the grades "
            "would not say whose is whose. Name each notebook after its student "
            "(submissions/alice.ipynb, submissions/bob.ipynb, ...)"
        )
    seed = str(seed).strip() if seed is not None else ""
    if seed and not seed.isdigit():
        raise SystemExit(f"error: seed must be a non-negative integer, got {seed!r}")
    n = min(n, len(paths))
    return {
        "shards": list(range(1, n + 1)),
        "count": n,
        "seed": int(seed) if seed else secrets.randbelow(2**31),
        "total": len(paths),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("submissions", nargs="+", help="notebooks or folders of notebooks")
    p.add_argument("--shards", required=True)
    p.add_argument("--seed", help="empty or omitted: a fresh seed")
    p.add_argument("--output", help="append key=value lines here ($GITHUB_OUTPUT)")
    args = p.parse_args(argv)
    result = plan(args.submissions, args.shards, args.seed)
    text = "".join(f"{k}={json.dumps(v)}\n" for k, v in result.items())
    if args.output:
        with open(args.output, "a", encoding="utf-8") as f:
            f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
