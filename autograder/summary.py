"""A class summary for instructors, from a graded output folder (`autograder grade --out OUT`).

`write_summary(OUT)` reads every `OUT/*/report.json` and writes, next to them:

- `histogram.png`: the score distribution;
- `pass_rates.png`: per exercise, the fraction of submissions with full marks;
- `common_failures.csv`: every failing check, most common first, with one example message;
- `summary.md`: the numbers, both plots and the top of the failure list, for a course page;
- `gradebook.csv`: one column for a Canvas gradebook import (see `canvas_gradebook`).

Reports the grader itself failed on (`meta.grader_error`) are left out of the statistics and their
gradebook cells stay blank (Canvas leaves a blank cell's grade as it is); summary.md lists them.
Every file is written atomically, like the reports.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from autograder.escape import md, md_code
from autograder.report import atomic_write, cell_text

NOT_IMPLEMENTED = "not implemented yet"
# Canvas's gradebook export starts with these five columns; its import matches students on
# ID, SIS User ID or SIS Login ID (whichever is filled) and ignores Section for matching.
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_ROW = "    Points Possible"  # the export's second row, as Canvas writes it


def load_reports(out: Path) -> list[dict]:
    "Every out/*/report.json, sorted by submission name; unreadable files are skipped."
    reports = []
    for p in sorted(Path(out).glob("*/report.json")):
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(d, dict) and isinstance(d.get("exercises"), dict):
            reports.append(d)
    return sorted(reports, key=lambda r: str(r.get("submission", "")))


def graded(reports: list[dict]) -> list[dict]:
    "The reports that say something about the student (not a grader failure)."
    return [r for r in reports if not r.get("meta", {}).get("grader_error")]


def exercise_ids(reports: list[dict]) -> list[str]:
    "Exercise ids in the order the reports list them (first seen first)."
    ids: dict[str, None] = {}
    for r in reports:
        ids.update(dict.fromkeys(r["exercises"]))
    return list(ids)


def pass_rates(reports: list[dict]) -> dict[str, float]:
    "Per exercise that is worth points: the fraction of submissions with full marks."
    rates = {}
    for gid in exercise_ids(reports):
        ex = [r["exercises"][gid] for r in reports if gid in r["exercises"]]
        ex = [e for e in ex if e.get("max_score", 0) > 0]
        if ex:
            rates[gid] = sum(e["score"] >= e["max_score"] for e in ex) / len(ex)
    return rates


@dataclass(frozen=True)
class Failure:
    "One check that failed in some submissions, with the commonest first line of its message."

    exercise: str
    check: str
    hidden: bool
    count: int
    not_implemented: int
    example: str


def common_failures(reports: list[dict]) -> list[Failure]:
    "Failing checks, most common first; 'not implemented yet' failures are counted apart."
    counts: Counter = Counter()
    stubs: Counter = Counter()
    hidden: dict[tuple[str, str], bool] = {}
    lines: dict[tuple[str, str], Counter] = {}
    for r in reports:
        for gid, e in r["exercises"].items():
            for c in e.get("checks", []):
                if c.get("passed"):
                    continue
                key = (gid, str(c.get("name", "?")))
                msg = str(c.get("message") or "")
                counts[key] += 1
                hidden[key] = bool(c.get("hidden"))
                if NOT_IMPLEMENTED in msg:
                    stubs[key] += 1
                else:
                    first = msg.strip().split("\n")[0].strip()[:300]
                    lines.setdefault(key, Counter())[first] += 1
    out = []
    for key, n in counts.items():
        examples = lines.get(key)
        # the commonest real message; ties go to the alphabetically first, so output is stable
        ex = min(examples.items(), key=lambda kv: (-kv[1], kv[0]))[0] if examples else ""
        out.append(Failure(*key, hidden[key], n, stubs[key], ex or NOT_IMPLEMENTED))
    # real mistakes first: rank by failures that are not mere stubs, then by all failures
    return sorted(
        out, key=lambda f: (-(f.count - f.not_implemented), -f.count, f.exercise, f.check)
    )


def failures_csv(failures: list[Failure], n: int) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        ["exercise", "check", "hidden", "failed", "not_implemented", "submissions", "example"]
    )
    for f in failures:
        w.writerow(
            [
                cell_text(f.exercise),
                cell_text(f.check),
                f.hidden,
                f.count,
                f.not_implemented,
                n,
                cell_text(f.example),
            ]
        )
    return buf.getvalue()


def _num(x: float) -> str:
    return f"{round(float(x), 4):g}"


def canvas_gradebook(
    reports: list[dict],
    title: str,
    canvas_id: str | int | None = None,
    roster: Path | None = None,
) -> str:
    """A CSV for Canvas's Grades → Import: the five identity columns, then one assignment column.

    Canvas's export (which its import reads back) names an assignment column `Title (ID)`, with
    Canvas's numeric assignment id; a column without an id makes the import create a new
    assignment of that name. The second row holds each column's points possible. Students are
    matched on ID, SIS User ID or SIS Login ID: with no roster, the submission name goes into
    Student and SIS Login ID (name submissions by login for this to match). With `roster`, a
    gradebook CSV exported from the course, each submission name is looked up in its ID, SIS User
    ID, SIS Login ID and Student columns (case-insensitive) and the student's row is filled from
    it; names not found keep the fallback. Reports the grader failed on get a blank cell.
    """
    column = f"{title} ({canvas_id})" if canvas_id not in (None, "") else title
    people = _read_roster(roster) if roster else {}
    max_score = max((r.get("max_score", 0) for r in graded(reports)), default=0)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*CANVAS_COLUMNS, column])
    w.writerow([POINTS_ROW, "", "", "", "", _num(max_score)])
    for r in reports:
        name = str(r.get("submission", ""))
        who = people.get(name.casefold()) or {"Student": name, "SIS Login ID": name}
        score = "" if r.get("meta", {}).get("grader_error") else _num(r.get("score", 0))
        w.writerow([cell_text(who.get(k, "")) for k in CANVAS_COLUMNS] + [score])
    return buf.getvalue()


def _read_roster(path: Path) -> dict[str, dict]:
    "Canvas export rows keyed by every identity they carry (casefolded)."
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    people = {}
    for row in rows:
        if (row.get("Student") or "").strip() == POINTS_ROW.strip():
            continue
        for k in ("Student", "SIS Login ID", "SIS User ID", "ID"):  # later keys win on clashes
            v = (row.get(k) or "").strip()
            if v:
                people[v.casefold()] = {c: (row.get(c) or "").strip() for c in CANVAS_COLUMNS}
    return people


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    return buf.getvalue()


def histogram_png(reports: list[dict], title: str) -> bytes:
    "The score distribution, with the mean and median marked."
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend
    from matplotlib.ticker import MaxNLocator

    scores = [float(r.get("score", 0)) for r in reports]
    top = max([float(r.get("max_score", 0)) for r in reports] + [1.0])
    width = max(1, math.ceil(top / 25))
    edges = [i * width for i in range(math.ceil(top / width) + 1)]
    if edges[-1] < top:
        edges.append(edges[-1] + width)
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.hist(scores, bins=edges, color="#4C72B0", edgecolor="white")
    if scores:
        ax.axvline(statistics.mean(scores), color="#C44E52", ls="--", label="mean")
        ax.axvline(statistics.median(scores), color="#55A868", ls=":", label="median")
        ax.legend(loc="upper center")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, edges[-1])
    ax.set_xlabel(f"score (out of {_num(top)})")
    ax.set_ylabel("submissions")
    ax.set_title(f"{title}: score distribution (n = {len(scores)})")
    return _png(fig)


def pass_rates_png(rates: dict[str, float], title: str) -> bytes:
    "Horizontal bars: the fraction of submissions with full marks, per exercise, in order."
    from matplotlib.figure import Figure

    ids = list(rates)
    fig = Figure(figsize=(7, 0.9 + 0.32 * max(len(ids), 1)), layout="constrained")
    ax = fig.add_subplot()
    ax.barh(range(len(ids)), [rates[i] for i in ids], color="#4C72B0")
    for y, gid in enumerate(ids):
        ax.text(min(rates[gid] + 0.01, 0.9), y, f"{rates[gid]:.0%}", va="center", fontsize=8)
    ax.set_yticks(range(len(ids)), ids)
    ax.invert_yaxis()  # the notebook's first exercise on top
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel("submissions with full marks")
    ax.set_title(f"{title}: full marks per exercise")
    return _png(fig)


def _md(text: str) -> str:
    "Student text safe inside a Markdown table cell: no links, images, HTML or cell breaks."
    return md(text)


def _code(text: str) -> str:
    "A name as inline code in a table cell, which its text cannot close."
    return md_code(text, table=True)


def summary_md(
    reports: list[dict], ok: list[dict], rates: dict[str, float], failures: list[Failure], top: int
) -> str:
    scores = [float(r.get("score", 0)) for r in ok]
    max_score = max((float(r.get("max_score", 0)) for r in ok), default=0.0)
    lines = [f"# Class summary: {len(ok)} graded submission(s)", ""]
    if scores:
        lines += [
            f"Scores out of {_num(max_score)}: mean {statistics.mean(scores):.2f}, median "
            f"{_num(statistics.median(scores))}, min {_num(min(scores))}, max {_num(max(scores))}; "
            f"{sum(s >= max_score for s in scores)} with full marks.",
            "",
            "![score distribution](histogram.png)",
            "",
            "## Exercises",
            "",
            "| exercise | points | mean | full marks |",
            "|---|---:|---:|---:|",
        ]
        for gid in exercise_ids(ok):
            ex = [r["exercises"][gid] for r in ok if gid in r["exercises"]]
            mx = max(e.get("max_score", 0) for e in ex)
            mean = statistics.mean(e.get("score", 0) for e in ex)
            rate = f"{rates[gid]:.0%}" if gid in rates else "–"
            lines.append(f"| {_code(gid)} | {_num(mx)} | {mean:.2f} | {rate} |")
        lines += ["", "![full marks per exercise](pass_rates.png)", ""]
    lines += [f"## Most common failing checks (top {top}; all in common_failures.csv)", ""]
    if failures:
        lines += [
            "| exercise · check | failed | of which not implemented | example message |",
            "|---|---:|---:|---|",
        ]
        for f in failures[:top]:
            tag = " (hidden)" if f.hidden else ""
            lines.append(
                f"| {_code(f.exercise)} · {_code(f.check)}{tag} | {f.count} | {f.not_implemented} "
                f"| {_md(f.example)} |"
            )
    else:
        lines.append("No failing checks.")
    broken = [r for r in reports if r.get("meta", {}).get("grader_error")]
    if broken:
        lines += ["", "## The grader failed on these (regrade them with `--force`)", ""]
        lines += [
            f"- {md_code(r.get('submission'))}: {_md(str(r['meta']['grader_error'])[:300])}"
            for r in broken
        ]
    return "\n".join(lines) + "\n"


def write_summary(
    out: Path,
    dest: Path | None = None,
    *,
    title: str | None = None,
    canvas_id: str | int | None = None,
    roster: Path | None = None,
    top: int = 15,
) -> list[Path]:
    """Write the class summary for the reports under out (into dest, default out itself).

    title names the assignment in plots and the gradebook column (default: the registered
    assignment whose exercises the reports hold, e.g. "Minibatch"); canvas_id and roster go to
    `canvas_gradebook`. Returns the paths written.
    """
    out = Path(out)
    dest = Path(dest) if dest else out
    reports = load_reports(out)
    if not reports:
        raise FileNotFoundError(f"no */report.json under {out}: grade into it first")
    ok = graded(reports)
    title = title or _title(reports)
    rates = pass_rates(ok)
    failures = common_failures(ok)
    paths = {
        "histogram.png": histogram_png(ok, title),
        "pass_rates.png": pass_rates_png(rates, title),
    }
    written = []
    for name, data in paths.items():
        atomic_write(dest / name, data)
        written.append(dest / name)
    texts = {
        "common_failures.csv": failures_csv(failures, len(ok)),
        "gradebook.csv": canvas_gradebook(reports, title, canvas_id, roster),
        "summary.md": summary_md(reports, ok, rates, failures, top),
    }
    for name, text in texts.items():
        atomic_write(dest / name, text)
        written.append(dest / name)
    return written


def _title(reports: list[dict]) -> str:
    "The registered assignment whose exercises the reports hold, as a title."
    from autograder import assignment

    ids = set(exercise_ids(reports))
    for a in assignment.ASSIGNMENTS.values():
        if set(a.ids) <= ids:
            return a.name.replace("_", " ").title()
    return "Assignment"
