#!/usr/bin/env python3
"""Render autograder reports as Markdown for a CI job summary, and the `Points X/Y` line.

    ci-summary.py FOLDER... [--title T] [--summary FILE] [--output FILE] [--points]
                  [--expect N] [--details N] [--show-hidden]

Each FOLDER is one that `autograder grade --out` wrote (its `*/report.json`, one per submission),
or a single submission's folder (`report.json` in it). Shard folders can be given together: the
summary covers every report found, as `autograder merge` does.

What it writes:
  --summary FILE  the Markdown (GitHub: "$GITHUB_STEP_SUMMARY"); without it, to stdout
  --output FILE   step outputs (GitHub: "$GITHUB_OUTPUT"): points=X/Y, score, max_score,
                  submissions, and result=<base64 JSON> in the format GitHub Classroom's
                  autograding-grading-reporter reads (one test per exercise)
  --points        print `Points X/Y` (the total over all reports) on stdout, for GitHub Classroom

Student code can influence check messages, and file names become submission names, so every such
string is escaped for where it lands: HTML-escaped inside <pre>; elsewhere also Markdown's link,
image, code and emphasis characters as character references (GitHub renders Markdown inside
<code> and <b>); inline code spans get a fence the text cannot close. Names and messages of hidden
checks are left out unless --show-hidden (instructors only).

Exit status: 0; 1 when no report was found, when --expect N does not match the number of
submissions, or when two reports carry the same submission name (their rows would be ambiguous).
Standard library only: it runs with any Python >= 3.9, with or without the kit installed.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import statistics
import sys
from pathlib import Path

MAX_MESSAGE = 600  # characters of one check message shown
MAX_FAILURES = 25  # failing checks listed per submission
MAX_ROWS = 2000  # submissions listed in a class table (a job summary holds at most 1 MiB)


def num(x) -> str:
    "A score as people write it: 3, 2.5, 0.3333."
    return f"{round(float(x), 4):g}"


def esc(s) -> str:
    "HTML-escaped, and no line can start a runner command (`::warning::...`) if it is printed."
    return html.escape(str(s), quote=False).replace("::", ":&#58;")


MD_SPECIAL = re.compile(r"[\\`*\[\]!~|]")  # what can make a link, image, code span or cell break


def cell(s) -> str:
    """Text that stays inside one Markdown table cell, or inside <code> or <b> in Markdown (which
    GitHub still renders): no HTML, links, images, code spans; the same as autograder.escape."""
    text = esc(" ".join(str(s).split()))
    return MD_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", text)


def code(s) -> str:
    "A name as an inline code span in a table cell: the fence is longer than any backtick run."
    text = " ".join(str(s).split()).replace("::", ": :").replace("|", "\\|")
    n = max([1, *(len(m) + 1 for m in re.findall(r"`+", text))])
    if text.startswith("`") or text.endswith("`") or not text:
        text = f" {text} "
    return f"{'`' * n}{text}{'`' * n}"


def find_reports(folders: list[Path]) -> list[tuple[Path, dict]]:
    "Every report.json in the folders (or the folder's own), parsed, in a stable order."
    seen, out = set(), []
    for f in folders:
        paths = [f / "report.json"] if (f / "report.json").is_file() else []
        paths += sorted(f.glob("*/report.json"))
        for p in paths:
            key = p.resolve()
            if key in seen:
                continue
            seen.add(key)
            try:
                out.append((p, json.loads(p.read_text(encoding="utf-8"))))
            except (OSError, ValueError) as e:
                print(f"warning: cannot read {p}: {e}", file=sys.stderr)
    return out


def totals(reports: list[dict]) -> tuple[float, float]:
    return (
        round(sum(float(r.get("score", 0)) for r in reports), 4),
        round(sum(float(r.get("max_score", 0)) for r in reports), 4),
    )


def exercise_rows(r: dict) -> list[str]:
    "The per-exercise table of one submission."
    rows = ["| Exercise | Score | Max | Status |", "| --- | ---: | ---: | --- |"]
    for gid, e in r.get("exercises", {}).items():
        checks = e.get("checks", [])
        if not checks and not e.get("max_score"):
            continue  # not graded in this run (e.g. the MNIST run with --no-training)
        failing = [c for c in checks if not c.get("passed")]
        if not failing:
            status = "✅ all checks pass"
        else:
            public = [c for c in failing if not c.get("hidden")]
            hidden = len(failing) - len(public)
            parts = [code(c.get("name", "?")) for c in public[:6]]
            if len(public) > 6:
                parts.append(f"{len(public) - 6} more")
            if hidden:
                parts.append(f"{hidden} hidden")
            status = f"❌ failing: {', '.join(parts)}"
        rows.append(
            f"| {cell(gid)} | {num(e.get('score', 0))} | {num(e.get('max_score', 0))} | {status} |"
        )
    rows.append(
        f"| **total** | **{num(r.get('score', 0))}** | **{num(r.get('max_score', 0))}** | |"
    )
    return rows


def failure_details(r: dict, show_hidden: bool) -> list[str]:
    "What the failing checks said, folded away; hidden ones only when asked."
    failing = [
        (gid, c)
        for gid, e in r.get("exercises", {}).items()
        for c in e.get("checks", [])
        if not c.get("passed") and (show_hidden or not c.get("hidden"))
    ]
    if not failing:
        return []
    out = ["", "<details><summary>What the failing checks said</summary>", ""]
    for gid, c in failing[:MAX_FAILURES]:
        msg = str(c.get("message", "")).strip() or "(no message)"
        if len(msg) > MAX_MESSAGE:
            msg = msg[:MAX_MESSAGE] + " …"
        tag = " (hidden)" if c.get("hidden") else ""
        out += [
            f"<b>{cell(gid)} · {cell(c.get('name', '?'))}</b>{tag}",
            f"<pre>{esc(msg)}</pre>",
        ]
    if len(failing) > MAX_FAILURES:
        out.append(f"<p>… and {len(failing) - MAX_FAILURES} more.</p>")
    out += ["", "</details>"]
    return out


def problems(r: dict) -> list[str]:
    "What went wrong outside the checks: the grader itself, or cells that raised."
    meta = r.get("meta") or {}
    out = []
    if meta.get("grader_error"):
        out.append(
            "> [!CAUTION]\n> The grader itself failed on this submission (not the student's "
            f"fault): <code>{cell(str(meta['grader_error'])[:300])}</code>"
        )
    for gid, err in list((meta.get("cell_errors") or {}).items())[:10]:
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else "error"
        out.append(f"- cell {code(gid)} raised: <code>{cell(first)}</code>")
    return out


def submission_section(r: dict, show_hidden: bool, heading: bool) -> list[str]:
    meta = r.get("meta") or {}
    out = []
    if heading:
        out += [f"### {cell(r.get('submission', '?'))}: {num(r['score'])} / {num(r['max_score'])}"]
    facts = [f"{k} {cell(meta[k])}" for k in ("seed", "isolation") if meta.get(k) is not None]
    if meta.get("seconds") is not None:
        facts.append(f"{num(meta['seconds'])} s")
    if facts:
        out += ["", " · ".join(facts)]
    out += ["", *exercise_rows(r)]
    if p := problems(r):
        out += ["", *p]
    out += failure_details(r, show_hidden)
    return out


def class_section(reports: list[dict]) -> list[str]:
    "A table of submissions, then per-exercise averages."
    scores = [float(r.get("score", 0)) for r in reports]
    full = sum(1 for r in reports if float(r.get("score", 0)) >= float(r.get("max_score", 0)) > 0)
    zero = sum(1 for s in scores if s == 0)
    out = [
        f"{len(reports)} submissions · mean {num(statistics.mean(scores))} · "
        f"median {num(statistics.median(scores))} · min {num(min(scores))} · "
        f"max {num(max(scores))} · full marks {full} · zero {zero}",
        "",
        "| Submission | Score | Max | % | Notes |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for r in sorted(reports, key=lambda r: str(r.get("submission", "")))[:MAX_ROWS]:
        mx = float(r.get("max_score", 0))
        pct = f"{100 * float(r.get('score', 0)) / mx:.0f}" if mx else "–"
        meta = r.get("meta") or {}
        notes = []
        if meta.get("grader_error"):
            notes.append("⚠️ grader failed")
        if meta.get("cell_errors"):
            notes.append(f"{len(meta['cell_errors'])} cell(s) raised")
        out.append(
            f"| {cell(r.get('submission', '?'))} | {num(r.get('score', 0))} | {num(mx)} "
            f"| {pct} | {', '.join(notes)} |"
        )
    if len(reports) > MAX_ROWS:
        out.append(f"\n… {len(reports) - MAX_ROWS} more in grades.csv.")
    ids = list(reports[0].get("exercises", {}))
    out += ["", "| Exercise | Mean | Max | Full marks |", "| --- | ---: | ---: | ---: |"]
    for gid in ids:
        es = [r.get("exercises", {}).get(gid, {}) for r in reports]
        mx = max(float(e.get("max_score", 0)) for e in es)
        if not mx:
            continue
        mean = statistics.mean(float(e.get("score", 0)) for e in es)
        got = sum(1 for e in es if float(e.get("score", 0)) >= mx)
        out.append(f"| {cell(gid)} | {num(mean)} | {num(mx)} | {got} / {len(es)} |")
    return out


def classroom_result(reports: list[dict]) -> str:
    "GitHub Classroom's runner result: base64 JSON, one test per exercise (and submission)."
    tests = []
    for r in reports:
        prefix = f"{r.get('submission')}: " if len(reports) > 1 else ""
        for gid, e in r.get("exercises", {}).items():
            if not e.get("max_score"):
                continue
            full = float(e.get("score", 0)) >= float(e["max_score"])
            failing = sum(1 for c in e.get("checks", []) if not c.get("passed"))
            tests.append(
                {
                    "name": f"{prefix}{gid}",
                    "status": "pass" if full else "fail",
                    "score": float(e.get("score", 0)),
                    "message": "" if full else f"{failing} check(s) failing",
                    "line_no": 0,
                    "execution_time": "",
                }
            )
    score, max_score = totals(reports)
    result = {
        "version": 1,
        "status": "pass" if score >= max_score else "fail",
        "max_score": max_score,
        "tests": tests,
    }
    return base64.b64encode(json.dumps(result).encode()).decode()


def render(found: list[tuple[Path, dict]], args) -> tuple[str, list[str]]:
    "The Markdown, and the errors that make the exit status 1."
    reports = [r for _, r in found]
    errors = []
    title = args.title or "Autograder"
    if not reports:
        errors.append(f"no report.json found under {', '.join(map(str, args.folders))}")
        return f"## {cell(title)}\n\n❌ {cell(errors[0])}\n", errors
    score, max_score = totals(reports)
    lines = [f"## {cell(title)}", "", f"**Points {num(score)}/{num(max_score)}**"]
    names = [str(r.get("submission")) for r in reports]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        errors.append(
            f"{len(dupes)} submission name(s) appear more than once: {', '.join(dupes[:10])}"
        )
    if args.expect is not None and len(reports) != args.expect:
        errors.append(f"expected {args.expect} submissions, found {len(reports)} reports")
    failed = [n for n, r in zip(names, reports) if (r.get("meta") or {}).get("grader_error")]
    if failed:
        note = f"the grader failed on {len(failed)} submission(s): {', '.join(failed[:10])}"
        lines += ["", f"> [!WARNING]\n> {cell(note)}; regrade them with `--force`"]
    for e in errors:
        lines += ["", f"> [!CAUTION]\n> {cell(e)}"]
    if len(reports) == 1:
        lines += submission_section(reports[0], args.show_hidden, heading=False)
    else:
        lines += ["", *class_section(reports)]
        for r in reports[: args.details]:
            lines += ["", *submission_section(r, args.show_hidden, heading=True)]
    return "\n".join(lines) + "\n", errors


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="+", type=Path)
    p.add_argument("--title")
    p.add_argument("--summary", type=Path, help="append the Markdown here (default: stdout)")
    p.add_argument("--output", type=Path, help="append step outputs here ($GITHUB_OUTPUT)")
    p.add_argument("--points", action="store_true", help="print `Points X/Y` on stdout")
    p.add_argument("--expect", type=int, help="fail unless exactly this many submissions")
    p.add_argument("--details", type=int, default=10, help="per-submission sections (several)")
    p.add_argument("--show-hidden", action="store_true", help="name hidden checks (instructors)")
    args = p.parse_args(argv)

    found = find_reports(args.folders)
    markdown, errors = render(found, args)
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as f:
            f.write(markdown)
    else:
        sys.stdout.write(markdown)
    reports = [r for _, r in found]
    score, max_score = totals(reports)
    if args.output and reports:
        with open(args.output, "a", encoding="utf-8") as f:
            f.write(f"points={num(score)}/{num(max_score)}\n")
            f.write(f"score={num(score)}\nmax_score={num(max_score)}\n")
            f.write(f"submissions={len(reports)}\n")
            f.write(f"result={classroom_result(reports)}\n")
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    if args.points and reports:
        print(f"Points {num(score)}/{num(max_score)}", flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
