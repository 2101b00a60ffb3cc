"""GitHub Classroom: a report as the result its autograding reporter reads, and its points line.

GitHub Classroom's current autograding workflow runs grader steps, each of which sets a step output
`result`: base64 of a JSON object ``{"version": 1, "status": "pass"|"fail"|"error",
"max_score": N, "tests": [{"name", "status", "message", "score", ...}]}`` (the format of
classroom-resources/autograding-command-grader, -io-grader and -python-grader). The last step,
``classroom-resources/autograding-grading-reporter@v1`` with ``runners: ID1,ID2``, reads each
runner's result from the environment variable ``<ID upper-cased>_RESULTS``, adds up the tests'
``score`` against the runners' ``max_score``, prints the tests, fails the job if any runner's
status is "fail" or "error", and writes ``Points X/Y`` as the summary and a notice annotation of the
job's check run named "Autograding Tests". That line is what Classroom reads as the grade.

Our step stands in for a grader action. In the student repository (the student bundle: public
checks, answers recorded at release; hidden checks would be visible to students there, so leave
them out) the workflow is::

    name: Autograding Tests
    on: [push, repository_dispatch]
    permissions: {checks: write, actions: read, contents: read}
    jobs:
      run-autograding-tests:
        name: Autograding Tests
        runs-on: ubuntu-latest
        if: github.actor != 'github-classroom[bot]'
        steps:
          - uses: actions/checkout@v4
          - uses: actions/setup-python@v5
            with: {python-version: "3.12"}
          - run: |
              pip install torch --index-url https://download.pytorch.org/whl/cpu
              pip install -r requirements.txt
          - id: autograder
            run: python -m autograder.classroom minibatch.ipynb
          - uses: classroom-resources/autograding-grading-reporter@v1
            env:
              AUTOGRADER_RESULTS: "${{ steps.autograder.outputs.result }}"
            with:
              runners: autograder

`python -m autograder.classroom` grades the notebook, writes the JSON to a file, appends
``result=<base64>`` to $GITHUB_OUTPUT and prints the ``Points X/Y`` line.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path

from autograder.model import Report
from autograder.report import atomic_write

HIDDEN_MESSAGE = "hidden check: its details are shown when grades are released"


def _js(x: float) -> str:
    "A number as JavaScript prints it (the reporter is JavaScript): 59 not 59.0."
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e21 else repr(x)


def classroom_result(report: Report) -> dict:
    "The grader-action result for a report: one test per check, hidden checks' messages withheld."
    tests = []
    for gid, e in report.exercises.items():
        for c in e.checks:
            message = "" if c.passed else (HIDDEN_MESSAGE if c.hidden else c.message)
            tests.append(
                {
                    "name": f"{gid}: {c.name}",
                    "status": "pass" if c.passed else "fail",
                    "message": message,
                    "score": c.score,
                }
            )
    failed = any(t["status"] != "pass" for t in tests)
    return {
        "version": 1,
        "status": "fail" if failed else "pass",
        "max_score": report.max_score,
        "tests": tests,
    }


def _points(result: dict) -> tuple[float, float]:
    "The reporter's arithmetic: the tests' scores summed in order, against max_score."
    total = 0
    for t in result["tests"]:
        total += t["score"]
    return total, result["max_score"]


def classroom_output(report: Report) -> str:
    "The line GitHub Classroom takes the grade from, e.g. 'Points 58.5/64'."
    total, max_score = _points(classroom_result(report))
    return f"Points {_js(total)}/{_js(max_score)}"


def encode(result: dict) -> str:
    "The result as the reporter reads it from <RUNNER>_RESULTS: base64 of compact JSON."
    text = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def write_classroom(report: Report, path: Path, github_output: Path | None = None) -> str:
    """Write the result JSON to path; with github_output (the $GITHUB_OUTPUT file), also append
    the step output line ``result=<base64>`` there. Returns the base64 text."""
    result = classroom_result(report)
    atomic_write(Path(path), json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    b64 = encode(result)
    if github_output:
        with open(github_output, "a", encoding="utf-8") as f:
            f.write(f"result={b64}\n")
    return b64


def main(argv: list[str] | None = None) -> int:
    "`python -m autograder.classroom NOTEBOOK`: grade, write the result, print the points line."
    p = argparse.ArgumentParser(prog="python -m autograder.classroom")
    p.add_argument("notebook", type=Path)
    p.add_argument("--out", type=Path, default=Path("autograding_output/results.json"))
    p.add_argument("--no-training", action="store_true", help="skip the graded training runs")
    p.add_argument("--assignment", default=None, help="default: the notebook's own")
    p.add_argument("--data", type=Path, help="the data folder (default: $AUTOGRADER_DATA, cache)")
    args = p.parse_args(argv)
    from autograder.grade import Options, grade_notebook

    opts = Options(assignment=args.assignment, data=args.data, seed=0)
    r = grade_notebook(args.notebook, hidden=False, training=not args.no_training, options=opts)
    gh = os.environ.get("GITHUB_OUTPUT")
    write_classroom(r, args.out, Path(gh) if gh else None)
    print(classroom_output(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
