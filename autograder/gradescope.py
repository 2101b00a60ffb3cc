"""The Gradescope autograder: a zip to upload, and the code that runs in Gradescope's container.

Gradescope (https://gradescope-autograders.readthedocs.io/en/latest/specs/) unpacks the zip into
`/autograder/source`, runs its top-level `setup.sh` once as root while building the image, and
then, for every submission, runs `run_autograder` (copied to `/autograder/run_autograder`) with the
student's files in `/autograder/submission/`. The score is whatever `/autograder/results/
results.json` says. The container is the instructor's, so the zip holds the whole grader: the
package, the assignment's tests (hidden ones too, in `tests/NAME/`), `reference/` and the released
notebook, but not `solutions/`.

Both scripts take their root from $AUTOGRADER_ROOT (default `/autograder`) and `run_autograder`
its Python from $AUTOGRADER_PYTHON (default the venv `setup.sh` makes), so the same zip runs in a
fake layout on any machine. `run_autograder` always leaves a results.json: a submission that cannot
be graded gets zero and the reason, never a silent failure.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import time
import zipfile
from pathlib import Path

from autograder import assignment as asg
from autograder.report import atomic_write

CONFIG = "autograder_config.json"
DATA = "data"  # the data folder, in the zip and under the root: one folder per declared dataset
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
# left out of the package copy: caches, recorded answers (the zip grades against the live
# reference, with hidden checks) and the bug bank (it is for `autograder validate`)
LEFT_OUT = {"__pycache__", "expected.bin", "bank"}
EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed member times: the same kit gives the same zip

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (choose an Ubuntu 22.04
# or 24.04 base image). It makes a venv with CPU torch and the kit's dependencies and puts the
# datasets its assignment declares, checked against their pinned sha256, where run_autograder
# expects them.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$(cd "$(dirname "$0")" && pwd)"
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
  # bubblewrap isolates the student's worker where the container allows it (it falls back if not)
  apt-get install -y -qq bubblewrap >/dev/null || true
fi
python3 -m venv "$ROOT/venv"
# CPU torch first, from PyTorch's CPU index: PyPI's default torch wheel is a multi-GB CUDA build
"$ROOT/venv/bin/pip" install -q "{torch_spec}" --index-url {torch_index}
"$ROOT/venv/bin/pip" install -q -r "$SRC/requirements.txt"
# the declared data: the archives in this zip if it has them, else downloaded; verified by sha256
# either way
mkdir -p "$ROOT/data"
if [ -d "$SRC/data" ]; then cp -R "$SRC/data/." "$ROOT/data/"; fi
cd "$SRC" && "$ROOT/venv/bin/python" -m autograder data --assignment "{assignment}" \
  --data "$ROOT/data"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission. It grades the notebook in $ROOT/submission/ with the
# hidden checks and writes $ROOT/results/results.json, which must exist whatever happens.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PY="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
SRC="$ROOT/source"
mkdir -p "$ROOT/results"
rm -f "$ROOT/results/results.json"
cd "$SRC" && PYTHONPATH="$SRC${PYTHONPATH:+:$PYTHONPATH}" \
  "$PY" -m autograder.gradescope run --root "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
  MSG="The autograder could not start (exit status $status), so this submission was not graded."
  MSG="$MSG This is not your fault: please tell your instructor."
  FMT='{"score": 0, "output": "%s", "visibility": "visible", "stdout_visibility": "hidden",'
  printf "$FMT"' "tests": []}\n' "$MSG" > "$ROOT/results/results.json"
fi
exit 0
"""


class SubmissionError(Exception):
    "The submission folder does not hold one notebook we can grade; the message says why."


def _requirements() -> str:
    "The student bundle's runtime requirements, less torch (setup.sh installs the CPU build)."
    from autograder.bundle import REQUIREMENTS

    lines = [ln for ln in REQUIREMENTS.splitlines() if ln and not ln.startswith("torch")]
    return "\n".join(lines) + "\n"


def max_points(name: str, training: bool = True) -> float:
    "What a perfect submission scores: every public and hidden check (training runs if asked)."
    from autograder import assignment
    from autograder.runner import collect

    a = assignment.get(name)
    tests = collect(a.tests, hidden=True)
    return round(sum(points for t, points in tests if training or not t.training), 4)


def _torch_spec() -> str:
    import torch

    return f"torch=={torch.__version__.split('+')[0]}"


def _members(a: asg.Assignment) -> list[tuple[str, Path]]:
    "(name in the zip, file here) for the package, the reference and the released notebook."
    root = asg.ROOT
    out = []
    for top in ("autograder", "reference"):
        for p in sorted((root / top).rglob("*")):
            rel = p.relative_to(root)
            if p.is_file() and not LEFT_OUT & set(rel.parts) and p.suffix != ".pyc":
                out.append((rel.as_posix(), p))
    if not a.release.exists():
        raise FileNotFoundError(f"{a.release} is missing: run `autograder release` first")
    out.append((f"assignments/{a.name}/{a.notebook}", a.release))
    out.append((f"assignments/{a.name}/assignment.toml", a.folder / "assignment.toml"))
    if a.probes_file is not None:
        out.append((f"assignments/{a.name}/probes.py", a.probes_file))
    # the assignment's tests, hidden ones included (the container is the instructor's); no
    # solutions/: the grader finds them in tests/NAME/ when there is no solutions folder
    for p in sorted(a.tests.rglob("*.py")):
        if "__pycache__" not in p.parts:
            out.append((f"tests/{a.name}/{p.relative_to(a.tests).as_posix()}", p))
    return out


