"""Run an assignment's pytest tests against one submission, here in the trusted parent.

`run_tests` starts pytest on the assignment's `tests/` folder (and `tests/hidden/` when asked)
with a plugin that gives each test two fixtures:

- `student`: a proxy of the submission's names in the sandboxed worker. `student.f(x)`
  sends `x` there, calls the student's `f` and returns the answer as data, or a
  `ProbeError`; `student.run("a_scenario", ...)` runs one of the probes (scenarios) the
  worker knows on the student's names. Nothing here ever imports or runs the student's code.
- `reference`: the same interface on the reference implementation, run here, or replayed from
  answers recorded at release (the student bundle ships no reference).

and `seed`: a per-test seed for the test's random inputs, fixed for public tests (their answers
are recorded) and drawn from the grading seed for hidden ones; `device` ("cpu" or "cuda", from
`--device`), `data_path` (what `--data` named, or None: an assignment's own conftest.py turns it
into its data fixtures), and `record(key, value)`, which keeps a number or list in the report's
meta (a training run's curve). Markers: `points(n)` (required), `exercise(grade_id)` (default:
the file name, `test_exercise_1.py` → `exercise_1`), `training` (a long graded run: left out by
`--no-training` and never recorded for the bundle). A test under `tests/hidden/` is hidden. Each
test becomes one CheckResult named by its function (without `test_`) and its parametrize id.
A probe argument `testing.File(path)` binds that file read-only into the worker, and
`student.run(..., fresh=True)` asks a worker that has answered no other question.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import random
import re
import struct
import sys
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder import early, parsing, protocol
from autograder.model import CheckResult
from autograder.testing import CheckFailed, File, ProbeError

HIDDEN_DIR = "hidden"
PYTEST_ARGS = [
    "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:logging", "-p", "no:warnings",
    "-p", "no:faulthandler", "-p", "no:pastebin", "-p", "no:junitxml", "-p", "no:doctest",
    "-p", "no:debugging", "-p", "no:stepwise", "-p", "no:legacypath", "-p", "no:capture",
    "-p", "no:autograder",
    # it reports nothing we read, and its gc.collect() at exit costs 0.3-0.7 s per run
    "-p", "no:unraisableexception",
    # it swaps threading.excepthook per test: process-wide, and a batch's runs interleave
    "-p", "no:threadexception",
    "--import-mode=importlib", "--strict-markers", "-c", os.devnull,
]  # fmt: skip


class InstructorError(Exception):
    "A mistake in the assignment's own files: reported with the file and line, never as 0/0."


def derive_seed(seed: int, name: str) -> int:
    "A 31-bit seed for one use (`name`) of `seed` that tells nothing about `seed` itself."
    key = int(seed).to_bytes(16, "big", signed=True)
    digest = hashlib.blake2b(name.encode(), key=key, digest_size=8, person=b"ag-worker-seed")
    return int.from_bytes(digest.digest(), "big") & 0x7FFFFFFF


def call_key(name: str, args) -> str:
    "Where a reference answer is recorded: the call and a digest of its inputs' encoding."
    return f"{name}:{hashlib.sha256(protocol.encode(list(args))).hexdigest()[:32]}"


@dataclass
class Test:
    "What the plugin knows about the test running now."

    exercise: str
    name: str
    hidden: bool
    seed: int  # the seed of its inputs (the `seed` fixture)
    training: bool = False  # marked `training`: a long run, left out by --no-training

    __test__ = False  # not a test class, for pytest


class Student:
    "The submission's names, reached only through the worker: every answer is data."

    def __init__(self, grading: Grading, test: Test):
        self._g, self._t = grading, test

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, timeout=None: self.run("call", name, *args, timeout=timeout)

    def run(self, probe: str, *args, timeout: float | None = None, fresh: bool = False):
        """Run one of the worker's probes on the student's names: an answer, or a ProbeError.
        fresh: in a worker that has answered no other question (a visible result whose error
        text must not carry a hidden check's inputs)."""
        return self._g.ask(self._t, probe, args, timeout, fresh)


class Reference:
    "The reference implementation behind the same interface, computed here or replayed."

    def __init__(self, grading: Grading, test: Test):
        self._g, self._t = grading, test

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, timeout=None: self.run("call", name, *args)

    def run(self, probe: str, *args, timeout: float | None = None, keep: bool = False):
        """The reference's answer. keep: kept on disk across gradings (a reference training run
        computed once per machine), and None where there is no reference to run (the student
        bundle replays only what its public tests asked at release)."""
        if keep:
            return self._g.kept(self._t, probe, args)
        return self._g.expected(self._t, probe, args)


class Grading:
    """The plugin: fixtures for one submission, and each test's outcome as a CheckResult.

    `session` answers probes (grade.Session); `ref_ns` is the reference namespace or None;
    `recorded` maps call keys to answers (the student bundle), `record` collects them (release)."""

    def __init__(
        self,
        session,
        ref_ns: dict | None,
        probes: dict,  # probe name -> function, run here on the reference's names
        runtime_names,  # exercise -> names the worker watches while it runs
        seed: int,
        *,
        recorded: dict | None = None,
        record: dict | None = None,
        crashes_per_exercise: int = 2,
        probe_timeout: float | None = None,
        cache: dict | None = None,
        needs=None,  # exercise -> the cells its tests use (Assignment.needs)
        titles=None,  # exercise -> its title, for messages
        training: bool = True,  # run the tests marked `training`
        device: str = "cpu",
        data_path=None,
    ):
        self.session, self.ref_ns, self.probes = session, ref_ns, probes
        self.needs, self.titles = needs or (lambda gid: (gid,)), titles or (lambda gid: gid)
        self.training, self._device, self._data = training, device, data_path
        self.records: dict = {}  # what tests kept with `record`, for the report's meta
        self.runtime_names, self.grading = runtime_names, seed
        self.recorded, self.recording = recorded, record
        self.crashes_per_exercise, self.probe_timeout = crashes_per_exercise, probe_timeout
        self.results: list[CheckResult] = []
        self.seen_forbidden: dict = {}
        self.stubs: dict = {}
        self.errors: list[str] = []  # the instructor's mistakes, with file and line
        self.crashes: dict = {}
        self.tests_dir: Path | None = None
        self.cache = cache if cache is not None else {}  # reference answers, shared by a batch
        self.asked: dict = {}  # the student's answers, by call: a question is asked once
        # the first question asked of the worker, as autograder.early keeps it for the next
        # grading to ask early (None: hidden, or not plain data); False until one is asked
        self.first: dict | None | bool = False

    # --- pytest hooks --------------------------------------------------------------------------

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "points(n): the points a test is worth (required)")
        config.addinivalue_line("markers", "exercise(grade_id): the exercise a test belongs to")
        config.addinivalue_line(
            "markers", "training: a long graded run (left out by --no-training, never recorded)"
        )

    def pytest_collection_modifyitems(self, session, config, items):
        # training runs first: the first asks for a fresh worker, and the one that has just run
        # the cells still is one, so no second worker (a second torch import) is started for it
        items.sort(key=lambda it: it.get_closest_marker("training") is None)
        for item in items:
            if item.get_closest_marker("points") is None:
                path, line, _ = item.location
                self.errors.append(
                    f"{path}:{(line or 0) + 1}: test {item.name} has no @pytest.mark.points(n); "
                    "every graded test says what it is worth"
                )

    def pytest_collectreport(self, report):
        if report.failed:
            self.errors.append(f"{report.nodeid}: could not be collected:\n{report.longreprtext}")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        fn = getattr(item, "obj", None)
        if getattr(fn, "is_hypothesis_test", False):  # @given: its examples from our seed
            # set as the test starts, not at collection: a batch's other gradings share the
            # module (and this function) and run while this one waits on its worker
            fn._hypothesis_internal_use_seed = self.test_of(item).seed
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        rep = outcome.get_result()
        if rep.when == "call" or (rep.when == "setup" and rep.outcome != "passed"):
            self._result(item, call, rep)

    def _result(self, item, call, rep):
        t = self.test_of(item)
        m = item.get_closest_marker("points")
        points = float(m.args[0]) if m and m.args else 0.0
        if rep.skipped:
            return
        passed, msg = rep.passed, ""
        if not passed:
            e = call.excinfo.value if call.excinfo else None
            if isinstance(e, (CheckFailed, _Failed)):
                msg = str(e)
            elif isinstance(e, AssertionError):
                msg = _assertion_text(e)
            else:  # the test itself broke: say where, for the instructor
                path, line = _where(call.excinfo, item)
                err = f"{type(e).__name__}: {str(e)[:300]}"
                self.errors.append(f"{path}:{line}: {item.name} raised {err}")
                msg = (
                    f"the check could not judge the answer ({err}, in the instructor's "
                    f"test {path}:{line})"
                )
        self.results.append(CheckResult(t.exercise, t.name, passed, points if passed else 0.0,
                                        points, t.hidden, msg))  # fmt: skip

    # --- fixtures ------------------------------------------------------------------------------

    @pytest.fixture
    def student(self, request):
        t = self.test_of(request.node)
        why = self.session.cell_error.get(t.exercise)
        if why:
            raise _Failed(why)
        broken = [g for g in self.needs(t.exercise) if g in self.session.cell_error]
        if broken:
            raise _Failed(
                f"the {self.titles(t.exercise)} needs your {', '.join(broken)} cell(s), which "
                "did not run; fix those first"
            )
        return Student(self, t)

    @pytest.fixture
    def device(self):
        "Where a training run's tensors go: 'cpu' or 'cuda' (`--device`)."
        return self._device

    @pytest.fixture
    def data_path(self):
        "What `--data` named (a folder or file), or None: the data module's default."
        return self._data

    @pytest.fixture
    def record(self):
        "record(key, value): keep data (numbers, lists, dicts of them) in the report's meta."

        def keep(key: str, value):
            self.records[str(key)] = value

        return keep

    @pytest.fixture
    def reference(self, request):
        return Reference(self, self.test_of(request.node))

    @pytest.fixture
    def seed(self, request):
        return self.test_of(request.node).seed

    @pytest.fixture
    def grading_seed(self):
        "The seed that replays the whole grading run (`--seed`), for messages."
        return self.grading

    # --- the two sides ------------------------------------------------------------------------

    def test_of(self, item) -> Test:
        m = item.get_closest_marker("exercise")
        path = Path(str(item.path))
        exercise = m.args[0] if m and m.args else path.stem.removeprefix("test_")
        hidden = (
            HIDDEN_DIR in path.relative_to(self.tests_dir).parts[:-1] if self.tests_dir else False
        )
        name = item.name.removeprefix("test_")
        fixed = zlib.crc32(f"{exercise}::{name}".encode())
        seed = derive_seed(self.grading, f"{exercise}::{name}") if hidden else fixed
        return Test(exercise, name, hidden, seed, item.get_closest_marker("training") is not None)

    def rng_of(self, t: Test, key: str) -> int:
        """The seed the probe's RNG starts from, the same on both sides: from the call itself, so
        two tests asking the same question share one answer (the worker runs it once). Public:
        fixed (recorded answers); hidden: a one-way function of the grading seed."""
        return derive_seed(self.grading, key) if t.hidden else zlib.crc32(key.encode()) & 0x7FFFFFFF

    def ask(self, t: Test, probe: str, args, timeout, fresh: bool = False):
        "The student's answer to one probe (asked once per submission, unless one test asks twice)."
        key = call_key(_label(probe, args), _keyed(args))
        rng = self.rng_of(t, key)
        done = self.asked.get((t.exercise, key, rng))
        if done is not None and done[0] != t.name:
            return done[1]
        if self.first is False:
            limit, names = self._limits(t, timeout)
            self.first = None if t.hidden else early.record(
                probe, args, rng, names, limit, self.needs(t.exercise)
            )  # fmt: skip
        files = [a.path for a in args if isinstance(a, File)]
        if files or fresh:
            try:
                inside = dict(zip(files, self.session.prepare(files, fresh)))
            except Exception as e:  # WorkerGone: the worker could not start again
                return ProbeError(getattr(e, "reason", str(e)), "WorkerGone", t.exercise)
            args = tuple(inside[a.path] if isinstance(a, File) else a for a in args)
        got = self._ask(t, probe, args, timeout, rng)
        self.asked[t.exercise, key, rng] = (t.name, got)
        return got

    def _ask(self, t: Test, probe: str, args, timeout, rng: int):
        gid, s = t.exercise, self.session
        if self.crashes.get(gid, 0) >= self.crashes_per_exercise:
            return ProbeError(
                f"not run: earlier checks of {gid!r} crashed the worker {self.crashes[gid]} times",
                "WorkerGone",
                gid,
            )
        if s.expired():
            return ProbeError(s.expired_reason, "WorkerGone", gid)
        timeout, names = self._limits(t, timeout)
        got, seen = s.ask(probe, list(args), rng, names, timeout)
        if isinstance(got, ProbeError):
            got.exercise = gid
            if got.kind == "WorkerGone":
                self.crashes[gid] = self.crashes.get(gid, 0) + 1
            if got.kind == "NotImplementedError":
                self.stubs[gid] = got.message
        self.seen_forbidden.setdefault(gid, set()).update(_watched(seen, names))
        return got

    def _limits(self, t: Test, timeout) -> tuple[float, list[str]]:
        "A probe's time limit, and the names the worker watches while it answers."
        timeout = timeout or 20.0
        if self.probe_timeout and not t.training:
            timeout = min(timeout, self.probe_timeout)
        return timeout, self.runtime_names(t.exercise)

    def kept(self, t: Test, probe: str, args):
        "The reference's answer, kept on disk across gradings; None without a reference."
        if self.ref_ns is None:
            return None
        import platformdirs
        import torch

        key = call_key(_label(probe, args), _keyed(args))
        rng = self.rng_of(t, key)
        src = [Path(f).read_bytes() for f in self.ref_files]  # a changed reference: a new answer
        digest = hashlib.sha256(repr((key, rng, torch.__version__, src)).encode()).hexdigest()
        f = Path(platformdirs.user_cache_dir("autograder")) / "kept" / f"{digest[:32]}.bin"
        with contextlib.suppress(OSError, ValueError, struct.error):
            return protocol.unframe(f.read_bytes())
        value = self.expected(t, probe, args)
        with contextlib.suppress(OSError, ValueError):  # unwritable: computed again next time
            from autograder.report import atomic_write

            atomic_write(f, protocol.encode(value))
        return value

    ref_files: tuple = ()  # the reference's source files (what a kept answer depends on)

    def expected(self, t: Test, probe: str, args):
        "The reference's answer to the same probe, with the same RNG seed the worker got."
        key = call_key(_label(probe, args), _keyed(args))
        args = tuple(a.path if isinstance(a, File) else a for a in args)
        rng = self.rng_of(t, key)
        if self.ref_ns is None:
            if self.recorded is None or key not in self.recorded:
                raise InstructorError(
                    f"no recorded answer for {probe}{_short(args)} in {t.exercise}::{t.name}: "
                    "the student bundle replays only what its public tests asked at release "
                    "(a public test's inputs must not depend on the grading seed)"
                )
            return self.recorded[key]
        if (key, rng) not in self.cache:
            self.cache[key, rng] = self._compute(probe, args, rng)
        value = self.cache[key, rng]
        if self.recording is not None and not t.hidden:
            self.recording[key] = value
        return value

    def _compute(self, probe: str, args, rng: int):
        fn = self.probes.get(probe)
        if fn is None:
            raise InstructorError(f"unknown probe {probe!r}; known: {', '.join(self.probes)}")
        import torch

        with torch.random.fork_rng():
            state = random.getstate()
            seed_torch(torch, rng)
            random.seed(rng)
            try:
                with quiet():  # a reference that prints (a training loop's progress)
                    return fn(self.ref_ns, *args)
            finally:
                random.setstate(state)


