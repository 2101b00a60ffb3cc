"""Writers: one Report in, the files platforms read out (report.json, Gradescope, JUnit, CSV).

Every file is written atomically (a temporary file, then a rename), so an interrupted batch never
leaves half a report behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from autograder.escape import csv_cell, xml_text
from autograder.model import Report


def _umask() -> int:
    "This process's umask, read without changing it where Linux says it (/proc), else set back."
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, text: str | bytes) -> None:
    """Write a whole file or nothing: a temporary file beside it, then a rename. The file gets
    the mode a plain open() would give it (0644 under the usual umask), not mkstemp's 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    data = text.encode("utf-8", errors="replace") if isinstance(text, str) else text
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


cell_text = csv_cell  # the escaping lives in autograder.escape; these names stay importable here


def report_json(r: Report) -> str:
    "Our stable format: submission, score, max_score, exercises → checks."
    return json.dumps(r.to_dict(), indent=2, default=str) + "\n"


def gradescope_json(r: Report) -> str:
    "Gradescope's results.json: one test per check; hidden checks show after grades are published."
    tests = []
    for gid, e in r.exercises.items():
        for c in e.checks:
            tests.append(
                {
                    "name": f"{gid}: {c.name}",
                    "score": c.score,
                    "max_score": c.max_score,
                    "status": "passed" if c.passed else "failed",
                    "output": c.message,
                    "visibility": "after_published" if c.hidden else "visible",
                    "tags": [gid],
                }
            )
    out = {
        "score": r.score,
        # the notes first (an edited locked cell, a duplicated cell): Gradescope shows this on top
        "output": "\n".join(
            [f"{r.submission}: {r.score:g} / {r.max_score:g} points"]
            + [f"Note: {n}" for n in r.meta.get("notes", []) if isinstance(n, str)]
        ),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "execution_time": r.meta.get("seconds"),
        "tests": tests,
    }
    return json.dumps(out, indent=2) + "\n"


def junit_xml(r: Report) -> str:
    "JUnit XML: a testcase per check, points and visibility as properties."
    checks = [(gid, c) for gid, e in r.exercises.items() for c in e.checks]
    suite = ET.Element(
        "testsuite",
        name=xml_text(r.submission),
        tests=str(len(checks)),
        failures=str(sum(not c.passed for _, c in checks)),
        errors="0",
        time=str(r.meta.get("seconds", 0)),
    )
    for gid, c in checks:
        case = ET.SubElement(
            suite, "testcase", classname=xml_text(gid), name=xml_text(c.name), time="0"
        )
        props = ET.SubElement(case, "properties")
        for k, v in [("score", c.score), ("max_score", c.max_score), ("hidden", c.hidden)]:
            ET.SubElement(props, "property", name=k, value=str(v))
        if not c.passed:
            msg = xml_text(c.message)  # ElementTree escapes markup; this drops what XML forbids
            ET.SubElement(case, "failure", message=msg.split("\n")[0][:300]).text = msg
    root = ET.Element("testsuites", name="autograder")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def grades_csv(reports: list[dict]) -> str:
    "A row per submission, a column per exercise; reads report.json dicts so shards can merge."
    ids = list(dict.fromkeys(i for r in reports for i in r["exercises"]))
    # a folder of mixed assignments says which each row is (one assignment: the usual columns)
    kinds = {(r.get("meta") or {}).get("assignment") for r in reports}
    mixed = len(kinds) > 1
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    head = ["submission", *(["assignment"] if mixed else []), "score", "max_score"]
    w.writerow([*head, *map(csv_cell, ids)])
    for r in sorted(reports, key=lambda r: r["submission"]):
        kind = [csv_cell(str((r.get("meta") or {}).get("assignment")))] if mixed else []
        w.writerow(
            [
                cell_text(r["submission"]),
                *kind,
                r["score"],
                r["max_score"],
                *[r["exercises"].get(i, {}).get("score", 0) for i in ids],
            ]
        )
    return buf.getvalue()


def write_all(r: Report, folder: Path) -> None:
    "A submission's three files; report.json last, since its presence marks the work done."
    atomic_write(folder / "results.json", gradescope_json(r))
    atomic_write(folder / "junit.xml", junit_xml(r))
    atomic_write(folder / "report.json", report_json(r))


def table(r: Report, hidden: bool = True) -> str:
    "The per-exercise table a student sees in the terminal."
    lines = [f"{'exercise':24} {'score':>11}  status"]
    for gid, e in r.exercises.items():
        if not e.checks:
            continue
        failed = [c for c in e.checks if not c.passed and (hidden or not c.hidden)]
        status = "ok" if not failed else f"{len(failed)} check(s) failing"
        lines.append(f"{gid:24} {e.score:>5g} / {e.max_score:<4g} {status}")
    lines.append(f"{'total':24} {r.score:>5g} / {r.max_score:<4g}")
    return "\n".join(lines)


def failures(r: Report) -> str:
    "Every failing check's message, grouped by exercise."
    out = []
    for gid, e in r.exercises.items():
        for c in e.checks:
            if not c.passed:
                body = c.message.replace("\n", "\n      ")
                out.append(f"✗ {gid} · {c.name}\n      {body}")
    return "\n".join(out)
