"""Expected answers: the reference, run here, or the answers recorded at release.

In the instructor's kit `reference` is importable and every expected answer is computed live, in
this trusted process, by the tests' `reference` fixture (autograder.runner). The student bundle
ships no reference: its public tests replay the answers `record` wrote when the bundle was built,
keyed by the call and its inputs.
"""

from __future__ import annotations

from pathlib import Path

from autograder import protocol

RECORDED = Path(__file__).resolve().parent / "expected.bin"  # present only in the student bundle


def reference_namespace(name: str | None = None) -> dict | None:
    "The reference of one assignment (`reference/NAME.py`), or None where there is none (bundle)."
    import importlib

    from autograder.assignment import get

    try:
        mod = importlib.import_module(f"reference.{get(name).name if name else get().name}")
    except ImportError:
        return None
    return dict(vars(mod))


class Oracle:
    "The reference's names (live) or the recorded answers (bundle), and a cache a batch shares."

    def __init__(self, recorded: Path | None = None, assignment: str | None = None):
        recorded = recorded or RECORDED
        self.assignment = assignment
        # recorded answers win when present: the bundle must not depend on a reference being around
        self.calls: dict | None = _load(recorded) if recorded.exists() else None
        self.ns = None if self.calls is not None else reference_namespace(assignment)
        self.answers: dict = {}  # reference answers by (call, seed): a batch asks the same things
        if self.ns is None and self.calls is None:
            raise RuntimeError(
                "neither the reference nor recorded answers are available; "
                "reinstall the kit or rebuild the bundle with `autograder release "
                "--bundle DIR`"
            )


def record(tests: Path, path: Path, assignment: str | None = None) -> None:
    "Write the reference's answers to every question the public tests ask, for the bundle."
    ns = reference_namespace(assignment)
    path.write_bytes(protocol.encode(record_calls(tests, ns, assignment)))


def record_calls(tests: Path, ns: dict, assignment: str | None = None) -> dict:
    "Run the public tests with the reference on both sides; keep every reference answer they read."
    from autograder.assignment import get
    from autograder.runner import Grading, InstructorError, ReferenceSession, run_tests

    calls: dict = {}
    a = get(assignment) if assignment else get()
    session = ReferenceSession(ns, a.probes())
    g = Grading(session, ns, a.probes(), a.runtime_names, 0, record=calls, training=False)
    run_tests(tests, g, hidden=False)
    wrong = [f"{r.exercise}::{r.name}: {r.message[:300]}" for r in g.results if not r.passed]
    if g.errors or wrong:
        problems = "\n".join(g.errors + wrong)
        raise InstructorError(f"the reference fails public tests in {tests}:\n{problems}")
    return calls


def _load(path: Path) -> dict:
    data = protocol.unframe(path.read_bytes())
    return data if isinstance(data, dict) else {}
