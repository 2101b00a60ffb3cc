"""The minibatch assignment's bank (solutions/minibatch/bank.py) and the helpers that use it."""

from autograder.assignment import get
from autograder.bank import Bug, grade_id, load, make_submission, notebook  # noqa: F401

BANK = load(get("minibatch"))
ALTERNATIVES, BUGS, LESSON, SETUP = BANK.ALTERNATIVES, BANK.BUGS, BANK.LESSON, BANK.SETUP
