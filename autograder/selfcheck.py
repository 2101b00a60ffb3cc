"""The notebook's self-check cells: an exercise's public tests, run on the kernel's own names.

Each exercise's self-check cell holds

    from autograder.selfcheck import check
    check("exercise_1")

and runs the same public tests as `pytest` and `autograder check` do, with the same inputs and the
same expected answers (the live reference in the instructor's kit, the answers recorded at release
in the student bundle). The difference is where the student's code runs: here, in the student's
own kernel, on the definitions the notebook has made so far (their machine, their code), rather
than in the grader's sandboxed worker. It prints one line per test and raises AssertionError when
any fails, so the cell shows an error as a failed `assert` would.
"""

from __future__ import annotations

import random
import sys

from autograder import assignment as asg
from autograder.runner import ReferenceSession

PASS, FAIL = "\N{CHECK MARK}", "\N{BALLOT X}"


def check(grade_id: str, assignment: str | None = None, namespace: dict | None = None) -> None:
    """Run the public tests of exercise `grade_id` on the definitions in `namespace` (default: the
    namespace of the code that called it, a notebook's kernel namespace). `assignment` defaults to
    the one that has an exercise `grade_id`. Prints a line per test; raises AssertionError naming
    how many failed."""
    ns = namespace if namespace is not None else sys._getframe(1).f_globals
    a = _assignment(grade_id, assignment, ns)
    missing = [n for n in a.exercise(grade_id).defines if n not in ns]
    if missing:
        names = ", ".join(f"`{n}`" for n in missing)
        raise AssertionError(
            f"{names} {'is' if len(missing) == 1 else 'are'} not defined yet: run the cell "
            f"{grade_id!r} (and the cells above it) first"
        )
    results, errors = run(grade_id, a, ns)
    for r in results:
        print(f"{PASS if r.passed else FAIL} {r.name}" + ("" if r.passed else f": {_indent(r)}"))
    for e in errors:  # the instructor's mistakes (a test that broke): said, never a pass
        print(f"! a problem in the checks themselves, not in your code: {_indent_text(e)}")
    failed = sum(not r.passed for r in results)
    if failed:
        raise AssertionError(f"{failed} of {len(results)} public checks of {grade_id} fail")
    if errors:
        raise AssertionError(f"the public checks of {grade_id} could not all run (see above)")
    if not results:
        print(f"{grade_id} has no public checks")


def run(grade_id: str, a: asg.Assignment, ns: dict):
    """The results of exercise grade_id's public tests on the names in ns, and the instructor
    errors pytest reported. The student's code runs here, in this process, with the stand-ins the
    worker would give it (our answer to an earlier exercise inside theirs): graded the same way."""
    import torch

    from autograder.oracle import Oracle
    from autograder.runner import Grading, run_tests

    oracle = Oracle(None, a.name)
    found, stand_ins = _probes(a)
    g = Grading(
        KernelSession(ns, found, stand_ins),
        oracle.ns,
        found,
        a.runtime_names,
        0,
        recorded=oracle.calls,
    )
    state = random.getstate()  # the probes seed `random`: leave the student's sequence alone
    try:
        with torch.random.fork_rng():
            run_tests(a.tests, g, hidden=False, select=_files(a, grade_id))
    finally:
        random.setstate(state)
    if g.session.interrupted:  # pytest stopped at the interrupt: the kernel should say so
        raise KeyboardInterrupt
    return [r for r in g.results if r.exercise == grade_id], list(g.errors)


class KernelSession(ReferenceSession):
    """Answers the student's side from a namespace here (runner.ReferenceSession), with the
    assignment's stand-ins in place while each probe runs, as in the worker. No time limit: a
    student's endless loop is stopped by interrupting the kernel."""

    def __init__(self, ns: dict, probes: dict, stand_ins: dict):
        super().__init__(ns, probes)
        self.stand_ins, self.interrupted = stand_ins, False

    def ask(self, probe, args, seed, forbid, timeout):
        from autograder import probes

        saved = dict(probes.STAND_INS)
        probes.STAND_INS.update(self.stand_ins)
        try:
            return super().ask(probe, args, seed, forbid, timeout)
        except KeyboardInterrupt:
            self.interrupted = True
            raise
        finally:
            probes.STAND_INS.clear()
            probes.STAND_INS.update(saved)


_LOADED: dict = {}


def _probes(a: asg.Assignment) -> tuple[dict, dict]:
    """Every probe of the assignment and its stand-ins ({exercise: {name: ours}}), from its
    probes.py loaded by path as the worker loads it (instructor's code, trusted)."""
    from autograder import probes

    if a.probes_file is None:
        return dict(probes.PROBES), {}
    if a.name not in _LOADED:
        import importlib.util

        spec = importlib.util.spec_from_file_location(f"_ag_selfcheck_{a.name}", a.probes_file)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _LOADED[a.name] = mod
    mod = _LOADED[a.name]
    return probes.assignment_probes(mod), dict(getattr(mod, "STAND_INS", {}))


def _files(a: asg.Assignment, grade_id: str) -> list[str] | None:
    """The public test files that may hold grade_id's tests: its own test_<grade_id>.py and any
    that names exercises with a marker (None: all of them). One file runs in a fraction of the
    time the whole folder takes."""
    own = f"test_{grade_id}.py"
    if not (a.tests / own).is_file():
        return None
    marked = [f.name for f in sorted(a.tests.glob("*.py")) if "mark.exercise" in f.read_text()]
    return sorted({own, *marked})


def _assignment(grade_id: str, name: str | None, ns: dict | None = None) -> asg.Assignment:
    """The named assignment, or the known one with an exercise grade_id; where several have it,
    the one whose exercises' names the kernel defines most of (its notebook ran them)."""
    if name is not None:
        a = asg.get(name)
        if a.exercise(grade_id) is None:
            raise KeyError(f"assignment {a.name!r} has no exercise {grade_id!r}; it has {a.ids}")
        return a
    if not any(a.exercise(grade_id) for a in asg.ASSIGNMENTS.values()):
        asg.ASSIGNMENTS.update(asg._discover())  # a folder added since the kernel started
    have = [a for a in asg.ASSIGNMENTS.values() if a.exercise(grade_id) is not None]
    if len(have) > 1:
        defined = lambda a: sum(n in (ns or {}) for e in a.exercises for n in e.defines)
        have.sort(key=defined, reverse=True)
        if defined(have[0]) == defined(have[1]):
            names = ", ".join(a.name for a in have)
            raise KeyError(
                f"several assignments have an exercise {grade_id!r} ({names}): "
                f"call check({grade_id!r}, assignment=NAME)"
            )
    if have:
        return have[0]
    known = ", ".join(asg.ASSIGNMENTS) or "none"
    raise KeyError(f"no known assignment has an exercise {grade_id!r} (assignments: {known})")


def _indent(r) -> str:
    "A failure's whole message, its later lines indented under the test's name."
    return _indent_text(r.message)


def _indent_text(text: str) -> str:
    return text.replace("\n", "\n    ")
