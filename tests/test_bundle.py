"""The student bundle: enough for `pytest`, and nothing an instructor keeps to themselves."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from autograder.assignment import ROOT, get
from autograder.bundle import build_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build_bundle(get("minibatch"), tmp_path_factory.mktemp("b") / "bundle")


def bundle_pytest(folder, *args):
    "Run pytest inside the bundle the way a student would, with the installed kit kept out."
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_bundle_leaves_out_solutions_reference_and_hidden_checks(bundle):
    files = [p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()]
    assert not [f for f in files if f.startswith(("solutions", "reference"))]
    assert not [f for f in files if "hidden" in f or "bank" in f or f.endswith("release.py")]
    text = "\n".join(p.read_text(errors="ignore") for p in bundle.rglob("*.py"))
    hidden = (ROOT / "solutions" / "minibatch" / "tests" / "hidden" / "test_sampler.py").read_text()
    assert "reshuffles_every_pass" in hidden and "reshuffles_every_pass" not in text
    assert "BEGIN SOLUTION" not in (bundle / "minibatch.ipynb").read_text()
    for name in (
        "README.md",
        "pytest.ini",
        "conftest.py",
        "requirements.txt",
        "autograder/expected.bin",
        "assignments/minibatch/minibatch.ipynb",
    ):
        assert (bundle / name).exists(), name


def test_plain_pytest_in_the_bundle_checks_the_notebook(bundle):
    res = bundle_pytest(bundle, "--ag-no-training")
    assert res.returncode == 1, res.stdout[-2000:]
    assert "not implemented yet" in res.stdout and "32 failed in" in res.stdout  # no gate passes


def test_the_solution_passes_in_the_bundle_from_recorded_answers(bundle, tmp_path):
    work = tmp_path / "student"
    shutil.copytree(bundle, work)
    shutil.copy(get("minibatch").solution, work / "minibatch.ipynb")
    res = bundle_pytest(work, "--ag-no-training")
    assert res.returncode == 0, res.stdout[-3000:]
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import autograder, autograder.oracle as o; "
            "print(autograder.__file__); print(o.Oracle().ns is None)",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(work)},
    )
    assert str(work) in probe.stdout and probe.stdout.strip().endswith("True"), probe.stdout