class ReferenceSession:
    """Answers the student's side with the reference too, here: for recording the bundle's
    answers and for proving a folder's tests pass on the reference (no worker, no student)."""

    cell_error: dict = {}
    expired_reason = ""

    def __init__(self, ns: dict, probes: dict):
        self.ns, self.probes = ns, probes

    def expired(self) -> bool:
        return False

    def prepare(self, files, fresh):
        return list(files)  # the reference reads them where they are

    def ask(self, probe, args, seed, forbid, timeout):
        import copy

        import torch

        args = copy.deepcopy(args)  # as the worker gets its own copy: an in-place change stays here
        with torch.random.fork_rng():
            seed_torch(torch, seed)
            random.seed(seed)
            try:
                with quiet():
                    return self.probes[probe](self.ns, *args), []
            except Exception as e:
                return ProbeError(f"{type(e).__name__}: {e}", type(e).__name__), []


class _ThreadStdout(io.TextIOBase):
    "sys.stdout that sends one thread's writes elsewhere while it is quiet; others are untouched."

    def __init__(self, real):
        self.real, self.local = real, threading.local()

    def write(self, text):
        sink = getattr(self.local, "sink", None)
        return (sink or self.real).write(text)

    def flush(self):
        sink = getattr(self.local, "sink", None)
        return (sink or self.real).flush()

    def __getattr__(self, name):
        return getattr(self.real, name)


