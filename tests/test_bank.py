"""Test the grader with the bank: bugs lose points, with the right words; correct answers keep them.

Each graded notebook starts a worker process, so every submission is graded once per session:
the bugs packed as `autograder validate` packs them (bug k of every exercise in notebook k, a bug
that may cost points elsewhere alone: each exercise is graded on its own, so the other exercises
of a notebook keep full marks unless they hold a bug themselves), alternative k of every exercise
together in notebook k, and the lesson's answers together in one notebook. A fixed seed
keeps the hidden checks' inputs, and so every verdict here, the same from run to run.

The same reports prove the hints (tests/bank_hints.py): each bug shows the hints it claims and no
other, the correct answers show none, and every hint the tests declare fires for some bug.
"""

from __future__ import annotations

import re

import pytest

from autograder.assignment import get
from autograder.bank import bug_groups
from tests.bank import ALTERNATIVES, BUGS, LESSON, Bug
from tests.bank_hints import BankHints, graded_once

IDS = get("minibatch").ids
SEED = 1234
BUG_CASES = [(gid, bug) for gid, bugs in BUGS.items() for bug in bugs]
ALT_CASES = [
    (gid, k, name) for gid, alts in ALTERNATIVES.items() for k, (name, _) in enumerate(alts)
]


@pytest.fixture(scope="session")
def bank_report(tmp_path_factory):
    "bank_report(label, replace) -> Report, grading each distinct replacement set only once."
    return graded_once(tmp_path_factory, get("minibatch"), SEED)


def exercise(report, gid: str):
    assert gid in report.exercises, f"report has no exercise {gid!r}: {sorted(report.exercises)}"
    return report.exercises[gid]


def describe(ex) -> str:
    lines = [f"{ex.grade_id}: {ex.score}/{ex.max_score}"]
    lines += [f"  {'ok  ' if c.passed else 'FAIL'} {c.name}: {c.message}" for c in ex.checks]
    return "\n".join(lines)


def says(message: str, word: str) -> bool:
    "Whether message holds word (or phrase) as a whole word: 'exp' is not in 'expected'."
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", message.lower()) is not None


def full_marks(ex) -> bool:
    return ex.max_score > 0 and ex.score == pytest.approx(ex.max_score)


GROUPS = {
    (gid, bug.name): k for k, group in enumerate(bug_groups(get("minibatch"))) for gid, bug in group
}


@pytest.mark.parametrize("gid,bug", BUG_CASES, ids=[f"{g}-{b.name}" for g, b in BUG_CASES])
def test_bug_loses_points_on_its_exercise_only(bank_report, gid: str, bug: Bug):
    k = GROUPS[gid, bug.name]
    group = bug_groups(get("minibatch"))[k]
    report = bank_report(f"bugs-{k}", {g: b.source for g, b in group})
    mates = {g for g, _ in group} - {gid}  # exercises with a bug of their own in this notebook
    ex = exercise(report, gid)
    assert ex.score < ex.max_score and not full_marks(ex), (
        f"bug {bug.name} kept full marks\n" + describe(ex)
    )
    failed = [c for c in ex.checks if not c.passed]
    assert any(says(c.message, w) for c in failed for w in bug.words), (
        f"no failing check of {gid} says any of {bug.words}\n" + describe(ex)
    )
    for other in IDS:
        if other != gid and other not in bug.also and other not in mates:
            assert full_marks(exercise(report, other)), (
                f"bug {gid}/{bug.name} cost points on {other}\n" + describe(exercise(report, other))
            )


@pytest.mark.parametrize("gid,k,name", ALT_CASES, ids=[f"{g}-{n}" for g, _, n in ALT_CASES])
def test_alternative_keeps_full_marks(bank_report, gid: str, k: int, name: str):
    # alternative k of every exercise shares one notebook
    replace = {g: alts[k][1] for g, alts in ALTERNATIVES.items() if k < len(alts)}
    ex = exercise(bank_report(f"alternatives-{k}", replace), gid)
    assert full_marks(ex), f"correct alternative {name} lost points\n" + describe(ex)


@pytest.mark.parametrize("gid", IDS, ids=[f"lesson-{g}" for g in IDS])
def test_lesson_code_gets_full_marks(bank_report, gid: str):
    ex = exercise(bank_report("lesson", dict(LESSON)), gid)
    assert full_marks(ex), "the lesson's own code lost points\n" + describe(ex)


@pytest.fixture(scope="session")
def hints(bank_report):
    return BankHints(get("minibatch"), bank_report)


@pytest.mark.parametrize("gid,bug", BUG_CASES, ids=[f"{g}-{b.name}" for g, b in BUG_CASES])
def test_bug_shows_the_hints_it_claims(hints, gid: str, bug: Bug):
    hints.assert_claims_shown(gid, bug)


@pytest.mark.parametrize("gid,bug", BUG_CASES, ids=[f"{g}-{b.name}" for g, b in BUG_CASES])
def test_bug_shows_no_hint_it_does_not_claim(hints, gid: str, bug: Bug):
    hints.assert_no_unclaimed(gid, bug)


WIDTH = max(len(alts) for alts in ALTERNATIVES.values())


@pytest.mark.parametrize("k", [None, *range(WIDTH)], ids=["lesson", *map(str, range(WIDTH))])
def test_correct_answers_show_no_hint(bank_report, hints, k):
    if k is None:
        label, replace = "lesson", dict(LESSON)
    else:
        label = f"alternatives-{k}"
        replace = {g: alts[k][1] for g, alts in ALTERNATIVES.items() if k < len(alts)}
    hints.assert_no_hints(bank_report(label, replace), label)


def test_every_declared_hint_fires_for_a_bug(hints):
    hints.assert_declared_fire()


def test_every_declared_hint_can_be_read(hints):
    hints.assert_declared_readable()