def _add(z: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    z.writestr(info, data)


def build_autograder_zip(
    assignment: asg.Assignment | str,
    dest: Path,
    *,
    training: bool = True,
    seed: int | None = None,
    torch_spec: str | None = None,
    include_data: bool = False,
    data: Path | None = None,
) -> Path:
    """Write the Gradescope autograder zip for an assignment to dest (a .zip path or a folder).

    training: grade the training runs too (setup.sh fetches the declared data either way).
    seed: a seed for randomized hidden checks fixed in the zip, so a regrade gives the same
    result (default: none; each submission draws a fresh one, recorded in its results.json's
    extra_data and stdout, which students do not see). A fixed seed is shared by every
    submission, and once one student learns it the hidden inputs are known to all.
    torch_spec: the pip requirement for torch (default: this machine's version, CPU wheel).
    include_data: put the verified archive of each dataset the assignment declares (from the
    data folder `data`, or the cache) in the zip, so the image builds without downloading them.
    """
    a = asg.get(assignment) if isinstance(assignment, str) else assignment
    dest = Path(dest)
    if dest.suffix != ".zip":
        dest = dest / f"{a.name}-gradescope.zip"
    config = {
        "assignment": a.name,
        "training": training,
        "seed": None if seed is None else int(seed),
        "max_score": max_points(a.name, training),
    }
    setup = SETUP_SH.replace("{torch_spec}", torch_spec or _torch_spec())
    setup = setup.replace("{torch_index}", TORCH_INDEX).replace("{assignment}", a.name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    try:
        with zipfile.ZipFile(tmp, "w") as z:
            _add(z, "setup.sh", setup.encode(), executable=True)
            _add(z, "run_autograder", RUN_AUTOGRADER.encode(), executable=True)
            _add(z, CONFIG, (json.dumps(config, indent=2) + "\n").encode())
            _add(z, "requirements.txt", _requirements().encode())
            for name, path in _members(a):
                _add(z, name, path.read_bytes())
            if include_data:
                from autograder import data as datasets

                for ds in a.data:  # under data/NAME/, as setup.sh lays out the data folder
                    archive = datasets.verified_archive(ds, data)
                    _add(z, f"{DATA}/{ds.name}/{ds.file}", archive.read_bytes())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def find_submission(folder: Path, name: str) -> Path:
    "The notebook to grade: the only .ipynb submitted, or the one called NAME.ipynb."
    want = f"{name}.ipynb"
    found = sorted(
        p
        for p in Path(folder).rglob("*.ipynb")
        if p.is_file() and not {".ipynb_checkpoints", "__MACOSX"} & set(p.parts)
    )
    if len(found) == 1:
        return found[0]
    named = [p for p in found if p.name == want]
    if named:
        return min(named, key=lambda p: (len(p.parts), str(p)))
    if not found:
        raise SubmissionError(f"no .ipynb file was submitted: upload your notebook {want}")
    listed = ", ".join(p.relative_to(folder).as_posix() for p in found[:5])
    raise SubmissionError(
        f"{len(found)} notebooks were submitted ({listed}) and none is called {want}: "
        f"submit just your {want}"
    )


def failure_results(reason: str, max_score: float = 0.0, seconds: float = 0.0) -> dict:
    "A Gradescope results.json for a submission that could not be graded: zero, and why."
    return {
        "score": 0.0,
        "execution_time": round(seconds),
        "output": f"Not graded: {reason}",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": "submission",
                "score": 0.0,
                "max_score": max_score,
                "status": "failed",
                "output": reason,
                "visibility": "visible",
            }
        ],
    }


def run(root: Path | None = None) -> dict:
    "Grade the submission under root (a Gradescope layout) and write results.json; never raises."
    root = Path(root or os.environ.get("AUTOGRADER_ROOT") or "/autograder")
    t0 = time.perf_counter()
    cfg: dict = {}
    try:
        cfg = json.loads((root / "source" / CONFIG).read_text(encoding="utf-8"))
        path = find_submission(root / "submission", cfg["assignment"])
        from autograder import report
        from autograder.grade import Options, grade_notebook

        data = Path(os.environ.get("AUTOGRADER_DATA") or root / DATA)
        seed = cfg.get("seed")  # None: a fresh seed for this submission
        opts = Options(seed=seed, assignment=cfg["assignment"], data=data)
        r = grade_notebook(path, hidden=True, training=cfg["training"], options=opts)
        results = json.loads(report.gradescope_json(r))
        # the seed that replays this grading, for the instructor (stdout is hidden from students)
        results["extra_data"] = {"seed": r.meta.get("seed")}
        print(f"grading seed: {r.meta.get('seed')}")
        results["execution_time"] = round(time.perf_counter() - t0)
    except SubmissionError as e:
        results = failure_results(str(e), cfg.get("max_score", 0.0), time.perf_counter() - t0)
    except Exception as e:  # a grader problem: still a results.json, and the details in stdout
        import traceback

        traceback.print_exc()
        reason = (
            f"the autograder failed ({type(e).__name__}: {str(e)[:300]}). This is not your "
            "fault: please tell your instructor"
        )
        results = failure_results(reason, cfg.get("max_score", 0.0), time.perf_counter() - t0)
    atomic_write(root / "results" / "results.json", json.dumps(results, indent=2) + "\n")
    print(results["output"])
    return results


def main(argv: list[str] | None = None) -> int:
    "`python -m autograder.gradescope run [--root DIR]`: what run_autograder calls."
    p = argparse.ArgumentParser(prog="python -m autograder.gradescope")
    sub = p.add_subparsers(dest="verb", required=True)
    sp = sub.add_parser("run", help="grade /autograder/submission into /autograder/results")
    sp.add_argument("--root", type=Path, help="the Gradescope root (default $AUTOGRADER_ROOT)")
    args = p.parse_args(argv)
    run(args.root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
