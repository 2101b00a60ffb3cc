"""A name that only a demo cell defines: grading says it runs only the setup and exercise cells."""

from __future__ import annotations

from autograder.hints import bound_names, name_error
from tests.bank import make_submission
from tests.conftest import grade


def test_bound_names_are_the_cells_top_level_names():
    src = "import numpy as np\nlr = 0.1\nx, (y, z) = 1, (2, 3)\ndef f(a):\n    inner = a\n"
    assert bound_names(src) == {"np", "lr", "x", "y", "z", "f"}


def test_the_hint_fires_for_a_name_error_only():
    outside = {"lr"}
    assert "a cell of your notebook that is not graded" in name_error(
        "NameError: name 'lr' is not defined", outside
    )
    assert "not defined in the setup cell" in name_error(
        "NameError: name 'np' is not defined", outside
    )
    assert name_error("TypeError: 'int' object is not callable", outside) == ""
    assert name_error("expected 3 items, got 2", outside) == ""


def test_an_optimizer_that_reads_the_demo_cells_lr_is_told_why(tmp_path):
    opt = (
        "class Optimizer:\n    def __init__(self, params, lr=0.5):\n"
        "        self.params = list(params)\n"
        "    def step(self):\n        with torch.no_grad():\n"
        "            for p in self.params:\n                p -= lr * p.grad\n"
        "    def zero_grad(self):\n        for p in self.params:\n            p.grad = None\n"
    )
    r = grade(make_submission(tmp_path / "nb.ipynb", {"optimizer": opt}))
    msgs = [c.message for c in r.exercises["optimizer"].checks if not c.passed]
    assert msgs and all("grading runs only the setup cell" in m for m in msgs if "lr" in m)
    assert any("`lr` is defined in a cell of your notebook that is not graded" in m for m in msgs)
    others = [c.message for g, e in r.exercises.items() if g != "optimizer" for c in e.checks]
    assert not any("grading runs only" in m for m in others)
