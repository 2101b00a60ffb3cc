"""Hypothesis in a graded test (backprop's hidden relu test, `@given(x=tensors(...))`): its
examples come from the grading seed, each one a question to the worker, and a failure is reported
on the smallest input Hypothesis shrinks it to."""

from __future__ import annotations

from autograder.assignment import get
from autograder.bank import make_submission
from autograder.grade import Options, grade_notebook

A = get("backprop")
# wrong only on batches of five rows or more: a random batch finds it, shrinking makes it small
LATE = "def relu(x):\n    return x.clamp_min(0.0) if x.shape[0] < 5 else x.clamp_min(-1e-3)\n"


def random_check(path, seed):
    r = grade_notebook(path, training=False, options=Options(seed=seed, assignment=A.name))
    return next(c for c in r.exercises["relu"].checks if c.name == "random_shapes")


def test_a_failure_is_shrunk_to_the_smallest_batch_and_replays_with_the_seed(tmp_path):
    nb = make_submission(tmp_path / "nb.ipynb", {"relu": LATE}, A.solution)
    c = random_check(nb, seed=5)
    assert not c.passed
    assert c.message.startswith("relu(x) on a random (5, 1) float32 batch: values differ"), (
        c.message
    )
    assert "Called: relu(tensor([[-1.], [-1.], [-1.], [-1.], [-1.]]))" in c.message
    assert random_check(nb, seed=5).message == c.message  # the same seed, the same examples


def test_the_reference_passes_on_every_drawn_example():
    assert random_check(A.solution, seed=11).passed


# minibatch's hidden random_shapes tests: Hypothesis draws lists of batches (one round trip each)

MB = get("minibatch")
BIG_ONLY = (
    "def softmax(x):\n    e = x.exp()\n    s = e / e.sum(1, keepdim=True)\n"
    "    return s if x.shape[0] < 8 else s * 1.01\n"
)


def test_a_list_of_batches_shrinks_to_one_small_batch_shown_whole(tmp_path):
    nb = make_submission(tmp_path / "nb.ipynb", {"softmax": BIG_ONLY}, MB.solution)
    r = grade_notebook(nb, training=False, options=Options(seed=5))
    checks = {c.name: c for c in r.exercises["softmax"].checks}
    c = checks["random_shapes"]
    assert not c.passed
    # the smallest failing list: one batch of eight rows and one column, small enough to show
    assert "on an input of shape (8, 1) (torch.float32): values differ" in c.message, c.message
    assert "Failing input: softmax(tensor([[" in c.message
    assert c.message.endswith("Replay: autograder grade NOTEBOOK --out DIR --seed 5")
    # the public checks use batches of fewer rows: only the random check sees the mistake
    assert [n for n, c in checks.items() if not c.passed] == ["random_shapes"]
    again = grade_notebook(nb, training=False, options=Options(seed=5))
    assert next(c for c in again.exercises["softmax"].checks if c.name == "random_shapes") == c