_STDOUT_LOCK = threading.Lock()


def seed_torch(torch, seed: int):
    """torch.manual_seed, less the traceback it records for each accelerator not yet started
    (a millisecond a call under pytest's deep stack, seventy calls a submission)."""
    torch.random.default_generator.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


@contextlib.contextmanager
def quiet():
    """Swallow what this thread prints (pytest, a reference's training loop) without touching what
    other threads print: a batch's progress lines and validate's reports go on (unlike
    contextlib.redirect_stdout, which swaps sys.stdout for every thread)."""
    with _STDOUT_LOCK:
        if not isinstance(sys.stdout, _ThreadStdout):
            sys.stdout = _ThreadStdout(sys.stdout)
        out = sys.stdout
    before = getattr(out.local, "sink", None)
    out.local.sink = io.StringIO()
    try:
        yield
    finally:
        out.local.sink = before


class _Failed(CheckFailed):
    "A test that cannot run for a reason the student must fix (its cell did not run)."


def _keyed(args) -> list:
    "The arguments as a call key sees them: a File by its path outside."
    return [f"file:{a.path}" if isinstance(a, File) else a for a in args]


def _watched(seen, names: list[str]) -> list[str]:
    "What the worker says it saw, kept only where it names something we watch (it is visible)."
    if not isinstance(seen, list):
        return []
    return [
        n
        for n in seen[:20]
        if isinstance(n, str)
        and len(n) < 120
        and (
            re.fullmatch(r"[\w.]+", n)
            and any(n == w or n.startswith(w + ".") for w in names)
            or n.startswith("threading (a thread ran")
            or n.startswith("torch.autograd (a gradient")
            and "torch.autograd" in names
        )
    ]


