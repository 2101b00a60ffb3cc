"""The README's user paths, run as written: every block marked `<!-- readme-test: NAME -->`.

Each line runs in bash from a scratch folder that links the kit's `solutions/` and `assignments/`,
with the kit's `.venv/bin` first on PATH, as a user who copy-pasted the block would run it.
Commands may fail the way the README says they do (a stub notebook fails its checks: exit 1);
they must not fail to run (exit 2 is a usage error, 127 a missing command).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"<!-- readme-test: (\w+) -->\s*```bash\n(.*?)```", re.S)


def blocks() -> dict[str, list[str]]:
    text = (ROOT / "README.md").read_text()
    out = {}
    for name, body in BLOCK.findall(text):
        lines = [ln for ln in body.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        out[name] = lines
    return out


def run_block(lines: list[str], cwd: Path, venv_on_path: bool = True) -> list[tuple[str, int, str]]:
    "Run a block; venv_on_path=False for blocks that activate .venv themselves, as users must."
    path = os.environ["PATH"].split(os.pathsep)
    path = [p for p in path if Path(p).resolve() != Path(sys.executable).parent.resolve()]
    if venv_on_path:
        path.insert(0, str(Path(sys.executable).parent))
    env = {**os.environ, "PATH": os.pathsep.join(path)}
    env.pop("VIRTUAL_ENV", None)
    env["AUTOGRADER_CHECK_CACHE"] = str(cwd / ".check-cache")
    # one shell for the block, so `cd` carries over; each line's status is written after it
    script = "".join(f'{ln}\necho "@@rc {i} $?"\n' for i, ln in enumerate(lines))
    res = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800
    )
    codes = dict(re.findall(r"^@@rc (\d+) (\d+)$", res.stdout, re.M))
    tail = res.stdout[-3000:] + res.stderr[-3000:]
    return [(ln, int(codes.get(str(i), -1)), tail) for i, ln in enumerate(lines)]


@pytest.fixture
def scratch(tmp_path):
    for d in ("solutions", "assignments", "scripts", ".venv"):
        (tmp_path / d).symlink_to(ROOT / d)
    return tmp_path


def test_the_readme_marks_the_user_paths():
    assert {"main", "student", "instructor", "ci"} <= set(blocks())


def test_ci_runs_the_readme_test_command():
    text = (ROOT / "README.md").read_text()
    command = re.search(r"```bash\n(\S[^\n#]*?)\s+# the tests\n```", text).group(1)
    ci = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln.strip()]
    assert ci[-1] == command


@pytest.mark.parametrize("name", ["main", "student", "instructor", "ci"])
def test_readme_block_runs_as_written(name, scratch):
    lines = blocks()[name]
    cwd = ROOT if name == "main" else scratch  # install.sh sets up the checkout it lives in
    for line, code, output in run_block(lines, cwd, venv_on_path=name != "instructor"):
        assert code in (0, 1), f"`{line}` exited {code}:\n{output}"
        if name == "main" or "grade" in line.split()[:2]:
            assert code == 0, f"`{line}` exited {code}:\n{output}"
    if name == "main":
        assert (ROOT / "out" / "demo" / "grades.csv").exists()
    if name == "ci":
        assert (scratch / "out" / "autograde" / "minibatch" / "report.json").exists()
        assert (scratch / "autograding_output" / "results.json").exists()
        assert re.search(r"^Points 0/\d+$", output, re.M), output[-2000:]
    if name == "student":
        assert (scratch / "student" / "minibatch.ipynb").exists()
    if name == "instructor":
        for f in (
            "out/grades.csv",
            "out/alice/report.json",
            "out/alice/feedback.html",
            "out/summary.md",
            "out/merged/grades.csv",
            "dist/gradescope.zip",
        ):
            assert (scratch / f).exists(), f
