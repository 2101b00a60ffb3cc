"""The first question of a grading, remembered so the next grading can ask it early.

A grading's first question is its training run (runner sorts those tests first), and the worker
is ready to answer it about a second before this process has imported torch and pytest and
collected the tests. So each grading remembers the question it asked first, as plain data, and
the next one sends that same request the moment the worker has run the cells (grade.Session.begin).
The real question takes the early answer only if its request is byte for byte the one sent early;
anything else drops it (a stale record costs time, never a grade).

Only a public test's question is remembered (its inputs and its seed are fixed, and the student
may see them), only if its arguments are plain scalars, strings or files (JSON keeps their types
exactly), and never anything the worker said: the record is written here, from what we asked.
Nothing is imported here that would delay starting the worker (no torch, no pytest).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

_KNOWN: dict[str, dict | None] = {}  # this process's records, by key (a batch reads each once)
PLAIN = (str, int, float, bool, type(None))


def key(*parts) -> str:
    "The record's name: what decides which question comes first (assignment, tests, options)."
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _file(k: str) -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("autograder")) / "first" / f"{k}.json"


def load(k: str) -> dict | None:
    "The question the last grading with this key asked first, or None."
    if k not in _KNOWN:
        rec = None
        with contextlib.suppress(OSError, ValueError):
            rec = _checked(json.loads(_file(k).read_text()))
        _KNOWN[k] = rec
    return _KNOWN[k]


def save(k: str, rec: dict | None):
    "Remember this grading's first question (None: it had none worth asking early)."
    rec = _checked(rec)
    if _KNOWN.get(k, False) == rec:
        return
    _KNOWN[k] = rec
    with contextlib.suppress(OSError, ValueError):  # unwritable: nothing is asked early
        from autograder.report import atomic_write

        f = _file(k)
        if rec is None:
            f.unlink(missing_ok=True)
        else:
            atomic_write(f, json.dumps(rec).encode())


def record(probe: str, args, seed: int, forbid: list[str], timeout: float, needs) -> dict | None:
    "The question as a record, or None where its arguments are not plain data."
    from autograder.testing import File

    out = []
    for a in args:
        if isinstance(a, File):
            out.append({"file": os.fspath(a.path)})
        elif type(a) in PLAIN:
            out.append(a)
        else:
            return None
    return _checked(
        {
            "probe": probe,
            "args": out,
            "seed": seed,
            "forbid": list(forbid),
            "timeout": timeout,
            "needs": list(needs),
        }
    )


def request(probe: str, args, seed: int, forbid: list[str]) -> dict:
    "The probe request the worker gets (grade.Session._ask sends exactly this)."
    return {"op": "probe", "name": probe, "args": list(args), "seed": seed, "forbidden": forbid}


def same(req: dict, timeout: float, early: tuple[str, float] | None) -> bool:
    "Whether a request is exactly the one asked early (its JSON, and the same time limit)."
    if early is None or not all(type(a) in PLAIN for a in req.get("args", ())):
        return False
    return (_json(req), timeout) == early


def fingerprint(req: dict, timeout: float) -> tuple[str, float]:
    return _json(req), timeout


def _json(req: dict) -> str:
    return json.dumps(req, sort_keys=True, allow_nan=True)


def _checked(rec) -> dict | None:
    "A record read back (or made) only if every field has the type it should: else none."
    if not isinstance(rec, dict):
        return None
    ok = (
        isinstance(rec.get("probe"), str)
        and isinstance(rec.get("args"), list)
        and all(
            type(a) in PLAIN
            or (isinstance(a, dict) and list(a) == ["file"] and isinstance(a["file"], str))
            for a in rec["args"]
        )
        and type(rec.get("seed")) is int
        and isinstance(rec.get("forbid"), list)
        and all(isinstance(n, str) for n in rec["forbid"])
        and type(rec.get("timeout")) in (int, float)
        and isinstance(rec.get("needs"), list)
        and all(isinstance(n, str) for n in rec["needs"])
    )
    return rec if ok else None
