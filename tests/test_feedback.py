"""feedback.md, feedback.html and curve.png: contents, escaping, self-containment, a real render.

The reports are the session's graded solution (with the MNIST run) and stub from conftest.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import os
import re
import shutil
import signal
import subprocess

import pytest

from autograder import feedback
from autograder.model import CheckResult, Report

PNG = b"\x89PNG\r\n\x1a\n"
SCRIPT = "<script>alert(1)</script>"
DATA_IMG = re.compile(r'<img\b[^>]*\bsrc="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def image(png: bytes):
    "Decode a PNG into an (h, w, channels) array of floats in [0, 1]."
    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(png), format="png")


@pytest.fixture(scope="module")
def reference(solution_report):
    "The reference pipeline's curve, as the MNIST run's test recorded it beside the student's."
    return solution_report.meta["training"]["reference"]


@pytest.fixture(scope="module")
def hostile(stub_report):
    "The stub's report with student-controlled text in its name, a message, and a note."
    r = Report.from_dict(stub_report.to_dict())
    ex = r.exercises["softmax"]
    bad = dataclasses.replace(
        ex.checks[0], message=f"raised ValueError: {SCRIPT}\n```\n<img src=x onerror=alert(2)>"
    )
    exercises = {**r.exercises, "softmax": dataclasses.replace(ex, checks=(bad, *ex.checks[1:]))}
    meta = {**r.meta, "notes": [f"cell 'x': {SCRIPT}"]}
    return Report(f"evil{SCRIPT}", exercises, meta)


def failing(r: Report) -> list[CheckResult]:
    return [c for e in r.exercises.values() for c in e.checks if not c.passed]


def test_reference_curve_is_the_graders_measure(reference):
    assert len(reference) == 2  # one point per epoch
    assert all(len(p) == 2 and 0 < p[0] < 1 for p in reference)
    assert reference[-1][1] > 0.93  # the reference clears the bar on validation too


def test_reference_curve_close_to_the_solutions(solution_report, reference):
    "Same data, model, epochs and measure: the solution's curve and the reference's agree closely."
    history = solution_report.meta["training"]["history"]
    assert len(history) == len(reference)
    assert abs(history[-1][1] - reference[-1][1]) < 0.02


def test_curve_png(solution_report, reference):
    t = solution_report.meta["training"]
    png = feedback.curve_png(t["history"], reference, t["threshold"])
    assert png.startswith(PNG)
    assert image(png).shape[:2] == (400, 1000)
    assert feedback.curve_png([], reference) is None  # training did not run: no figure
    nan = feedback.curve_png([[float("inf"), 0.1], [float("nan"), float("nan")]], None, 0.93)
    assert nan.startswith(PNG)  # a diverged run still draws


def test_markdown(solution_report, stub_report, reference):
    t = solution_report.meta["training"]
    curve = feedback.curve_png(t["history"], reference, t["threshold"])
    md = feedback.markdown(solution_report, curve)
    assert f"**Score: {solution_report.score:g} / {solution_report.max_score:g}**" in md
    assert "![" in md and "(curve.png)" in md
    assert f"Test accuracy {t['test_accuracy']:.4f} reaches the threshold" in md
    assert f"--seed {solution_report.meta['seed']}" in md
    md = feedback.markdown(stub_report)
    assert "curve.png" not in md and "no curve" in md
    for gid, e in stub_report.exercises.items():
        assert f"| {gid} | {e.score:g} | {e.max_score:g} |" in md
    for c in failing(stub_report):
        assert f"```text\n{c.message}\n```" in md
    assert "(hidden check)" in md


def test_markdown_fence_outlasts_backticks(hostile):
    md = feedback.markdown(hostile)
    assert "````text\nraised ValueError: " in md  # the message's ``` cannot close the block
    assert f"evil{SCRIPT}" not in md  # the name is escaped outside code blocks
    assert "evil\\<script\\>" in md


def test_html_contents(stub_report):
    page = feedback.html(stub_report)
    assert f"{stub_report.score:g} / {stub_report.max_score:g}" in page
    for gid in stub_report.exercises:
        assert f"<td>{gid}</td>" in page
    for c in failing(stub_report):
        assert f"<pre>{feedback.H.escape(c.message)}</pre>" in page
    assert '<span class="tag">hidden</span>' in page
    assert page.count("<details open>") == sum(
        1 for e in stub_report.exercises.values() if e.checks
    )


def test_html_escapes_student_text(hostile):
    page = feedback.html(hostile)
    assert "<script" not in page.lower()
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "evil&lt;script&gt;" in page  # the submission name, in the title and the header
    assert "&lt;img src=x onerror=alert(2)&gt;" in page


def test_html_self_contained(solution_report, reference):
    t = solution_report.meta["training"]
    curve = feedback.curve_png(t["history"], reference, t["threshold"])
    page = feedback.html(solution_report, curve)
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"@import|url\(|<link|<script|<iframe", page, re.I)
    assert re.findall(r'\bsrc="([a-z]+):', page) == ["data"]
    (b64,) = DATA_IMG.findall(page)
    assert base64.b64decode(b64) == curve
    assert "default-src 'none'" in page  # and the browser refuses anything outside


def test_write_feedback(solution_report, stub_report, reference, tmp_path):
    paths = feedback.write_feedback(solution_report, tmp_path, reference)
    assert [p.name for p in paths] == ["feedback.html", "feedback.md", "curve.png"]
    png = (tmp_path / "curve.png").read_bytes()
    assert png.startswith(PNG) and image(png).size > 0
    assert base64.b64decode(DATA_IMG.findall(paths[0].read_text())[0]) == png
    assert "(curve.png)" in paths[1].read_text()
    paths = feedback.write_feedback(stub_report, tmp_path)  # no run: the old curve goes
    assert [p.name for p in paths] == ["feedback.html", "feedback.md"]
    assert not (tmp_path / "curve.png").exists()
    assert not list(tmp_path.glob(".*"))  # no temporary files left


def chromium(*args, tmp) -> subprocess.CompletedProcess:
    "Run headless Chromium once, in its own process group so a hang takes its children with it."
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
        "--window-size=1200,1600",
    ]
    p = subprocess.Popen(
        [shutil.which("chromium"), *flags, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        pytest.fail("chromium did not finish within 60 s")
    return subprocess.CompletedProcess(p.args, p.returncode, out.decode(), err.decode())


def near(img, rgb: str, tol: float = 0.04) -> int:
    "How many pixels of img are within tol of the colour #rrggbb."
    import numpy as np

    want = np.array([int(rgb[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return int((np.abs(img[..., :3] - want).max(axis=-1) < tol).sum())


def test_renders_in_headless_chromium(solution_report, reference, tmp_path):
    if shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must render the feedback page: install Debian's `chromium` package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    html_path, _, png_path = feedback.write_feedback(solution_report, tmp_path / "fb", reference)
    url = html_path.resolve().as_uri()
    shot = tmp_path / "shot.png"
    run = chromium(f"--screenshot={shot}", url, tmp=tmp_path)
    assert shot.exists(), f"no screenshot (exit {run.returncode}):\n{run.stderr[-2000:]}"
    img = image(shot.read_bytes())
    assert img.shape[:2] == (1600, 1200)
    assert img[..., :3].std() > 0.05  # not blank
    assert near(img, "#1a7f37") > 500  # the green score bars: the inline CSS applied
    assert near(img, "#0969da") > 50  # the blue curve: the embedded PNG decoded and drew
    dom = chromium("--dump-dom", url, tmp=tmp_path).stdout
    score = f"{solution_report.score:g} / {solution_report.max_score:g}"
    assert f'<div class="total">{score}</div>' in dom
    (b64,) = DATA_IMG.findall(dom)
    assert base64.b64decode(b64) == png_path.read_bytes()
    assert image(base64.b64decode(b64)).shape[:2] == (400, 1000)