def _label(probe: str, args) -> str:
    return f"call:{args[0]}" if probe == "call" and args and isinstance(args[0], str) else probe


def _short(args) -> str:
    text = repr(tuple(a for a in args if isinstance(a, (str, int, float))))
    return text if len(text) < 80 else text[:77] + "..."


def _assertion_text(e: AssertionError) -> str:
    "A plain `assert` in an instructor's test: its message, as pytest rewrote it."
    text = str(e).strip() or "an assertion failed"
    return text[:2000]


def _where(excinfo, item) -> tuple[str, int]:
    "The innermost frame of the traceback that is in the instructor's test file."
    path = str(item.path)
    line = item.location[1] + 1
    if excinfo is not None:
        for entry in excinfo.traceback:
            if str(entry.path) == path:
                line = entry.lineno + 1
    return item.location[0], line


def _hypothesis_profile():
    """Hypothesis in graded tests: no example database (nothing kept between students), no
    deadline (each example is a round trip to the worker), few examples, one failure reported
    (the smallest), no health checks about slow or fixture-using tests."""
    try:
        from hypothesis import HealthCheck, Phase, settings
    except ImportError:  # tests that do not use Hypothesis need not have it
        return
    if "autograder" not in settings._profiles:
        settings.register_profile(
            "autograder",
            database=None,
            deadline=None,
            max_examples=30,
            report_multiple_bugs=False,
            print_blob=False,
            suppress_health_check=list(HealthCheck),
            # no explain phase: it reruns the test to annotate which inputs mattered (seconds)
            phases=(Phase.explicit, Phase.generate, Phase.shrink),
        )
    settings.load_profile("autograder")


