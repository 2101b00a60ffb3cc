"""Known answers that test the grader: submissions built from the solution with cells replaced."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.assignment import owner


@dataclass(frozen=True)
class Bug:
    """A known mistake: the grader must take points off `source`'s exercise, say why in `words`
    and show exactly the hints in `hints`."""

    name: str
    source: str
    words: tuple[str, ...]  # a good feedback message holds one, as a whole word (lowercase)
    also: tuple[str, ...] = ()  # other exercise ids this bug may legitimately cost points
    # substrings of the hints (the `Hint:` lines) its feedback shows on its exercise (and on
    # `also`): each must show, and every hint shown there must be one of them
    hints: tuple[str, ...] = ()


def load(a):
    "An assignment's bank (solutions/NAME/bank.py), loaded by path: instructor's code, trusted."
    import importlib.util
    import sys

    key = f"_ag_bank_{a.name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, a.folder / "bank.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return sys.modules[key]


def grade_id(cell) -> str | None:
    "The nbgrader grade_id of a cell, or None for a cell nbgrader does not track."
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def make_submission(dest: Path, replace: dict[str, str], base: Path | None = None) -> Path:
    "Write base (the solution notebook by default) to dest with the cells in replace swapped in."
    if base is None:
        a = owner(replace)
        if a is None:
            raise KeyError(f"no single assignment has the cells {sorted(replace)}: pass base=")
        base = a.solution
    base = Path(base)
    nb = nbformat.read(base, as_version=4)
    found = set()
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in replace:
            cell.source = replace[gid]
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            found.add(gid)
    if missing := sorted(set(replace) - found):
        raise KeyError(f"{base} has no cell with grade_id {', '.join(missing)}")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
    return dest


def notebook(sources: dict[str, str], setup: str) -> nbformat.NotebookNode:
    "A bare notebook: the locked setup cell, then one solution cell per exercise id in sources."

    def cell(gid: str, src: str, locked: bool):
        meta = {"grade": False, "grade_id": gid, "locked": locked, "solution": not locked}
        return nbformat.v4.new_code_cell(src, metadata={"nbgrader": {**meta, "schema_version": 3}})

    a = owner(sources)
    cells = [cell(a.setup_id if a is not None else "setup", setup, True)]
    cells += [cell(gid, src, False) for gid, src in sources.items()]
    return nbformat.v4.new_notebook(cells=cells)


def bug_groups(a) -> list[list[tuple[str, Bug]]]:
    """The bank's bugs packed into as few notebooks as can be judged apart: bug k of every
    exercise shares notebook k (each exercise is graded on its own, with stand-ins for the
    others), and a bug that may cost points elsewhere (`also`) gets a notebook of its own."""
    return pack([(gid, b) for gid, bs in load(a).BUGS.items() for b in bs])


def pack(bugs: list[tuple[str, Bug]]) -> list[list[tuple[str, Bug]]]:
    "(grade_id, bug) pairs into notebooks, as bug_groups does."
    alone = [[(gid, b)] for gid, b in bugs if b.also]
    rest: dict[str, list[Bug]] = {}
    for gid, b in bugs:
        if not b.also:
            rest.setdefault(gid, []).append(b)
    width = max((len(bs) for bs in rest.values()), default=0)
    packed = [[(gid, bs[k]) for gid, bs in rest.items() if k < len(bs)] for k in range(width)]
    return packed + alone


def cases(a):
    "Every bank case of an assignment: (kind, label, {grade_id: source}) for validate and tests."
    bank = load(a)
    yield "lesson", "the lesson's code", dict(bank.LESSON)
    width = max(len(v) for v in bank.ALTERNATIVES.values())
    for k in range(width):
        alts = {g: v[k][1] for g, v in bank.ALTERNATIVES.items() if k < len(v)}
        yield "alternative", f"#{k + 1}", alts
    for gid, bugs in bank.BUGS.items():
        for bug in bugs:
            yield "bug", (gid, bug), {gid: bug.source}
