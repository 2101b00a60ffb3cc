"""The Gradescope autograder zip: its members, and run_autograder executed in a fake /autograder."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.assignment import get
from autograder.data import DataError
from autograder.gradescope import CONFIG, SubmissionError, build_autograder_zip, find_submission

A = get("minibatch")
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    return build_autograder_zip(A, tmp_path_factory.mktemp("zip"), training=False, seed=7)


def modes(z: zipfile.ZipFile) -> dict[str, int]:
    return {i.filename: (i.external_attr >> 16) for i in z.infolist()}


def test_members_and_modes(autograder_zip):
    assert autograder_zip.name == "minibatch-gradescope.zip"
    with zipfile.ZipFile(autograder_zip) as z:
        m = modes(z)
        names = set(m)
        config = json.loads(z.read(CONFIG))
        setup = z.read("setup.sh").decode()
    for script in ("setup.sh", "run_autograder"):  # top level, executable regular files
        assert stat.S_ISREG(m[script]) and stat.S_IMODE(m[script]) == 0o755
    for needed in (
        "autograder/grade.py",
        "autograder/__main__.py",
        "tests/minibatch/test_softmax.py",
        "tests/minibatch/hidden/test_softmax.py",  # the container is ours: hidden checks go in
        "assignments/minibatch/assignment.toml",
        "reference/__init__.py",
        "assignments/minibatch/minibatch.ipynb",
        "requirements.txt",
    ):
        assert needed in names, needed
    for name in names:
        assert not name.startswith("solutions/"), name
        assert "__pycache__" not in name and not name.endswith(".pyc"), name
        assert not name.endswith("expected.bin"), name  # recorded answers would skip the reference
        assert not name.startswith("autograder/bank/"), name
        assert stat.S_IMODE(m[name]) in (0o644, 0o755)
    assert config == {"assignment": "minibatch", "training": False, "seed": 7, "max_score": 61.0}
    assert "--index-url https://download.pytorch.org/whl/cpu" in setup
    assert '"torch==' in setup and "-m autograder data" in setup


def test_zip_is_reproducible(autograder_zip, tmp_path):
    again = build_autograder_zip(A, tmp_path / "again.zip", training=False, seed=7)
    assert again.read_bytes() == autograder_zip.read_bytes()


def test_scripts_parse_as_bash(autograder_zip, tmp_path):
    with zipfile.ZipFile(autograder_zip) as z:
        for script in ("setup.sh", "run_autograder"):
            (tmp_path / script).write_bytes(z.read(script))
            r = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True)
            assert r.returncode == 0, r.stderr


def gradescope_root(autograder_zip: Path, root: Path) -> Path:
    "Lay out root as Gradescope does: the zip in source/, run_autograder copied to the top."
    with zipfile.ZipFile(autograder_zip) as z:
        z.extractall(root / "source")
        for name, mode in modes(z).items():
            os.chmod(root / "source" / name, stat.S_IMODE(mode))
    (root / "run_autograder").write_bytes((root / "source" / "run_autograder").read_bytes())
    os.chmod(root / "run_autograder", 0o755)
    (root / "submission").mkdir()
    return root


def run_autograder(root: Path, python: str = sys.executable) -> dict:
    env = os.environ | {"AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": python}
    r = subprocess.run(
        [str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads((root / "results" / "results.json").read_text())


def assert_valid(results: dict) -> None:
    "The fields Gradescope's results.json spec defines, with the types it expects."
    assert isinstance(results["score"], int | float)
    assert results.get("visibility", "visible") in VISIBILITY
    assert results.get("stdout_visibility", "hidden") in VISIBILITY
    assert isinstance(results.get("output", ""), str)
    assert isinstance(results.get("execution_time", 0), int | float)
    assert isinstance(results["tests"], list)
    for t in results["tests"]:
        assert isinstance(t["name"], str) and t["name"]
        assert isinstance(t["score"], int | float) and isinstance(t["max_score"], int | float)
        assert 0 <= t["score"] <= t["max_score"] or t["max_score"] == 0
        assert t["visibility"] in VISIBILITY
        assert isinstance(t["output"], str)
        assert t.get("status", "passed") in ("passed", "failed")


def test_solution_gets_full_marks(autograder_zip, tmp_path):
    root = gradescope_root(autograder_zip, tmp_path / "autograder")
    (root / "submission" / "minibatch.ipynb").write_bytes(A.solution.read_bytes())
    results = run_autograder(root)
    assert_valid(results)
    assert results["score"] == 61.0
    assert sum(t["max_score"] for t in results["tests"]) == 61.0
    hidden = [t for t in results["tests"] if t["visibility"] == "after_published"]
    assert hidden and all(t["status"] == "passed" for t in results["tests"])
    assert results["extra_data"] == {"seed": 7}  # a seed fixed in the zip is the one used


def test_each_submission_draws_a_fresh_seed(tmp_path):
    "Without --seed the zip fixes none: every submission gets its own, recorded in its results."
    z = build_autograder_zip(A, tmp_path / "fresh.zip", training=False)
    with zipfile.ZipFile(z) as f:
        assert json.loads(f.read(CONFIG))["seed"] is None
    seeds = []
    for k in range(2):
        root = gradescope_root(z, tmp_path / f"autograder{k}")
        (root / "submission" / "minibatch.ipynb").write_text("{ this is not json")
        results = run_autograder(root)
        assert_valid(results)
        seeds.append(results["extra_data"]["seed"])
    assert all(type(s) is int for s in seeds) and seeds[0] != seeds[1]


def test_broken_notebook_gets_zero_and_the_reason(autograder_zip, tmp_path):
    root = gradescope_root(autograder_zip, tmp_path / "autograder")
    (root / "submission" / "my work.ipynb").write_text("{ this is not json")
    results = run_autograder(root)
    assert_valid(results)
    assert results["score"] == 0 and results["tests"]
    assert all(t["status"] == "failed" for t in results["tests"] if t["max_score"])
    assert "not a notebook" in results["tests"][0]["output"]


def test_no_notebook_gets_zero_and_the_reason(autograder_zip, tmp_path):
    root = gradescope_root(autograder_zip, tmp_path / "autograder")
    (root / "submission" / "answers.py").write_text("print('hi')\n")
    results = run_autograder(root)
    assert_valid(results)
    assert results["score"] == 0
    assert results["tests"][0]["max_score"] == 61.0
    assert "no .ipynb file was submitted" in results["tests"][0]["output"]


def test_a_grader_that_cannot_start_still_writes_results(autograder_zip, tmp_path):
    root = gradescope_root(autograder_zip, tmp_path / "autograder")
    (root / "submission" / "minibatch.ipynb").write_bytes(A.solution.read_bytes())
    results = run_autograder(root, python=str(tmp_path / "no-such-python"))
    assert_valid(results)
    assert results["score"] == 0 and "could not start" in results["output"]


def test_with_data_the_zip_carries_the_declared_archives_and_setup_uses_them(tmp_path):
    "--with-data: each archive the assignment declares, verified; setup.sh's data step, offline."
    z = build_autograder_zip(A, tmp_path / "data.zip", training=False, include_data=True)
    assert A.data
    with zipfile.ZipFile(z) as f:
        for ds in A.data:
            assert hashlib.sha256(f.read(f"data/{ds.name}/{ds.file}")).hexdigest() == ds.sha256
        setup = f.read("setup.sh").decode()
        f.extractall(tmp_path / "source")
    step = setup[setup.index('mkdir -p "$ROOT/data"') :]  # the data step, in the zip's own kit
    assert f'-m autograder data --assignment "{A.name}"' in step
    step = step.replace('"$ROOT/venv/bin/python"', f'"{sys.executable}"')
    root, src = tmp_path / "root", tmp_path / "source"
    script = f'set -euo pipefail\nROOT="{root}"\nSRC="{src}"\n{step}'
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_DATA"}
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "fetching" not in r.stderr, r.stderr  # the zip's archives: nothing downloaded
    for ds in A.data:  # where run() looks: $ROOT/data, a folder per dataset
        assert {p.name for p in (root / "data" / ds.name).iterdir()} == {ds.file, *ds.files}


def test_with_data_but_no_verified_archive_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="run `autograder data`"):
        build_autograder_zip(
            A, tmp_path / "x.zip", training=False, include_data=True, data=tmp_path / "none"
        )
    assert not (tmp_path / "x.zip").exists()


def test_find_submission(tmp_path):
    sub = tmp_path / "submission"
    (sub / "nested").mkdir(parents=True)
    (sub / "nested" / "anything.ipynb").write_text("{}")
    assert find_submission(sub, "minibatch").name == "anything.ipynb"  # the only one
    (sub / ".ipynb_checkpoints").mkdir()
    (sub / ".ipynb_checkpoints" / "minibatch-checkpoint.ipynb").write_text("{}")
    assert find_submission(sub, "minibatch").name == "anything.ipynb"  # checkpoints ignored
    (sub / "scratch.ipynb").write_text("{}")
    with pytest.raises(SubmissionError, match="none is called minibatch.ipynb"):
        find_submission(sub, "minibatch")
    (sub / "minibatch.ipynb").write_text("{}")
    assert find_submission(sub, "minibatch") == sub / "minibatch.ipynb"
