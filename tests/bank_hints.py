"""Hints against the bank, shared by test_bank.py (minibatch) and test_backprop.py: a bug's
feedback shows each hint it claims (`Bug.hints`) and no other on its exercise (and `also`), the
lesson's code and the alternatives show none, and every hint an assignment's tests declare fires
for some bug that claims it. The checks are `autograder validate`'s (autograder.validate); the
reports come from the caller's session-scoped grading, `grade(label, replace) -> Report`, which
grades each replacement set once, so these tests grade no notebook of their own.
"""

from __future__ import annotations

from autograder.bank import bug_groups, make_submission
from autograder.grade import Options, grade_notebook
from autograder.validate import (
    declared_hints,
    missing_hints,
    shown_hints,
    stray_hints,
    unclaimed_hints,
)


def graded_once(tmp_path_factory, a, seed: int):
    "grade(label, replace) -> Report: a's solution with replace swapped in, each set graded once."
    reports = {}

    def grade(label: str, replace: dict[str, str]):
        key = frozenset(replace.items())
        if key not in reports:
            dest = tmp_path_factory.mktemp(f"{a.name}-bank") / f"{label}.ipynb"
            path = make_submission(dest, replace, base=a.solution)
            opts = Options(seed=seed, assignment=a.name)
            reports[key] = grade_notebook(path, hidden=True, training=False, options=opts)
        return reports[key]

    return grade


def describe(report, gids) -> str:
    "Every check of the exercises gids, with its whole message."
    lines = []
    for g in gids:
        ex = report.exercises[g]
        lines += [f"{g}: {ex.score}/{ex.max_score}"]
        lines += [f"  {'ok  ' if c.passed else 'FAIL'} {c.name}: {c.message}" for c in ex.checks]
    return "\n".join(lines)


class BankHints:
    "One assignment's bank and the reports its bug notebooks got (packed as validate packs them)."

    def __init__(self, a, grade):
        self.a, self.grade = a, grade
        self.groups = bug_groups(a)
        self.group_of = {(g, b.name): k for k, group in enumerate(self.groups) for g, b in group}

    def bug_report(self, gid: str, bug):
        k = self.group_of[gid, bug.name]
        return self.grade(f"bugs-{k}", {g: b.source for g, b in self.groups[k]})

    def assert_claims_shown(self, gid: str, bug) -> None:
        "(a) Each hint the bug claims is on a `Hint:` line of its exercise (or `also`)."
        r = self.bug_report(gid, bug)
        problems = missing_hints(r, bug, gid)
        assert not problems, "\n".join(problems) + "\n" + describe(r, [gid, *bug.also])

    def assert_no_unclaimed(self, gid: str, bug) -> None:
        "(b) Each `Hint:` line on its exercise (and `also`) is one the bug claims."
        r = self.bug_report(gid, bug)
        problems = unclaimed_hints(r, bug, gid)
        assert not problems, (
            "\n".join(problems)
            + "\n(a hint that fires for a bug it is not for: tighten its when=, or claim it in "
            "the bug's hints= if it is right)\n" + describe(r, [gid, *bug.also])
        )

    def assert_no_hints(self, report, label: str) -> None:
        "(c) A correct answer is told of no mistake: no `Hint:` line on any exercise."
        problems = stray_hints(report, set(self.a.ids))
        assert not problems, f"{label}: " + "\n".join(problems)

    def fired(self) -> set[str]:
        "Every hint some bug showed on its exercise and claims (all the bug notebooks)."
        out: set[str] = set()
        for group in self.groups:
            gid, bug = group[0]
            r = self.bug_report(gid, bug)
            for g, b in group:
                out |= {h for *_, h in shown_hints(r, b, g) if any(s in h for s in b.hints)}
        return out

    def assert_declared_fire(self) -> None:
        "(d) Every hint the tests declare fires for a bug in the bank that claims it."
        texts, _ = declared_hints(self.a.tests)
        fired = self.fired()
        missing = [f"{t!r} ({', '.join(w)})" for t, w in texts.items() if t not in fired]
        assert texts and not missing, (
            f"hints of {self.a.name}'s tests that fire for no bug of its bank claiming them (add "
            "the bug each is for, with hints=, or remove a hint that cannot fire):\n  "
            + "\n  ".join(missing)
        )

    def assert_declared_readable(self) -> None:
        "(d) Every hint(...) call's text can be read from the source, so (d) sees them all."
        _, unread = declared_hints(self.a.tests)
        assert not unread, "hints whose text cannot be read statically:\n  " + "\n  ".join(unread)
