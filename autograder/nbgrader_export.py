"""Write our scores into an nbgrader gradebook, for a course that already runs on nbgrader.

nbgrader keeps grades per *grade cell* (a cell with `grade: true` and points). Our exercise cells
are solution cells, and the graded cells after them are the zero-point self-checks
`<grade_id>_selfcheck`. So, for a student's submission of an assignment:

- each exercise's score goes to the `auto_score` of its `<grade_id>_selfcheck` grade cell (the
  score nbgrader's own autograder would set), with `needs_manual_grade` cleared; `manual_score`
  stays free for a human to override in formgrader, as nbgrader intends;
- that grade cell's `max_score` in the gradebook is set to the exercise's points (the notebook
  says 0: our grader, not the self-check, holds the points), so totals and percentages in
  formgrader and `nbgrader export` add up to ours;
- a score without a cell of its own (a training run: `[[run]]` in assignment.toml) goes to the last
  exercise's grade cell, score and points, and said so in its comment;
- each exercise's solution cell gets an `auto_comment`: its points and the failing checks' first
  lines, which `nbgrader generate_feedback` shows to the student.

`nbgrader generate_assignment` resets grade-cell points to the notebook's zeros and `nbgrader
autograde` recomputes auto scores from the self-checks (zero points): export again after either.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from autograder.model import Report

SUFFIX = "_selfcheck"


class ExportError(Exception):
    "The gradebook lacks what the export needs; the message says how to fix it."


def _comment(gid: str, e, folded: list[tuple[str, object]]) -> str:
    lines = [f"autograder: {e.score:g} / {e.max_score:g} points"]
    bad = [c for c in e.checks if not c.passed]
    lines += [f"✗ {c.name}: {(c.message or 'failed').strip().splitlines()[0][:300]}" for c in bad]
    if not bad and e.checks:
        lines[0] += ", every check passed"
    for other, oe in folded:
        lines.append(f"includes {other}: {oe.score:g} / {oe.max_score:g} points")
        lines += [
            f"✗ {other}·{c.name}: {(c.message or 'failed').strip().splitlines()[0][:300]}"
            for c in oe.checks
            if not c.passed
        ]
    return "\n".join(lines)


def write_gradebook(
    report: Report | dict,
    db_url: str,
    assignment: str,
    student: str,
    *,
    notebook: str | None = None,
    course_id: str = "default_course",
    set_max: bool = True,
) -> dict[str, tuple[float, float]]:
    """Record one report as `student`'s submission of `assignment` in the gradebook at db_url.

    The assignment must be in the gradebook (`nbgrader generate_assignment` puts it there); the
    student and the submission are created when missing. notebook defaults to the assignment's
    only notebook, or the one named like the assignment. Returns {grade cell: (score, max)}.
    """
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    r = Report.from_dict(report) if isinstance(report, dict) else report
    with Gradebook(db_url, course_id=course_id) as gb:
        try:
            a = gb.find_assignment(assignment)
        except MissingEntry:
            raise ExportError(
                f"assignment {assignment!r} is not in the gradebook {db_url}: run "
                f"`nbgrader generate_assignment {assignment}` in the course first"
            ) from None
        names = [nb.name for nb in a.notebooks]
        if notebook is None:
            notebook = names[0] if len(names) == 1 else assignment
        if notebook not in names:
            raise ExportError(
                f"assignment {assignment!r} has notebooks {names}, not {notebook!r}: "
                "pass the notebook's name"
            )
        nb = gb.find_notebook(notebook, assignment)
        grade_cells = {c.name for c in nb.grade_cells}
        solution_cells = {c.name for c in nb.solution_cells}
        plan: dict[str, list[str]] = {}  # grade cell -> exercise ids whose points it carries
        orphans = []
        for gid in r.exercises:
            if gid + SUFFIX in grade_cells:
                plan[gid + SUFFIX] = [gid]
            else:
                orphans.append(gid)
        if not plan:
            raise ExportError(
                f"notebook {notebook!r} has no grade cell named <exercise>{SUFFIX} for any of "
                f"{list(r.exercises)}: is it this kit's assignment?"
            )
        last = list(plan)[-1]
        plan[last] += [g for g in orphans if r.exercises[g].max_score or r.exercises[g].checks]
        gb.update_or_create_student(student)
        with warnings.catch_warnings():  # nbgrader's add_submission trips SQLAlchemy's autoflush
            warnings.simplefilter("ignore", SAWarning)
            gb.update_or_create_submission(assignment, student)
        written = {}
        for cell, gids in plan.items():
            score = round(sum(r.exercises[g].score for g in gids), 4)
            max_score = round(sum(r.exercises[g].max_score for g in gids), 4)
            if set_max:
                gb.update_or_create_grade_cell(cell, notebook, assignment, max_score=max_score)
            grade = gb.find_grade(cell, notebook, assignment, student)
            grade.auto_score, grade.needs_manual_grade = score, False
            gid = gids[0]
            if gid in solution_cells:
                folded = [(g, r.exercises[g]) for g in gids[1:]]
                comment = gb.find_comment(gid, notebook, assignment, student)
                comment.auto_comment = _comment(gid, r.exercises[gid], folded)
            written[cell] = (score, max_score)
        gb.db.commit()
    return written


def export_folder(
    out: Path,
    db_url: str,
    assignment: str,
    *,
    notebook: str | None = None,
    course_id: str = "default_course",
) -> dict[str, float]:
    """Export every out/*/report.json, the submission name as the nbgrader student id.

    Reports the grader itself failed on are skipped. Returns {student: total score}.
    """
    totals = {}
    for p in sorted(Path(out).glob("*/report.json")):
        d = json.loads(p.read_text(encoding="utf-8"))
        if d.get("meta", {}).get("grader_error"):
            continue
        written = write_gradebook(
            d, db_url, assignment, d["submission"], notebook=notebook, course_id=course_id
        )
        totals[d["submission"]] = round(sum(s for s, _ in written.values()), 4)
    return totals
