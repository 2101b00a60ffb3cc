"""The command line: parse arguments, call one function per verb."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _data(args):
    from autograder import data

    data.fetch(args.data, verbose=True)
    print(data.describe(args.data))
    return 0


def _check(args):
    from autograder.check import check

    return check(
        Path(args.notebook),
        training=not args.no_training,
        device=args.device,
        data=args.data,
        cache=not args.no_cache,
    )


def _grade(args):
    from autograder.batch import GraderFailed, expand, grade_batch, shard
    from autograder.grade import Options

    paths = shard(expand(args.submissions), args.shard)
    opts = Options(
        hidden=not args.public_only,
        training=not args.no_training,
        seed=args.seed,
        device=args.device,
        data=args.data,
    )
    try:
        grade_batch(
            paths,
            Path(args.out),
            workers=args.workers,
            force=args.force,
            options=opts,
            feedback=not args.no_feedback,
        )
    except GraderFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"reports in {args.out}/<name>/, summary in {Path(args.out) / 'grades.csv'}")
    return 0


def _merge(args):
    from autograder.batch import merge

    print(merge([Path(f) for f in args.folders], Path(args.out)))
    return 0


def _release(args):
    from autograder import assignment, release

    a = assignment.get(args.assignment)
    print(release.release(a))
    if args.bundle:
        from autograder.bundle import build_bundle

        print(build_bundle(a, Path(args.bundle)))
    return 0


def _validate(args):
    from autograder.validate import validate

    return validate(args.assignment, training=not args.no_training)


def _demo(args):
    from autograder.demo import demo

    return demo(Path(args.out))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="autograder", description=__doc__)
    sub = p.add_subparsers(dest="verb", required=True)

    def common(sp, training=True):
        sp.add_argument(
            "--data",
            type=Path,
            help="MNIST cache folder (default: user cache, or $AUTOGRADER_DATA)",
        )
        if training:
            sp.add_argument("--no-training", action="store_true", help="skip the MNIST run")
            sp.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")

    sp = sub.add_parser("data", help="fetch and verify MNIST into the cache")
    common(sp, training=False)
    sp.set_defaults(fn=_data)
    sp = sub.add_parser("check", help="students: run the public checks on a notebook")
    sp.add_argument("notebook")
    sp.add_argument("--no-cache", action="store_true", help="grade again even if unchanged")
    common(sp)
    sp.set_defaults(fn=_check)
    sp = sub.add_parser("grade", help="grade submissions (public and hidden checks)")
    sp.add_argument("submissions", nargs="+", help="notebooks or folders of notebooks")
    sp.add_argument("--out", required=True)
    sp.add_argument("--workers", type=int, default=1)
    sp.add_argument("--seed", type=int, help="seed for randomized checks (default: fresh)")
    sp.add_argument("--shard", help="I/N: grade only this deterministic share of the batch")
    sp.add_argument("--force", action="store_true", help="regrade submissions already graded")
    sp.add_argument("--public-only", action="store_true")
    sp.add_argument(
        "--no-feedback", action="store_true", help="skip feedback.html/.md per submission"
    )
    common(sp)
    sp.set_defaults(fn=_grade)
    sp = sub.add_parser("merge", help="merge shard output folders into one grades.csv")
    sp.add_argument("folders", nargs="+")
    sp.add_argument("--out", required=True)
    sp.set_defaults(fn=_merge)
    sp = sub.add_parser("release", help="build assignments/ from solutions/ (and a student bundle)")
    sp.add_argument("--assignment", default="minibatch")
    sp.add_argument("--bundle", help="also write the student bundle to this folder")
    sp.set_defaults(fn=_release)
    sp = sub.add_parser("validate", help="solution full marks, stubs zero, bug bank caught")
    sp.add_argument("--assignment", default="minibatch")
    sp.add_argument("--no-training", action="store_true")
    sp.set_defaults(fn=_validate)
    sp = sub.add_parser("demo", help="grade the bundled solution and a stub notebook")
    sp.add_argument("--out", default="out/demo")
    sp.set_defaults(fn=_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except KeyboardInterrupt:
        print(
            "interrupted: finished reports are kept; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
