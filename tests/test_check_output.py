"""What `autograder check` tells a student beyond the table: public points out of the whole
assignment, and the MNIST run's accuracy beside its threshold."""

from __future__ import annotations

from autograder.check import full_points, next_step, training_line
from autograder.model import Report


def test_check_says_public_points_of_the_whole_assignment(solution_report):
    total = full_points("minibatch")
    assert total == solution_report.max_score  # hidden checks and the MNIST run included
    from autograder.assignment import get
    from tests.conftest import grade_notebook

    public = grade_notebook(get("minibatch").solution, hidden=False, training=False)
    assert public.meta["hidden"] is False and public.max_score < total
    line = next_step(public, total)
    assert line == (
        f"public {public.score:g}/{public.max_score:g} points of {total:g}; hidden checks are "
        "graded later. Every public check passes."
    )


def test_check_prints_the_mnist_accuracy_beside_the_threshold(solution_report):
    line = training_line(solution_report)
    acc = solution_report.meta["training"]["test_accuracy"]
    assert line == f"MNIST run: test accuracy {acc:.4f} (passes the threshold 0.93)"
    assert training_line(Report.from_dict({**solution_report.to_dict(), "meta": {}})) == ""


def test_the_bundle_records_the_full_points(tmp_path):
    import json

    from autograder.assignment import get
    from autograder.bundle import build_bundle

    dest = build_bundle(get("minibatch"), tmp_path / "student")
    assert json.loads((dest / "autograder" / "points.json").read_text()) == {
        "minibatch": full_points("minibatch")
    }
    reqs = (dest / "requirements.txt").read_text().split()
    assert "jupyterlab" in reqs and "ipykernel" in reqs
    assert "jupyter lab" in (dest / "README.md").read_text()


def test_check_html_writes_the_feedback_page_of_public_checks(tmp_path):
    from autograder.assignment import get
    from autograder.check import check
    from autograder.feedback import PUBLIC_ONLY

    lines = []
    code = check(get("backprop").solution, training=False, say=lines.append, html=tmp_path / "fb")
    assert code == 0
    assert lines[-1] == f"feedback page: {tmp_path / 'fb' / 'feedback.html'}"
    page = (tmp_path / "fb" / "feedback.html").read_text()
    assert PUBLIC_ONLY.replace("'", "&#x27;") in page and "hidden</span>" not in page
    assert PUBLIC_ONLY in (tmp_path / "fb" / "feedback.md").read_text()