# pytest is not thread-safe (its compile of sources, its global hooks): one run at a time per
# process holds LOCK, and lets go of it only while it waits on its worker (grade.Session), so the
# threads of a batch overlap their workers' time (worker starts, cells, probes, training runs).
LOCK = parsing.LOCK  # shared with our own parses: CPython 3.11's ast.parse is not thread-safe


def run_tests(tests_dir: Path, grading: Grading, hidden: bool, select: list[str] | None = None):
    """Run the public (and hidden) tests of one assignment; fills `grading.results`. `select`:
    only these files or node ids, relative to tests_dir (`test_softmax.py`,
    `hidden/test_sampler.py::test_single_item`)."""
    with LOCK:
        return _run_tests(tests_dir, grading, hidden, select)


def collect(tests_dir: Path, hidden: bool) -> list[Test]:
    "The tests of an assignment without running them: exercise, name, visibility, and points."
    key = (str(tests_dir), hidden)
    if key not in _COLLECTED:
        g = Grading(None, None, {}, lambda gid: [], 0)
        found: list = []

        class Items:
            @pytest.hookimpl(trylast=True)
            def pytest_collection_modifyitems(self, items):
                for item in items:
                    m = item.get_closest_marker("points")
                    points = float(m.args[0]) if m and m.args else 0.0
                    found.append((g.test_of(item), points))

        with LOCK:
            g.tests_dir = tests_dir
            _pytest(tests_dir, [g, Items()], hidden, ["--collect-only"])
        if g.errors:
            raise InstructorError("\n".join(g.errors))
        _COLLECTED[key] = found
    return list(_COLLECTED[key])


