"""The rules for points, all in one place."""

from __future__ import annotations

from autograder.model import CheckResult, ExerciseResult

GATE = "own_implementation"  # failing this check means the exercise was not done by hand


def result(
    exercise: str, name: str, passed: bool, points: float, hidden: bool, message: str = ""
) -> CheckResult:
    "A check earns all its points or none."
    return CheckResult(
        exercise, name, passed, points if passed else 0.0, points, hidden, "" if passed else message
    )


def exercise_score(grade_id: str, checks: list[CheckResult]) -> ExerciseResult:
    "An exercise scores the sum of its checks, or zero if it used a forbidden built-in."
    max_score = sum(c.max_score for c in checks)
    gated = any(c.name == GATE and not c.passed for c in checks)
    score = 0.0 if gated else sum(c.score for c in checks)
    return ExerciseResult(grade_id, tuple(checks), round(score, 4), round(max_score, 4))
