"""Post-grading feedback: feedback.md, a self-contained feedback.html, and curve.png (a training
run's validation curves beside the reference's, when a test recorded them: `record("training",
{...})`, see `training_of`). Hidden checks' messages are shown, marked.

Report strings may come from student code: the HTML escapes all of them, and its
Content-Security-Policy forbids scripts and outside resources should an escape ever be missed.
"""

from __future__ import annotations

import base64
import html as H
import io
import math
import re
from pathlib import Path

from autograder.escape import md
from autograder.model import CheckResult, ExerciseResult, Report
from autograder.report import atomic_write


def training_of(r: Report) -> dict:
    """What the report's training run recorded (meta["training"]), with defaults: title, metric,
    value, threshold, higher_is_better, curve (the names of the two numbers per epoch in
    history), history and reference (per epoch, [a, b]); {} without one."""
    t = r.meta.get("training")
    if not isinstance(t, dict):
        return {}
    curve = t.get("curve")
    ok = isinstance(curve, list) and len(curve) == 2 and all(isinstance(c, str) for c in curve)
    return {
        "title": str(t.get("title") or "Training run"),
        "metric": str(t.get("metric") or "score"),
        "value": t.get("value", t.get("test_accuracy")),
        "threshold": t.get("threshold"),
        "higher_is_better": t.get("higher_is_better", True) is not False,
        "curve": curve if ok else ["validation loss", "validation accuracy"],
        "history": t.get("history") or [],
        "reference": t.get("reference") or [],
    }


def warm_up():
    "Import what the pages are drawn with (a third of a second), once for a whole batch."
    import matplotlib.figure  # noqa: F401
    import matplotlib.ticker  # noqa: F401


