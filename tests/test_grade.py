"""Grading end to end: full marks, zero marks, isolation of mistakes, shortcuts, reproducibility."""

from __future__ import annotations

from autograder.assignment import get
from tests.bank import make_submission
from tests.conftest import grade

TRAINING_ID = get("minibatch").runs[0].grade_id  # its graded MNIST run

IDS = [*get("minibatch").ids, TRAINING_ID]


def test_solution_gets_full_marks(solution_report):
    r = solution_report
    assert list(r.exercises) == IDS
    bad = {g: [c.message for c in e.checks if not c.passed] for g, e in r.exercises.items()}
    assert r.score == r.max_score, {g: m for g, m in bad.items() if m}
    assert r.exercises[TRAINING_ID].score > 0 and r.meta["training"]["test_accuracy"] >= 0.93
    assert all(e.max_score > 0 for e in r.exercises.values())


def test_every_exercise_has_public_and_hidden_checks(solution_report):
    for gid in get("minibatch").ids:
        checks = solution_report.exercises[gid].checks
        assert any(not c.hidden and c.max_score > 0 for c in checks), gid
        assert any(c.hidden for c in checks), gid


def test_stubs_score_zero_and_say_not_implemented(stub_report):
    r = stub_report
    assert r.score == 0
    for gid in get("minibatch").ids:
        msgs = [c.message for c in r.exercises[gid].checks if c.max_score > 0]
        assert msgs and all("not implemented yet" in m for m in msgs), (gid, msgs)
    assert "not implemented" in r.exercises[TRAINING_ID].checks[0].message


def test_a_definition_error_costs_only_its_exercise(tmp_path):
    nb = make_submission(
        tmp_path / "nb.ipynb",
        {"nll": "def nll(pred, y):\n    return 1/0\n", "collate": "x = undefined_name\n"},
    )
    r = grade(nb)
    assert r.exercises["nll"].score == 0
    assert "ZeroDivisionError" in r.exercises["nll"].checks[0].message
    msg = r.exercises["collate"].checks[0].message
    assert "cell 'collate', line 1" in msg and "NameError" in msg
    for gid in set(get("minibatch").ids) - {"nll", "collate"}:
        assert r.exercises[gid].score == r.exercises[gid].max_score, gid


def test_a_builtin_shortcut_zeroes_the_exercise(tmp_path):
    src = "def softmax(x):\n    return F.softmax(x, dim=1)\n"
    r = grade(make_submission(tmp_path / "nb.ipynb", {"softmax": src}))
    e = r.exercises["softmax"]
    assert e.score == 0 and e.max_score > 0
    gate = next(c for c in e.checks if c.name == "own_implementation")
    assert not gate.passed and "torch.nn.functional.softmax (line 2)" in gate.message
    assert r.exercises["logsumexp"].score == r.exercises["logsumexp"].max_score


def test_shortcut_hidden_from_the_parser_is_caught_at_run_time(tmp_path):
    src = (
        "def softmax(x):\n    f = getattr(torch.nn.functional, 'soft' + 'max')\n"
        "    return f(x, dim=1)\n"
    )
    nb = make_submission(tmp_path / "nb.ipynb", {"softmax": src})
    r = grade(nb)  # the static policy refuses the computed name before anything runs
    assert r.exercises["softmax"].score == 0
    assert "getattr" in r.exercises["softmax"].checks[0].message
    r = grade(nb, policy=False)  # and the run-time monitor behind it still sees the call
    gate = next(c for c in r.exercises["softmax"].checks if c.name == "own_implementation")
    assert not gate.passed and "called at run time" in gate.message
    assert r.exercises["softmax"].score == 0


def test_torch_optimizer_is_not_an_answer(tmp_path):
    r = grade(
        make_submission(tmp_path / "nb.ipynb", {"optimizer": "Optimizer = torch.optim.SGD\n"})
    )
    assert r.exercises["optimizer"].score == 0


def test_same_seed_same_report(tmp_path):
    src = "def softmax(x):\n    return x.exp() / x.exp().sum(0)\n"
    nb = make_submission(tmp_path / "nb.ipynb", {"softmax": src})
    a, b = grade(nb), grade(nb)
    assert a.to_dict()["exercises"] == b.to_dict()["exercises"]
    failing = [c for c in a.exercises["softmax"].checks if not c.passed]
    assert failing and "dim" in failing[0].message
    assert a.meta["seed"] == b.meta["seed"]


def test_failure_message_shows_expected_and_got(tmp_path):
    src = "def logsumexp(x):\n    return x.exp().sum(dim=1, keepdim=True).log()\n"
    r = grade(make_submission(tmp_path / "nb.ipynb", {"logsumexp": src}))
    msgs = {c.name: c.message for c in r.exercises["logsumexp"].checks if not c.passed}
    assert set(msgs) == {"large_values"}, msgs
    assert "logsumexp(x) with |x| ≈ 1e4" in msgs["large_values"]
    assert "expected" in msgs["large_values"] and "got inf" in msgs["large_values"]
    assert "Hint:" in msgs["large_values"] and "max" in msgs["large_values"]


def test_unreadable_notebook_still_gets_a_report(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{ not json")
    r = grade(bad, training=True)
    assert r.score == 0 and list(r.exercises) == IDS
    assert all("not valid JSON" in c.message for e in r.exercises.values() for c in e.checks)


def test_public_only_leaves_out_hidden_checks(tmp_path):
    from autograder.grade import Options, grade_notebook

    r = grade_notebook(
        get("minibatch").solution, hidden=False, training=False, options=Options(seed=1)
    )
    assert not any(c.hidden for e in r.exercises.values() for c in e.checks)
    assert r.score == r.max_score


def test_a_randomized_failure_is_shrunk_to_a_small_input_with_its_seed(tmp_path):
    src = "def softmax(x):\n    return x.exp() / x.exp().sum(0)\n"
    r = grade(make_submission(tmp_path / "nb.ipynb", {"softmax": src}))
    msg = next(c.message for c in r.exercises["softmax"].checks if c.name == "random_shapes")
    assert "Failing input: softmax(tensor([[" in msg  # drawn by Hypothesis, or its @example
    shown = msg.split("softmax(tensor(")[1].split("))")[0]
    assert shown.count("[") == 2, "one row is enough to show summing over the wrong dim"
    assert f"--seed {r.meta['seed']}" in msg


def test_a_stub_passes_no_check_not_even_a_gate(stub_report):
    passed = [(g, c.name) for g, e in stub_report.exercises.items() for c in e.checks if c.passed]
    assert passed == []
