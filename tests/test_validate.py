"""`autograder validate` catches a bank that lies: a correct "bug", a wrong "alternative"."""

from __future__ import annotations

import autograder.bank as bank
from autograder.validate import validate
from tests.bank import LESSON, Bug

WRONG = "def nll(pred, y):\n    return -pred[range(len(y)), y].sum()\n"


def run(monkeypatch, cases):
    monkeypatch.setattr(bank, "cases", lambda a: iter(cases))
    lines: list[str] = []
    return validate(training=False, say=lines.append), "\n".join(lines)


def test_a_well_behaved_bank_passes(monkeypatch):
    cases = [
        ("bug", ("nll", Bug("summed", WRONG, ("mean",))), {"nll": WRONG}),
        ("alternative", "#1", {"nll": LESSON["nll"]}),
    ]
    code, out = run(monkeypatch, cases)
    assert code == 0, out
    assert "all cases behave as expected" in out
    got, full = out.split("solution:")[1].split("\n")[0].split("/")
    assert float(got) == float(full) > 0


def test_an_uncaught_bug_and_a_wrong_alternative_fail_validation(monkeypatch):
    cases = [
        ("bug", ("nll", Bug("not_a_bug", LESSON["nll"], ("mean",))), {"nll": LESSON["nll"]}),
        ("alternative", "#1", {"nll": WRONG}),
    ]
    code, out = run(monkeypatch, cases)
    assert code == 1
    assert "nll/not_a_bug: not caught (full marks)" in out
    assert "alternative #1: nll:" in out
