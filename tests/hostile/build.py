"""Write the hostile corpus: one file per notebook of `cases.notebooks()`, placeholders filled."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import nbformat

from autograder.assignment import get
from tests.bank import grade_id, make_submission
from tests.hostile.cases import Case, notebooks


def _solution() -> dict:
    return json.loads(get("minibatch").solution.read_text())


def _gid(cell: dict):
    return grade_id(cell)


def _index(nb: dict, gid: str) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if _gid(c) == gid)


def _delete(nb):
    del nb["cells"][_index(nb, "softmax")]


def _duplicate(nb):
    i = _index(nb, "softmax")
    second = copy.deepcopy(nb["cells"][i])
    second["id"] = "softmax-copy"
    second["source"] = "raise RuntimeError('the second copy of softmax must not be graded')\n"
    nb["cells"].insert(i + 2, second)


def _retag(nb):
    nb["cells"][_index(nb, "softmax")]["metadata"]["nbgrader"]["grade_id"] = "softmax_v2"


def _markdown(nb):
    cell = nb["cells"][_index(nb, "softmax")]
    cell["cell_type"] = "markdown"
    cell.pop("outputs", None)
    cell.pop("execution_count", None)


def _reverse(nb):
    ids = set(get("minibatch").ids)
    slots = [i for i, c in enumerate(nb["cells"]) if _gid(c) in ids]
    cells = [nb["cells"][i] for i in slots]
    for i, c in zip(slots, reversed(cells)):
        nb["cells"][i] = c


def _huge(nb):
    blob = "x" * (21 * 2**20)
    nb["cells"].append({"cell_type": "markdown", "id": "huge", "metadata": {}, "source": blob})


EDITS = {
    "delete_softmax": _delete,
    "duplicate_softmax": _duplicate,
    "retag_softmax": _retag,
    "markdown_softmax": _markdown,
    "reverse_exercises": _reverse,
    "huge": _huge,
}


def fill(text: str, values: dict[str, str]) -> str:
    for k, v in values.items():
        text = text.replace(f"@{k}@", str(v))
    left = re.findall(r"@[A-Z_]+@", text)
    assert not left, f"placeholders without a value: {left}"
    return text


def build(folder: Path, values: dict[str, str], sandboxed: bool = True) -> dict[str, Path]:
    "Write the corpus into folder (bwrap_only notebooks only if sandboxed); name -> path."
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, cases in notebooks().items():
        if not sandboxed and any(c.bwrap_only for c in cases):
            continue
        path = folder / f"{name}.ipynb"
        out[name] = path
        first: Case = cases[0]
        if first.raw is not None:
            data = first.raw if isinstance(first.raw, bytes) else first.raw.encode()
            path.write_bytes(data)
        elif first.edit:
            nb = _solution()
            EDITS[first.edit](nb)
            path.write_text(json.dumps(nb, indent=1))
        else:
            cells = {g: fill(s, values) for c in cases for g, s in c.cells.items()}
            make_submission(path, cells)
    return out


def check_valid(path: Path) -> None:
    "The structural edits still give notebooks nbformat reads (so only the edit is tested)."
    nbformat.read(path, as_version=4)
