"""The data model every stage shares: what a check is, what it found, and a submission's report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class CheckResult:
    "The outcome of one check on one submission."

    exercise: str
    name: str
    passed: bool
    score: float
    max_score: float
    hidden: bool
    message: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        del d["exercise"]
        return d


@dataclass(frozen=True)
class ExerciseResult:
    "All checks of one exercise; its score follows the rules in `scoring`."

    grade_id: str
    checks: tuple[CheckResult, ...]
    score: float
    max_score: float

    def to_dict(self) -> dict:
        return {
            "score": self.score,
            "max_score": self.max_score,
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class Report:
    "A graded submission: the stable shape report.json and every other format come from."

    submission: str
    exercises: dict[str, ExerciseResult]
    meta: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises.values()), 4)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises.values()), 4)

    @classmethod
    def from_dict(cls, d: dict) -> Report:
        "Rebuild a report from report.json's dict (for caches and merges)."
        exercises = {
            gid: ExerciseResult(
                gid,
                tuple(CheckResult(gid, **c) for c in e["checks"]),
                e["score"],
                e["max_score"],
            )
            for gid, e in d["exercises"].items()
        }
        return cls(d["submission"], exercises, d.get("meta", {}))

    def to_dict(self) -> dict:
        return {
            "submission": self.submission,
            "score": self.score,
            "max_score": self.max_score,
            "exercises": {k: e.to_dict() for k, e in self.exercises.items()},
            "meta": self.meta,
        }


NOT_IMPLEMENTED = (
    "not implemented yet: replace `raise NotImplementedError()` in cell {gid!r} with your code"
)


class ProbeError:
    "What a test gets when the student's code raised (or the worker died) instead of answering."

    def __init__(self, text: str, kind: str = "", exercise: str = ""):
        self.text, self.kind, self.exercise = text, kind, exercise

    def __repr__(self):
        return f"error: {self.text}"

    @property
    def message(self) -> str:
        if self.kind == "NotImplementedError":
            return NOT_IMPLEMENTED.format(gid=self.exercise)
        return self.text if self.kind in ("WorkerGone", "CellError") else f"raised {self.text}"