def curve_png(
    history, reference=None, threshold: float | None = None, names=None, title="Training run"
) -> bytes | None:
    """Two numbers per epoch (validation loss and accuracy, by default), yours beside the
    reference's; the threshold on the second; None without a run."""
    if not history:
        return None
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend to pick
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(10, 4), dpi=100, layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    for i, ax in enumerate((loss_ax, acc_ax)):
        for pts, label, color, mark in [
            (reference, "reference", "#8c959f", "s"),
            (history, "your pipeline", "#0969da", "o"),
        ]:
            # a diverged run reports inf or nan: leave a gap rather than break the axis limits
            y = [_num(p[i]) for p in pts or []]
            if y:
                ax.plot(range(1, len(y) + 1), y, color=color, marker=mark, lw=2, label=label)
    if threshold is not None:
        acc_ax.axhline(threshold, color="#cf222e", ls="--", label=f"threshold {threshold:g}")
    names = names or ["validation loss", "validation accuracy"]
    for ax, name in zip((loss_ax, acc_ax), names):
        ax.set(title=name.capitalize(), xlabel="epoch", ylabel=name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{title}: yours and the reference, measured after each epoch")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})  # no version stamp: stable bytes
    return buf.getvalue()


PUBLIC_ONLY = (
    "Public checks only: the hidden checks are graded later, so this is not the final score."
)


def _public_only(r: Report) -> list[str]:
    "The note a report without hidden checks carries (check, or grade in the student bundle)."
    return [PUBLIC_ONLY] if r.meta.get("hidden") is False else []


def _num(v) -> float:
    "A curve's point: nan (a gap) where the run reported none or diverged."
    return float(v) if type(v) in (int, float) and math.isfinite(v) else math.nan


def _failing(e: ExerciseResult) -> list[CheckResult]:
    return [c for c in e.checks if not c.passed]


def _status(e: ExerciseResult) -> str:
    "passed, not run, or how many checks fail (and how many of those are hidden)."
    if not e.checks:
        return "not run"
    bad = _failing(e)
    hidden = sum(c.hidden for c in bad)
    return f"{len(bad)} failing" + (f" ({hidden} hidden)" if hidden else "") if bad else "passed"


def _training(r: Report, runs: list[str]) -> str:
    "One line on the training run: its metric against the threshold, or why there is none."
    t = training_of(r)
    if all(type(t.get(k)) in (int, float) for k in ("value", "threshold")):
        v, thr, up = t["value"], t["threshold"], t["higher_is_better"]
        ok = v >= thr if up else v <= thr
        verdict = "reaches the threshold" if ok else "misses the threshold"
        return f"{t['metric'].capitalize()} {v:.4f} {verdict} {thr:g}."
    e = next((r.exercises[g] for g in runs if g in r.exercises), None)
    if e is None or not e.checks:
        return "The training run was not part of this grading."
    why = (e.checks[0].message or "no reason given").split("\n")[0][:300]
    return f"The training run did not finish, so there is no curve: {why}"


def _runs(r: Report) -> list[str]:
    "The report's exercises that are runs (no cell of their own), by its assignment."
    from autograder import assignment

    try:
        return [x.grade_id for x in assignment.get(r.meta.get("assignment")).runs]
    except assignment.AssignmentError:
        return []


def _md(s: str) -> str:
    "Text Markdown shows as written, on one line: no links, images, HTML, emphasis, table breaks."
    return md(s)


def _fence(text: str) -> str:
    "A code block longer than any run of backticks inside, so a message cannot close it."
    n = max([3, *(len(m) + 1 for m in re.findall(r"`+", text))])
    return f"{'`' * n}text\n{text}\n{'`' * n}"


AGAIN = "autograder grade NOTEBOOK --out DIR --seed "


def markdown(report: Report, curve: bytes | None = None) -> str:
    "The feedback as Markdown: scores, every failing check, the training run and the seed."
    r, seed = report, report.meta.get("seed", "?")
    out = [f"# Feedback: {_md(r.submission)}", "", f"**Score: {r.score:g} / {r.max_score:g}**", ""]
    if notes := [*r.meta.get("notes", []), *_public_only(r)]:  # first: they change everything
        out += ["## Notes", "", *(f"- {_md(n)}" for n in notes), ""]
    out += ["| exercise | score | max | status |", "| --- | ---: | ---: | --- |"]
    for gid, e in r.exercises.items():
        out.append(f"| {gid} | {e.score:g} | {e.max_score:g} | {_status(e)} |")
    out += [f"| **total** | **{r.score:g}** | **{r.max_score:g}** | |", ""]
    runs = _runs(r)
    if runs or training_of(r):
        out += [f"## {_md(training_of(r).get('title') or 'Training run')}", ""]
        out.append(_md(_training(r, runs)))
    if curve:
        out += [
            "",
            "![Validation loss and accuracy per epoch, yours and the reference's](curve.png)",
        ]
    failing = [(gid, c) for gid, e in r.exercises.items() for c in _failing(e)]
    out += ["", "## Failing checks", ""] + ([] if failing else ["None: every check passed.", ""])
    for gid, c in failing:
        tag = " (hidden check)" if c.hidden else ""
        out += [f"### {gid} · {c.name}{tag}", "", _fence(c.message or "(no message)"), ""]
    again = f"Graded with seed {seed}; `{AGAIN}{seed}` runs the same checks."
    out += ["## Reproduce", "", again, ""]
    return "\n".join(out)


CSS = """
body{font:15px/1.45 system-ui,sans-serif;color:#1f2328;max-width:1100px;margin:0 auto;padding:24px}
header{display:flex;justify-content:space-between;align-items:baseline;border-bottom:2px solid #ccc}
.total{font-size:28px;font-weight:700} img{max-width:100%;height:auto} li{margin:6px 0}
table{border-collapse:collapse;width:100%}
th,td{padding:6px 10px;border-bottom:1px solid #d0d7de;text-align:left}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.bar{background:#eaeef2;border-radius:4px;height:12px;width:220px;overflow:hidden}
.bar span{display:block;height:12px;background:#1a7f37} tr.fail .bar span{background:#d1242f}
tr.fail .st,.bad{color:#d1242f;font-weight:600} tr.pass .st,.ok{color:#1a7f37}
details{border:1px solid #d0d7de;border-radius:6px;margin:8px 0;padding:6px 12px}
summary{cursor:pointer;font-weight:600} ul{list-style:none;padding-left:8px} tr.none .st{color:#666}
.tag{font-size:12px;background:#fff8c5;border:1px solid #d4a72c;border-radius:10px;padding:0 6px}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:8px;white-space:pre-wrap}
footer{margin-top:24px;color:#666;font-size:13px;border-top:1px solid #d0d7de;padding-top:8px}
"""
# nothing outside the page may load, and no script may run even if escaping were ever missed
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _check_html(c: CheckResult) -> str:
    mark = '<span class="ok">✓</span>' if c.passed else '<span class="bad">✗</span>'
    tag = ' <span class="tag">hidden</span>' if c.hidden else ""
    msg = f"<pre>{H.escape(c.message)}</pre>" if c.message and not c.passed else ""
    return f"<li>{mark} {H.escape(c.name)}{tag} · {c.score:g} / {c.max_score:g}{msg}</li>"


def html(report: Report, curve: bytes | None = None) -> str:
    "The feedback as one HTML page with everything inline: no network, no scripts."
    r, e, m = report, H.escape, report.meta
    rows, details = [], []
    for gid, ex in r.exercises.items():
        cls = "none" if not ex.checks else "fail" if _failing(ex) else "pass"
        width = 100 * ex.score / ex.max_score if ex.max_score else 0
        rows.append(
            f'<tr class="{cls}"><td>{e(gid)}</td><td><div class="bar"><span style="width:'
            f'{width:.0f}%"></span></div></td><td class="num">{ex.score:g} / {ex.max_score:g}'
            f'</td><td class="st">{e(_status(ex))}</td></tr>'
        )
        if ex.checks:
            checks = "".join(_check_html(c) for c in ex.checks)
            details.append(
                f"<details{' open' if _failing(ex) else ''}><summary>{e(gid)} · {ex.score:g} / "
                f"{ex.max_score:g} · {e(_status(ex))}</summary><ul>{checks}</ul></details>"
            )
    src = "data:image/png;base64," + base64.b64encode(curve or b"").decode("ascii")
    alt = "Validation loss and accuracy per epoch, yours and the reference&#x27;s"
    fig = f'<figure><img src="{src}" alt="{alt}"></figure>' if curve else ""
    seed = e(str(m.get("seed", "?")))
    notes = "".join(f"<li>{e(str(n))}</li>" for n in [*m.get("notes", []), *_public_only(r)])
    title = f"Feedback: {r.submission} — {r.score:g} / {r.max_score:g}"
    runs, t = _runs(r), training_of(r)
    run = (
        f"<h2>{e(t.get('title') or 'Training run')}</h2><p>{e(_training(r, runs))}</p>"
        if runs or t
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title><style>{CSS}</style></head><body>
<header><h1>Feedback: {e(r.submission)}</h1>
<div class="total">{r.score:g} / {r.max_score:g}</div></header>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<table><thead><tr><th>exercise</th><th></th><th class="num">score</th><th>status</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
{run}{fig}
<h2>Checks</h2>{"".join(details)}
<footer>seed {seed} · isolation {e(str(m.get("isolation", "?")))} · graded in
{e(str(m.get("seconds", "?")))} s · the same checks again: <code>{AGAIN}{seed}</code></footer>
</body></html>
"""


def write_feedback(report: Report, folder: Path, reference: list | None = None) -> list[Path]:
    "Write feedback.html, feedback.md and (when a training run gave a curve) curve.png."
    folder = Path(folder)
    t = training_of(report)
    curve = curve_png(
        t.get("history"),
        reference if reference is not None else t.get("reference"),
        t.get("threshold"),
        t.get("curve"),
        t.get("title", "Training run"),
    )
    png = folder / "curve.png"
    paths = [folder / "feedback.html", folder / "feedback.md"]
    if curve:
        atomic_write(png, curve)
        paths.append(png)
    else:
        png.unlink(missing_ok=True)  # a curve from an earlier grading would not be this one's
    atomic_write(paths[1], markdown(report, curve))
    atomic_write(paths[0], html(report, curve))
    return paths
