"""`autograder validate` catches a bank that lies: a correct "bug", a wrong "alternative", a bug's
hints that are not what its feedback shows, a declared hint that fires for no bug."""

from __future__ import annotations

import autograder.bank as bank
import autograder.validate as validate_module
from autograder.validate import validate
from tests.bank import LESSON, Bug

WRONG = "def nll(pred, y):\n    return -pred[range(len(y)), y].sum()\n"
SUMMED = "you summed; nll is the mean over the batch"  # the hint WRONG gets


def run(monkeypatch, cases, declared=None):
    monkeypatch.setattr(bank, "cases", lambda a: iter(cases))
    # the hints these few cases are about, not all the minibatch tests' (tests/test_bank.py's)
    texts = {SUMMED: ["tests/test_nll.py:9"]} if declared is None else declared
    monkeypatch.setattr(validate_module, "declared_hints", lambda folder: (texts, []))
    lines: list[str] = []
    return validate(training=False, say=lines.append), "\n".join(lines)


def test_a_well_behaved_bank_passes(monkeypatch):
    cases = [
        ("bug", ("nll", Bug("summed", WRONG, ("mean",), hints=("you summed",))), {"nll": WRONG}),
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
        # caught, but it claims a hint it does not get and does not claim the one it gets
        ("bug", ("nll", Bug("summed", WRONG, ("mean",), hints=("sign",))), {"nll": WRONG}),
        ("alternative", "#1", {"nll": WRONG}),
    ]
    declared = {SUMMED: ["tests/test_nll.py:9"], "a hint for no bug": ["tests/test_nll.py:99"]}
    code, out = run(monkeypatch, cases, declared)
    assert code == 1
    assert "nll/not_a_bug: not caught (full marks)" in out
    assert "alternative #1: nll:" in out
    assert "nll/summed: claims the hint 'sign', which no check of nll showed" in out
    assert f"nll/summed: the hint {SUMMED!r} on nll·small_batch" in out
    assert "is not one it claims" in out
    assert f"alternative #1: nll·small_batch showed the hint {SUMMED!r}" in out
    assert "the hint 'a hint for no bug' (tests/test_nll.py:99) fires for no bug" in out
    # shown to nll/summed, but not claimed by it: no bug both gets it and claims it
    assert f"the hint {SUMMED!r} (tests/test_nll.py:9) fires for no bug" in out