_COLLECTED: dict = {}


def _run_tests(tests_dir, grading, hidden, select):
    grading.tests_dir = tests_dir
    extra = [] if grading.training else ["-m", "not training"]
    code = _pytest(tests_dir, [grading], hidden, extra, select)
    grading.results.sort(key=lambda r: r.hidden)  # public checks first, as in every report
    if code not in (0, 1, 5) and not grading.errors:
        grading.errors.append(f"pytest could not run the tests in {tests_dir} (exit code {code})")
    return grading


def _pytest(tests_dir: Path, plugins: list, hidden: bool, extra: list[str], select=None) -> int:
    where = [str(tests_dir / s) for s in select] if select else [str(tests_dir)]
    args = [*where, *PYTEST_ARGS, "--rootdir", str(tests_dir), *extra]
    if not hidden:
        args += ["--ignore", str(tests_dir / HIDDEN_DIR)]
    _hypothesis_profile()
    before = set(sys.modules)
    sys.path.insert(0, str(tests_dir))  # a hidden test may import its public file's hints
    try:
        with quiet():
            return pytest.main(args, plugins=plugins)
    finally:
        sys.path.remove(str(tests_dir))
        for name in set(sys.modules) - before:  # another assignment may have a test_softmax too
            f = getattr(sys.modules[name], "__file__", None) or ""
            if f.startswith(str(tests_dir)):
                del sys.modules[name]
