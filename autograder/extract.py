"""Read a submitted notebook and pull out what the grader runs: the setup cell and exercise cells.

Cells are found by nbgrader grade_id, wherever they were moved. Locked cells (the setup) come from
our released notebook, not the student's copy, as nbgrader's OverwriteCells does. Magics and shell
escapes are not run. Nothing here executes student code; a broken file becomes a clear problem.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from autograder import hints, parsing
from autograder.assignment import Assignment

MAX_NOTEBOOK_BYTES = 20 * 2**20
# characters one exercise cell may hold: far above any honest answer (the solutions' longest is
# under 3,000), and within what one message to the worker carries whole (protocol.MAX_STR)
MAX_CELL_CHARS = 100_000
MAGIC = re.compile(r"^(\s*)([%!].*)$")
MAGIC_ASSIGN = re.compile(r"^(\s*[A-Za-z_][\w, ]*=\s*)([%!].*)$")  # x = !ls, t = %timeit f()


@dataclass
class Submission:
    "What the grader runs for one notebook, and what it could not take from it."

    name: str
    setup: str
    cells: dict[str, str] = field(default_factory=dict)
    cell_problems: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    outside: set[str] = field(default_factory=set)  # names bound by cells that are not graded
    error: str | None = None  # set when the notebook as a whole could not be read


def grade_id(cell) -> str | None:
    "The nbgrader grade_id of a cell, tolerating hand-edited metadata of any shape."
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    gid = nbg.get("grade_id") if isinstance(nbg, dict) else None
    return gid if isinstance(gid, str) else None


def strip_magics(source: str) -> tuple[str, list[str]]:
    "Replace IPython magics and shell escapes with `pass`; a cell magic makes the cell unusable."
    try:
        parsing.parse(source)
        return source, []  # valid Python: a line starting with % or ! is a continuation, not magic
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    lines, dropped = source.splitlines(), []
    first = next((ln for ln in lines if ln.strip()), "")
    if first.lstrip().startswith("%%"):
        raise ValueError(
            f"the cell starts with the cell magic {lines[0].split()[0]}, which the "
            "grader does not run; remove it"
        )
    out = []
    for line in lines:
        m = MAGIC_ASSIGN.match(line)
        if m:
            out.append(f"{m.group(1)}None  # removed by the grader: {m.group(2).strip()[:60]}")
            dropped.append(m.group(2).strip()[:60])
            continue
        m = MAGIC.match(line)
        if m:
            out.append(f"{m.group(1)}pass  # removed by the grader: {m.group(2).strip()[:60]}")
            dropped.append(m.group(2).strip()[:60])
        else:
            out.append(line)
    return "\n".join(out) + "\n", dropped


def released_setup(assignment: Assignment) -> str:
    "The setup cell as we released it: a student's edits to a locked cell do not count."
    cell = _release(assignment).get(assignment.setup_id)
    if cell is None:
        raise RuntimeError(
            f"{assignment.release} has no cell with grade_id {assignment.setup_id!r}; "
            "rebuild it with `autograder release`"
        )
    return cell[2]


def _release(assignment: Assignment) -> dict[str, tuple[bool, str, str]]:
    "The release's cells by grade_id, read once per version of the file."
    path = assignment.release
    return _release_cells(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _release_cells(release: Path, mtime: int) -> dict[str, tuple[bool, str, str]]:
    "grade_id -> (locked, the checksum release stamped, the source)."
    out = {}
    for cell in read_notebook(release)["cells"]:
        nbg = cell.get("metadata", {}).get("nbgrader", {})
        if grade_id(cell) and grade_id(cell) not in out:
            out[grade_id(cell)] = (bool(nbg.get("locked")), nbg.get("checksum", ""), _source(cell))
    return out


def checksum(cell) -> str:
    """nbgrader's checksum of a cell, as its `compute_checksum` makes it (md5 over the source, the
    cell type, the grade/solution/locked flags, the grade_id and a graded cell's points), here so
    that reading a submission does not import nbgrader (2.5 s). '' for a cell it cannot hash."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    if not isinstance(nbg, dict) or not isinstance(nbg.get("grade_id"), str):
        return ""
    grade, solution = nbg.get("grade", False), nbg.get("solution", False)
    locked = False if solution else True if grade else nbg.get("locked", False)
    parts = [_source(cell), str(cell.get("cell_type")), str(grade), str(solution), str(locked)]
    parts.append(nbg["grade_id"])
    if grade:
        try:
            parts.append(str(float(nbg.get("points", 0))))
        except (TypeError, ValueError):
            return ""
    return hashlib.md5("".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _locked(assignment: Assignment) -> dict[str, tuple[str, str]]:
    "The release's locked cells: grade_id -> (checksum, source); {} where it has none to read."
    try:
        cells = _release(assignment)
    except (OSError, ValueError, AttributeError, TypeError):
        return {}
    return {gid: (ck, src) for gid, (locked, ck, src) in cells.items() if locked and ck}


def _edited(cell: dict, released: str) -> bool:
    "Whether a locked cell's code differs from the release (outputs and blank lines aside)."
    lines = lambda t: [ln.rstrip() for ln in t.strip().splitlines() if ln.strip()]
    return lines(_source(cell)) != lines(released)


def _locked_note(i: int, gid: str, setup_id: str) -> str:
    "What to tell the student about an edited locked cell."
    if gid == setup_id:
        return (
            f"the locked setup cell (cell {i + 1}) was edited; grading used the released "
            "version of it, so your changes there did not run: move an import you added "
            "into the exercise cell that needs it"
        )
    return (
        f"the locked cell {gid!r} (cell {i + 1}) was edited; grading used the released version "
        "of it, so your changes there have no effect (a self-check cell only runs the public "
        "tests in Jupyter): copy the cell back from the released notebook"
    )


def _kind(mode: int) -> str | None:
    "What a file that is not a regular file is, in words; None for a regular file."
    kinds = [
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
    ]
    if stat.S_ISREG(mode):
        return None
    return next((word for test, word in kinds if test(mode)), "not a regular file")


def _refuse(path: Path, kind: str) -> ValueError:
    return ValueError(
        f"{path.name} is {kind}, not a notebook file; the grader reads only regular files "
        "(it did not open it): submit the .ipynb file itself"
    )


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """A regular file's bytes, read without following a link or blocking on a FIFO or device,
    and never more than limit + 1 bytes; ValueError for anything else or anything bigger."""
    path, limit = Path(path), MAX_NOTEBOOK_BYTES if limit is None else limit
    kind = _kind(os.lstat(path).st_mode)
    if kind:
        raise _refuse(path, kind)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        kind = _kind(os.fstat(fd).st_mode)  # what was opened, should it have been swapped
        if kind:
            raise _refuse(path, kind)
        chunks, got = [], 0
        while got <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    finally:
        os.close(fd)
    if got > limit:
        raise ValueError(
            f"{path.name} is over the {limit // 2**20} MiB limit; clear its outputs and resubmit"
        )
    return b"".join(chunks)


def read_notebook(path: Path) -> dict:
    "Parse the file as a notebook, or raise ValueError saying what is wrong with it."
    text = read_bytes(path).decode("utf-8", errors="replace")
    if not text.strip():
        raise ValueError(f"{path.name} is empty; submit the notebook you worked in")
    # plain JSON, not nbformat: we read only cells and their metadata, and it starts 10× faster
    try:
        nb = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise ValueError(
            f"{path.name} is not a notebook (not valid JSON: {str(e)[:120]}); "
            "save it from Jupyter as .ipynb and resubmit"
        ) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(
            f"{path.name} could not be read as a notebook: it has no list of cells; save it "
            "from Jupyter as .ipynb and resubmit"
        )
    if nb.get("nbformat") != 4:
        raise ValueError(
            f"{path.name} could not be read as a notebook: nbformat {nb.get('nbformat')!r} is not "
            "the version 4 that Jupyter writes; save it from Jupyter as .ipynb and resubmit"
        )
    return nb


def _source(cell: dict) -> str:
    "A cell's source, given as one string or a list of lines."
    src = cell.get("source") or ""
    return "".join(map(str, src)) if isinstance(src, list) else str(src)


def extract(path: str | Path, assignment: Assignment, setup: str | None = None) -> Submission:
    "The submission's exercise cells by grade_id; problems are recorded, never raised."
    path = Path(path)
    sub = Submission(path.stem, setup if setup is not None else released_setup(assignment))
    try:
        nb = read_notebook(path)
    except (OSError, ValueError) as e:
        sub.error = str(e)
        return sub
    seen: dict[str, int] = {}
    locked = _locked(assignment)
    edits: list[str] = []  # edited locked cells: the first thing the report says
    for i, cell in enumerate(nb["cells"]):
        gid = grade_id(cell)
        if gid in locked and isinstance(cell, dict) and checksum(cell) != locked[gid][0]:
            # nbgrader's checksum says it changed; whitespace alone is not worth a note
            released = sub.setup if gid == assignment.setup_id else locked[gid][1]
            if _edited(cell, released):
                edits.append(_locked_note(i, gid, assignment.setup_id))
        if gid not in assignment.ids or not isinstance(cell, dict):
            if isinstance(cell, dict) and cell.get("cell_type") == "code" and gid != "setup":
                sub.outside |= hints.bound_names(_source(cell)[:MAX_CELL_CHARS])
            continue
        seen[gid] = seen.get(gid, 0) + 1
        if seen[gid] > 1:
            sub.notes.append(f"cell {gid!r} appears more than once; the first copy was graded")
            continue
        if cell.get("cell_type") != "code":
            sub.cell_problems[gid] = (
                f"cell {gid!r} (cell {i + 1}) was changed to "
                f"{cell.get('cell_type')}; change it back to code"
            )
            continue
        src = _source(cell)
        if len(src) > MAX_CELL_CHARS:
            sub.cell_problems[gid] = _too_long(gid, len(src))
            continue
        try:
            code, dropped = strip_magics(src)
        except ValueError as e:
            sub.cell_problems[gid] = f"cell {gid!r}: {e}"
            continue
        if len(code) > MAX_CELL_CHARS:  # the magics' replacements made it longer
            sub.cell_problems[gid] = _too_long(gid, len(code), " once its magics are replaced")
            continue
        sub.cells[gid] = code
        if dropped:
            sub.notes.append(f"cell {gid!r}: magics/shell escapes not run: {', '.join(dropped)}")
    for gid in assignment.ids:
        if gid not in sub.cells and gid not in sub.cell_problems:
            sub.cell_problems[gid] = (
                f"no cell with grade_id {gid!r} in {path.name}: it was "
                "deleted or its metadata changed; copy the cell back from "
                "the released notebook"
            )
    sub.notes[:0] = edits
    return sub


def _too_long(gid: str, n: int, how: str = "") -> str:
    return (
        f"cell {gid!r} is {n} characters long{how}, over the grader's budget of "
        f"{MAX_CELL_CHARS} characters; it was not run: keep large data out of graded cells "
        "(build it in code) and resubmit"
    )
