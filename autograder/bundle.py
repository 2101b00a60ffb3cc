"""The student bundle: released notebooks, public checks and what `pytest` needs, nothing more.

No solutions, no reference, no hidden checks: public checks there compare against inputs and answers
recorded here, at release time, by the reference.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from autograder import oracle
from autograder.assignment import Assignment

PACKAGE = Path(__file__).resolve().parent
# what a student may have of the package (an allow-list: a new module stays out until it is
# named here): grading one's own notebook, `check`, the pytest plugin, the self-check cells and
# the worker. Left out: release, bundle, validate, demo, new, gradescope, nbgrader export, the
# class summary and the bank helpers (instructors' tools).
STUDENT_MODULES = (
    "__init__.py", "__main__.py", "assignment.py", "batch.py", "check.py", "classroom.py",
    "cli.py", "compare.py", "data.py", "escape.py", "extract.py", "feedback.py", "forbidden.py",
    "grade.py", "hints.py", "model.py", "oracle.py", "parsing.py", "policy.py", "probes.py",
    "protocol.py", "pytest_plugin.py", "report.py", "runner.py", "sandbox.py", "scoring.py",
    "selfcheck.py", "template.py", "testing.py", "worker.py", "zygote.py",
)  # fmt: skip

CONFTEST = '''"""Loads the autograder's pytest plugin from this folder for plain `pytest`."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest_plugins = [] if "autograder.pytest_plugin" in sys.modules else ["autograder.pytest_plugin"]
'''
PYTEST_INI = """[pytest]
autograder_collect = true
autograder_assignment = {name}
testpaths = {notebook}
addopts = -p no:cacheprovider
"""
README = """# {name}: student bundle

Work in `{notebook}`: replace each `raise NotImplementedError()` with your code.

Open it in Jupyter started in this folder (`jupyter lab` here), so that the notebook's first cell
finds the kit's `autograder` package next to it.

Check your work (the public checks, and the graded training run if the assignment has one):

    pip install -r requirements.txt      # once (CPU torch: pip install torch first if you prefer)
    pytest                               # one line per check
    python -m autograder check {notebook}   # a table, and what to fix next

`assignments/{name}/` holds the untouched released notebook: the grader takes the locked cells from
there, so edits to locked cells do not count. Hidden checks run when your submission is graded.
"""
REQUIREMENTS = "\n".join(
    [
        "torch>=2.2,<3",
        "safetensors>=0.4",
        "nbformat>=5.9",
        "fastcore>=1.5",
        "platformdirs>=3",
        "pytest>=7.4",
        "hypothesis>=6.80,<7",
        "numpy",
        "jupyterlab",
        "ipykernel",
        "",
    ]
)


def build_bundle(a: Assignment, dest: Path) -> Path:
    "Write the bundle for assignment a into dest (replacing what was there)."
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    (dest / "autograder").mkdir()
    for name in STUDENT_MODULES:
        shutil.copy2(PACKAGE / name, dest / "autograder" / name)
    (dest / "assignments" / a.name).mkdir(parents=True)
    shutil.copy2(a.release, dest / "assignments" / a.name / a.notebook)
    shutil.copy2(a.folder / "assignment.toml", dest / "assignments" / a.name / "assignment.toml")
    if a.probes_file is not None:  # the worker runs them on the student's names
        shutil.copy2(a.probes_file, dest / "assignments" / a.name / "probes.py")
    shutil.copy2(a.release, dest / a.notebook)
    # the public tests only: an allow-list of the folder's top-level test files and helpers
    public = dest / "tests" / a.name
    public.mkdir(parents=True)
    for f in sorted(a.tests.glob("*.py")):
        shutil.copy2(f, public / f.name)
    oracle.record(a.tests, dest / "autograder" / "expected.bin", a.name)
    (dest / "conftest.py").write_text(CONFTEST)
    (dest / "pytest.ini").write_text(PYTEST_INI.format(name=a.name, notebook=a.notebook))
    (dest / "README.md").write_text(README.format(name=a.name, notebook=a.notebook))
    (dest / "requirements.txt").write_text(REQUIREMENTS)
    from autograder.check import full_points

    points = {a.name: full_points(a.name)}  # the bundle has no hidden checks to count
    (dest / "autograder" / "points.json").write_text(json.dumps(points))
    return dest
