"""The bank lives in the package (`autograder validate` runs it); tests import it from here too."""

from autograder.bank import grade_id, make_submission, notebook  # noqa: F401
from autograder.bank.minibatch import ALTERNATIVES, BUGS, LESSON, SETUP, Bug  # noqa: F401
