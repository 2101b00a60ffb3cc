"""The command line: parse arguments, call one function per verb."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _data(args):
    from autograder import assignment, data

    names = assignment.names(args.assignment)
    declared = data.declared_by(names)
    if not declared:
        print(f"no data to fetch: {', '.join(names) or 'no assignment'} declares no [data.NAME]")
    for ds in declared:
        data.fetch(ds, args.data, verbose=True)
        print(data.describe(ds, args.data))
    return 0


def _check(args):
    from autograder.check import check

    return check(
        Path(args.notebook),
        training=not args.no_training,
        device=args.device,
        data=args.data,
        cache=not args.no_cache,
        assignment=args.assignment,
        html=args.html,
    )


def _grade(args):
    from autograder.batch import GraderFailed, batch_seed, grade_batch, shard, submission_names
    from autograder.grade import Options
    from autograder.sandbox import Limits, bwrap_works

    if args.isolation == "auto" and not args.allow_unsandboxed and not bwrap_works():
        print(
            "error: bubblewrap is missing or cannot create namespaces here, so student code "
            "would run as a plain process with your user's access to files and network; "
            "install it (apt-get install bubblewrap, or ./install.sh as root) to grade "
            "untrusted notebooks, or pass --allow-unsandboxed (or --isolation process) to "
            "grade without it on purpose",
            file=sys.stderr,
        )
        return 2
    names = submission_names(args.submissions)
    paths = shard(list(names), args.shard)
    seed = args.seed
    if seed is None and args.shard:  # every shard of the class draws the same hidden inputs
        seed = batch_seed(list(names), list(names.values()))
    opts = Options(
        hidden=not args.public_only,
        training=not args.no_training,
        seed=seed,
        device=args.device,
        data=args.data,
        assignment=args.assignment,
        limits=Limits(threads=args.threads, isolation=args.isolation),
    )
    try:
        grade_batch(
            paths,
            Path(args.out),
            workers=args.workers,
            force=args.force,
            options=opts,
            feedback=not args.no_feedback,
            names=[names[p] for p in paths],
            label=f"shard {args.shard}: " if args.shard else "",
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


def _summary(args):
    from autograder.summary import write_summary

    for p in write_summary(
        Path(args.out),
        args.dest,
        title=args.title,
        canvas_id=args.canvas_id,
        roster=args.roster,
        top=args.top,
    ):
        print(p)
    return 0


def _release(args):
    from autograder import assignment, release

    bundled = assignment.get(args.assignment) if args.bundle else None  # one: named or default
    for name in assignment.names(args.assignment):  # every assignment, unless one is named
        print(release.release(assignment.get(name)))
    if args.bundle:
        from autograder.bundle import build_bundle

        print(build_bundle(bundled, Path(args.bundle)))
    return 0


def _validate(args):
    from autograder.assignment import names
    from autograder.validate import validate

    codes = [validate(n, training=not args.no_training) for n in names(args.assignment)]
    return max(codes, default=0)


def _demo(args):
    from autograder.demo import demo

    return demo(Path(args.out))


def _gradescope(args):
    from autograder import assignment
    from autograder.gradescope import build_autograder_zip

    print(
        build_autograder_zip(
            assignment.get(args.assignment),
            Path(args.dest),
            training=not args.no_training,
            seed=args.seed,
            torch_spec=args.torch,
            include_data=args.with_data,
            data=args.data,
        )
    )
    return 0


def _classroom(args):
    from autograder.classroom import main

    argv = [args.notebook, "--out", args.out]
    argv += ["--assignment", args.assignment] if args.assignment else []
    argv += ["--no-training"] if args.no_training else []
    argv += ["--data", str(args.data)] if args.data else []
    return main(argv)


def _nbgrader_export(args):
    from autograder.nbgrader_export import export_folder

    totals = export_folder(
        Path(args.out),
        args.db,
        args.nb_assignment,
        notebook=args.notebook,
        course_id=args.course_id,
    )
    for student, total in sorted(totals.items()):
        print(f"{student}: {total:g}")
    return 0


def _new(args):
    from autograder.new import ScaffoldError, scaffold

    try:
        scaffold(args.name)
    except ScaffoldError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="autograder", description=__doc__)
    sub = p.add_subparsers(dest="verb", required=True)

    def verb(name, fn, help, *, data=False, training=False, assignment=False):
        sp = sub.add_parser(name, help=help)
        sp.set_defaults(fn=fn)
        if data:
            sp.add_argument(
                "--data",
                type=Path,
                metavar="DIR",
                help="the data folder: the declared datasets, one folder each (default: "
                "$AUTOGRADER_DATA, else the user cache)",
            )
        if training:
            sp.add_argument(
                "--no-training", action="store_true", help="skip the graded training runs"
            )
        if assignment:
            sp.add_argument(
                "--assignment",
                default=None,
                help="default: each notebook's own (its metadata); the only one for the others",
            )
        return sp

    sp = verb("data", _data, "fetch and verify the datasets the assignments declare", data=True)
    sp.add_argument(
        "--assignment", default=None, help="only this assignment's datasets (default: every one's)"
    )
    sp = verb(
        "check",
        _check,
        "students: public checks on a notebook",
        data=True,
        training=True,
        assignment=True,
    )
    sp.add_argument("notebook")
    sp.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")
    sp.add_argument("--no-cache", action="store_true", help="grade again even if unchanged")
    sp.add_argument(
        "--html",
        type=Path,
        metavar="DIR",
        help="also write the feedback page there (feedback.html, .md, curve.png; public checks)",
    )
    sp = verb(
        "grade",
        _grade,
        "grade submissions (public and hidden checks)",
        data=True,
        training=True,
        assignment=True,
    )
    sp.add_argument("submissions", nargs="+", help="notebooks or folders of notebooks")
    sp.add_argument("--out", required=True)
    sp.add_argument("--workers", type=int, default=1)
    sp.add_argument("--seed", type=int, help="seed for randomized checks (default: fresh)")
    sp.add_argument("--shard", help="I/N: grade only this deterministic share of the batch")
    sp.add_argument("--force", action="store_true", help="regrade submissions already graded")
    sp.add_argument("--public-only", action="store_true")
    sp.add_argument("--no-feedback", action="store_true", help="skip feedback.html/.md")
    sp.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads per worker (default "
        "1: with a worker per core, more threads only fight over the cores)",
    )
    sp.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")
    sp.add_argument(
        "--isolation",
        choices=["auto", "bwrap", "process"],
        default="auto",
        help="how student code runs: bubblewrap sandbox, or a plain process (default auto: "
        "bubblewrap, refusing to grade where it does not work)",
    )
    sp.add_argument(
        "--allow-unsandboxed",
        action="store_true",
        help="grade even where bubblewrap does not work (student code then runs as a plain "
        "process: only for trusted notebooks)",
    )
    sp = verb("merge", _merge, "merge shard output folders into one grades.csv")
    sp.add_argument("folders", nargs="+")
    sp.add_argument("--out", required=True)
    sp = verb(
        "summary", _summary, "class summary: histogram, pass rates, common failures, gradebook CSV"
    )
    sp.add_argument("out", help="a folder `autograder grade` wrote")
    sp.add_argument("--dest", type=Path)
    sp.add_argument("--title")
    sp.add_argument("--canvas-id")
    sp.add_argument("--roster", type=Path, help="a Canvas gradebook export, for student ids")
    sp.add_argument("--top", type=int, default=15)
    sp = verb(
        "release",
        _release,
        "build assignments/ from solutions/ (and a student bundle)",
        assignment=True,
    )
    sp.add_argument("--bundle", help="also write the student bundle to this folder")
    verb(
        "validate",
        _validate,
        "solution full marks, stubs zero, bug bank caught",
        training=True,
        assignment=True,
    )
    sp = verb("demo", _demo, "grade the bundled solution and a stub notebook")
    sp.add_argument("--out", default="out/demo")
    sp = verb(
        "gradescope",
        _gradescope,
        "build the Gradescope autograder zip",
        data=True,
        training=True,
        assignment=True,
    )
    sp.add_argument("dest", help="the zip to write")
    sp.add_argument("--seed", type=int)
    sp.add_argument("--torch", help="torch requirement for Gradescope's image")
    sp.add_argument(
        "--with-data",
        action="store_true",
        help="put the assignment's declared data archives in the zip (from the data folder)",
    )
    sp = verb(
        "classroom",
        _classroom,
        "GitHub Classroom: grade, write its result, print 'Points X/Y'",
        data=True,
        training=True,
        assignment=True,
    )
    sp.add_argument("notebook")
    sp.add_argument("--out", default="autograding_output/results.json")
    sp = verb("nbgrader-export", _nbgrader_export, "write scores into an nbgrader gradebook")
    sp.add_argument("out", help="a folder `autograder grade` wrote")
    sp.add_argument("--db", required=True, help="gradebook URL, e.g. sqlite:///gradebook.db")
    sp.add_argument("--assignment", dest="nb_assignment", required=True)
    sp.add_argument("--notebook")
    sp.add_argument("--course-id", default="default_course")
    sp = verb(
        "new",
        _new,
        "scaffold a new assignment: one folder (notebook, toml, tests, bank) and its reference",
    )
    sp.add_argument("name")
    return p


def run() -> None:
    """The `autograder` command: main(), then out without tearing the interpreter down (with torch
    and pytest loaded that takes about 0.6 s and does nothing for us): exit handlers run, the
    streams are flushed, the process ends."""
    import atexit

    try:
        code = main()
    except BrokenPipeError:  # the reader went away (| head): what it wanted it has
        code = 141
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (| head) or stream: nothing more to say
            pass
    os._exit(code if isinstance(code, int) else 0)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from autograder.assignment import AssignmentError
    from autograder.data import DataError

    try:
        return args.fn(args)
    except AssignmentError as e:  # an unknown or ambiguous assignment, a broken assignment.toml
        print(f"autograder: {e}", file=sys.stderr)
        return 2
    except DataError as e:  # data that could not be fetched or verified: the message says why
        print(f"autograder: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: finished reports are kept; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
