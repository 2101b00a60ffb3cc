# ruff: noqa: E501
"""Hostile submissions: one row per situation, what it attacks and what the grader must do about it.

A `Case` is a replacement for some exercise cells of the solution notebook (`cells`), a raw file
(`raw`, for notebooks that are not notebooks), or an edit of the solution's cell list (`edit`).
Cases that attack different exercises and cannot interfere share a notebook (`notebook`); every
other case gets its own. `build.py` writes the notebooks, `test_hostile.py` grades and judges them.

Placeholders filled in at build time (plain text replacement, so sources keep their braces):
  @OUT@         the batch's output folder
  @MARKER@      argv[0] of every process the fork bomb starts, unique per test session
  @PARENT_PID@  the pid of the grading (pytest) process: the kill-the-parent case never kills it
  @REPO@        the repository root (where `reference/` lives)
  @HOME@        the grader's home (where ~/.cache/autograder/mnist lives)
  @SECRET_VAR@  the name of an environment variable only the grader's process has
"""

from __future__ import annotations

from dataclasses import dataclass, field
from textwrap import dedent

ALL = "*"  # target: the whole notebook (a file that cannot be graded at all)

# The lesson's correct answer, for cases whose hostile part must not cost a correct exercise.
SOFTMAX_OK = """
def softmax(x):
    e = (x - x.max(dim=1, keepdim=True).values).exp()
    return e / e.sum(dim=1, keepdim=True)
"""

# Grader bugs this corpus found (bwrap exit statuses, CPU-limit messages, missing definitions,
# restart budgets, report metadata, RLIMIT_NPROC, magic assignments, a closed stdout, aten-level
# shortcuts) are fixed; a row keeps an `xfail` entry only while its bug is open.


@dataclass(frozen=True)
class Case:
    name: str
    what: str  # the hostile situation, in words
    cells: dict[str, str] = field(default_factory=dict)  # grade_id -> cell source
    raw: str | bytes | None = None  # the whole file instead of a notebook
    edit: str | None = None  # a named edit of the solution's cells (build.EDITS)
    target: tuple[str, ...] = ()  # exercises the case attacks; (ALL,) for the whole file
    score: str = "zero"  # what target exercises must score: zero | reduced | full
    words: tuple[str, ...] = ()  # each must appear in one failed check's message ("a|b": either)
    notes: tuple[str, ...] = ()  # each must appear in report.meta["notes"] (full-score cases)
    also: tuple[str, ...] = ()  # other exercises this case may legitimately cost
    notebook: str = ""  # shared notebook name; its own name when empty
    xfail: dict[str, str] = field(default_factory=dict)  # aspect -> known grader bug
    bwrap_only: bool = False  # the guarantee holds only inside bubblewrap

    @property
    def nb(self) -> str:
        return self.notebook or self.name


def src(text: str) -> str:
    return dedent(text).strip() + "\n"


# The table reads better as written than as formatted.
# fmt: off
CASES: list[Case] = [
    # --- time, memory, processes, output ---------------------------------------------------------
    Case(
        "loop_definition",
        "`while True: pass` in the cell itself",
        {"softmax": src("while True:\n    pass")},
        target=("softmax",),
        words=("running cell 'softmax'", "CPU time limit|took longer than"),
    ),
    Case(
        "hang_definition",
        "the cell sleeps forever (no CPU used, only the wall clock can stop it)",
        {"softmax": src("""
            import time

            while True:
                time.sleep(0.2)
        """)},
        target=("softmax",),
        words=("running cell 'softmax'", "took longer than 30 s"),
    ),
    Case(
        "loop_call",
        "softmax loops forever when called",
        {"softmax": src("""
            def softmax(x):
                while True:
                    pass
        """)},
        target=("softmax",),
        words=("CPU time limit|took longer than",),
    ),
    Case(
        "memory_bomb_tensor",
        "softmax allocates a 4 TiB tensor",
        {"softmax": src("""
            def softmax(x):
                hog = torch.ones(2**40, dtype=torch.float32)
                return hog[: x.numel()].reshape(x.shape)
        """)},
        target=("softmax",),
        words=("RuntimeError", "memory|allocate"),
    ),
    Case(
        "memory_bomb_list",
        "softmax appends 64 MiB buffers to a list until memory runs out",
        {"softmax": src("""
            def softmax(x):
                hog = []
                while True:
                    hog.append(bytearray(64 * 2**20))
        """)},
        target=("softmax",),
        words=("MemoryError|killed|exited",),
    ),
    Case(
        "memory_hog_definition",
        # 1.125 GiB, over the 1 GiB a cell may keep: page faults cost 2-3 s of system CPU per
        # GiB on these machines, and 2.5 GiB ran into the corpus's 6 s CPU limit first
        "the cell keeps 1.125 GiB alive in a global after its definition",
        {"softmax": src("""
            HOG = []
            try:
                while len(HOG) < 18:
                    HOG.append(bytearray(64 * 2**20))
            except MemoryError:
                pass
        """) + SOFTMAX_OK},
        target=("softmax",),
        score="zero",
        words=("keeps", "MiB in memory"),
    ),
    Case(
        "fork_bomb",
        "the cell forks 200 children (capped) that leave the session and sleep 60 s",
        {"softmax": src("""
            import os

            FORKED = 0
            for _ in range(200):  # capped, and each child only sleeps 60 s: harmless if unsandboxed
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    try:
                        os.setsid()
                        os.execv("/bin/sleep", ["@MARKER@", "60"])
                    finally:
                        os._exit(0)
                FORKED += 1
            print(f"the fork bomb started {FORKED} children")
            if FORKED >= 100:
                raise RuntimeError(f"forked {FORKED} processes: nothing limited the fork bomb")
        """) + SOFTMAX_OK},
        target=("softmax",),
        score="full",  # the processes limit stops the loop early and the cell goes on
    ),
    Case(
        "output_flood",
        "the first softmax call writes to stdout and stderr as fast as it can for 3 s (GBs)",
        {"softmax": src("""
            import sys
            import time

            FLOODED = False


            def softmax(x):
                global FLOODED
                if not FLOODED:
                    FLOODED = True
                    line = "spam " * 13107 + "\\n"
                    t0 = time.monotonic()
                    while time.monotonic() - t0 < 3:
                        sys.stdout.write(line)
                        sys.stderr.write(line)
                e = (x - x.max(dim=1, keepdim=True).values).exp()
                return e / e.sum(dim=1, keepdim=True)
        """)},
        target=("softmax",),
        score="full",
    ),
    Case(
        "os_exit_call",
        "softmax calls os._exit(3)",
        {"softmax": src("""
            import os


            def softmax(x):
                os._exit(3)
        """)},
        target=("softmax",),
        words=("exited with status 3",),
    ),
    Case(
        "kill_self",
        "softmax sends SIGKILL to its own process",
        {"softmax": src("""
            import os
            import signal


            def softmax(x):
                os.kill(os.getpid(), signal.SIGKILL)
        """)},
        target=("softmax",),
        words=("killed by SIGKILL",),
    ),
    Case(
        "segfault_definition",
        "the cell dereferences a null pointer with ctypes",
        {"softmax": src("""
            import ctypes

            ctypes.string_at(0)
        """) + SOFTMAX_OK},
        target=("softmax",),
        words=("running cell 'softmax'", "SIGSEGV"),
    ),
    Case(
        "kill_parent",
        "softmax sends SIGKILL to its parent process",
        {"softmax": src("""
            import os
            import signal


            def softmax(x):
                if os.getppid() != @PARENT_PID@:  # never the grader itself, even unsandboxed
                    os.kill(os.getppid(), signal.SIGKILL)
                return x
        """)},
        target=("softmax",),
        words=("PermissionError|killed|exited|values differ",),
    ),
    Case(
        "crash_many_runs",
        "BatchSampler (7 graded runs) kills the worker on every call",
        {"batch_sampler": src("""
            import os


            class BatchSampler:
                def __init__(self, sampler, bs, drop_last=False):
                    os._exit(7)
        """)},
        target=("batch_sampler",),
        words=("exited with status 7",),
    ),
    Case(
        "protocol_garbage",
        "softmax writes garbage on the worker's answer pipe (fd sys.argv[2])",
        {"softmax": src("""
            import os
            import sys


            def softmax(x):
                os.write(int(sys.argv[2]), b"\\xff" * 16)
                e = (x - x.max(dim=1, keepdim=True).values).exp()
                return e / e.sum(dim=1, keepdim=True)
        """)},
        target=("softmax",),
        words=("could not be read",),
    ),
    Case(
        "stdout_closed",
        "the cell closes sys.stdout, then defines a correct softmax",
        {"softmax": "import sys\n\nsys.stdout.close()\n" + SOFTMAX_OK},
        target=("softmax",),
        score="full",
    ),
    # --- code that fails: one notebook, one exercise each --------------------------------------------
    Case(
        "syntax_error",
        "an unclosed parenthesis on line 2",
        {"softmax": src("""
            def softmax(x):
                e = (x - x.max(dim=1, keepdim=True).values.exp()
                return e / e.sum(dim=1, keepdim=True)
        """)},
        target=("softmax",),
        words=("cell 'softmax', line 2", "SyntaxError"),
        notebook="code_errors",
    ),
    Case(
        "sys_exit_cell",
        "sys.exit(0) in the cell",
        {"nll": "import sys\n\nsys.exit(0)\n"},
        target=("nll",),
        words=("cell 'nll'", "SystemExit"),
        notebook="code_errors",
    ),
    Case(
        "input_call",
        "accuracy asks for input()",
        {"accuracy": src("""
            def accuracy(ypred, ytrue):
                answer = input("which class? ")
                return (ypred.argmax(dim=1) == ytrue).float().mean()
        """)},
        target=("accuracy",),
        words=("EOFError",),
        notebook="code_errors",
    ),
    Case(
        "missing_function",
        "the cell defines Data_set instead of Dataset",
        {"dataset": src("""
            class Data_set:
                def __init__(self, x, y):
                    self.x, self.y = x, y

                def __len__(self):
                    return len(self.x)

                def __getitem__(self, i):
                    return self.x[i], self.y[i]
        """)},
        target=("dataset",),
        words=("Dataset", "cell 'dataset'", "defin"),
        notebook="code_errors",
    ),
    Case(
        "wrong_signature",
        "collate takes two arguments",
        {"collate": src("""
            def collate(xs, ys):
                return torch.stack(xs), torch.stack(ys)
        """)},
        target=("collate",),
        words=("TypeError", "ys"),
        notebook="code_errors",
    ),
    Case(
        "exception_definition",
        "the cell raises after defining Sampler",
        {"sampler": src("""
            class Sampler:
                def __init__(self, ds, shuffle=False):
                    self.n, self.shuffle = len(ds), shuffle

                def __iter__(self):
                    return iter(torch.randperm(self.n) if self.shuffle else range(self.n))


            raise ValueError("broken on purpose")
        """)},
        target=("sampler",),
        words=("cell 'sampler', line 9", "ValueError: broken on purpose"),
        notebook="code_errors",
    ),
    Case(
        "exception_call",
        "MyModule divides by zero when built",
        {"module_registration": src("""
            class MyModule:
                def __init__(self, n_in, nh, n_out):
                    scale = 1 / 0
        """)},
        target=("module_registration",),
        words=("ZeroDivisionError", "cell 'module_registration', line 3"),
        notebook="code_errors",
    ),
    # --- magics -----------------------------------------------------------------------------------
    Case(
        "magics",
        "line magics and shell escapes around a correct softmax",
        {"softmax": src("""
            %matplotlib inline
            !ls /
            %load_ext autoreload


            def softmax(x):
                %time y = 1
                e = (x - x.max(dim=1, keepdim=True).values).exp()
                return e / e.sum(dim=1, keepdim=True)
        """)},
        target=("softmax",),
        score="full",
        notes=("cell 'softmax': magics/shell escapes not run", "!ls /"),
        notebook="magics",
    ),
    Case(
        "magic_assign",
        "`files = !ls` and `t = %timeit -o ...` (IPython assignment forms) before a correct nll",
        {"nll": src("""
            files = !ls
            t = %timeit -o 1 + 1


            def nll(pred, y):
                return -pred[torch.arange(len(y)), y].mean()
        """)},
        target=("nll",),
        score="full",
        notebook="magics",
    ),
    Case(
        "cell_magic_bash",
        "a %%bash cell where accuracy should be",
        {"accuracy": "%%bash\necho 'def accuracy(a, b): pass'\nls /\n"},
        target=("accuracy",),
        words=("%%bash", "cell 'accuracy'"),
        notebook="magics",
    ),
    # --- wrong kinds of answers: one notebook, independent exercises ---------------------------------
    Case(
        "returns_list",
        "softmax returns a nested list",
        {"softmax": src("""
            def softmax(x):
                e = (x - x.max(dim=1, keepdim=True).values).exp()
                return (e / e.sum(dim=1, keepdim=True)).tolist()
        """)},
        target=("softmax",),
        words=("expected a torch.Tensor, got [[",),
        notebook="wrong_returns",
    ),
    Case(
        "returns_numpy",
        "nll returns a numpy array",
        {"nll": src("""
            def nll(pred, y):
                return (-pred[torch.arange(len(y)), y].mean()).numpy()
        """)},
        target=("nll",),
        words=("expected a torch.Tensor", "numpy.ndarray"),
        notebook="wrong_returns",
    ),
    Case(
        "returns_subclass",
        "accuracy returns the right value as a torch.Tensor subclass that equals anything",
        {"accuracy": src("""
            class Sneaky(torch.Tensor):
                def __eq__(self, other):
                    return True

                def __ne__(self, other):
                    return False


            def accuracy(ypred, ytrue):
                return (ypred.argmax(dim=1) == ytrue).float().mean().as_subclass(Sneaky)
        """)},
        target=("accuracy",),
        words=("Sneaky", "subclass"),
        notebook="wrong_returns",
    ),
    Case(
        "returns_eq_true",
        "DataLoader yields objects whose __eq__ always returns True",
        {"dataloader": src("""
            class AlwaysEqual:
                def __eq__(self, other):
                    return True

                def __ne__(self, other):
                    return False

                __hash__ = object.__hash__


            class DataLoader:
                def __init__(self, ds, batchs, collate_fn=None):
                    self.batchs = batchs

                def __iter__(self):
                    for b in self.batchs:
                        yield AlwaysEqual()
        """)},
        target=("dataloader",),
        words=("AlwaysEqual",),
        notebook="wrong_returns",
    ),
    Case(
        "returns_nan",
        "log_softmax returns NaN everywhere",
        {"log_softmax": src("""
            def log_softmax(x):
                return torch.full_like(x, float("nan"))
        """)},
        target=("log_softmax",),
        words=("got nan",),
        notebook="wrong_returns",
    ),
    Case(
        "returns_inf",
        "logsumexp returns +inf everywhere",
        {"logsumexp": src("""
            def logsumexp(x):
                return torch.full((len(x), 1), float("inf"), dtype=x.dtype)
        """)},
        target=("logsumexp",),
        words=("got inf",),
        notebook="wrong_returns",
    ),
    Case(
        "returns_huge",
        "collate returns a 200 MiB tensor",
        {"collate": src("""
            def collate(b):
                xs, ys = zip(*b)
                return torch.zeros(50 * 2**20), torch.stack(ys)
        """)},
        target=("collate",),
        words=("cannot travel as data",),
        notebook="wrong_returns",
    ),
    Case(
        "returns_huge_total",
        "softmax returns five 60 MiB tensors (300 MiB, over the message limit)",
        {"softmax": src("""
            def softmax(x):
                return [torch.zeros(15 * 2**20) for _ in range(5)]
        """)},
        target=("softmax",),
        words=("could not be read|over the limit|MemoryError|memory",),
    ),
    # --- files that are not notebooks -------------------------------------------------------------
    Case("not_json", "a text file", raw="{ this is not json\n", target=(ALL,), words=("not valid JSON",)),
    Case(
        "wrong_schema",
        "JSON with cells as a string",
        raw='{"cells": "not a list", "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
        target=(ALL,),
        words=("could not be read as a notebook|has no list of cells",),
    ),
    Case(
        "json_list",
        "JSON that is a list",
        raw="[1, 2, 3]",
        target=(ALL,),
        words=("could not be read as a notebook|has no list of cells",),
    ),
    Case("empty_file", "an empty file", raw="", target=(ALL,), words=("is empty",)),
    Case(
        "binary_file",
        "binary garbage",
        raw=bytes(range(256)) * 64,
        target=(ALL,),
        words=("not valid JSON|could not be read",),
    ),
    Case(
        "huge_file",
        "a valid notebook of 21 MiB (a huge output)",
        edit="huge",
        target=(ALL,),
        words=("MiB limit",),
    ),
    # --- exercise cells moved around ----------------------------------------------------------------
    Case(
        "cell_deleted",
        "the softmax cell is deleted",
        edit="delete_softmax",
        target=("softmax",),
        words=("no cell with grade_id 'softmax'",),
    ),
    Case(
        "cell_duplicated",
        "the softmax cell appears twice, the second copy broken",
        edit="duplicate_softmax",
        target=("softmax",),
        score="full",
        notes=("cell 'softmax' appears more than once",),
    ),
    Case(
        "cell_retagged",
        "the softmax cell's grade_id is changed to 'softmax_v2'",
        edit="retag_softmax",
        target=("softmax",),
        words=("no cell with grade_id 'softmax'",),
    ),
    Case(
        "cell_to_markdown",
        "the softmax cell is turned into markdown",
        edit="markdown_softmax",
        target=("softmax",),
        words=("changed to markdown",),
    ),
    Case(
        "cells_reordered",
        "the exercise cells are in reverse order (fit first, softmax last)",
        edit="reverse_exercises",
        target=("softmax", "logsumexp", "log_softmax", "fit"),
        score="full",
    ),
    Case(
        "setup_raise",
        "the locked setup cell is replaced with `raise SystemExit`",
        {"setup": "raise SystemExit('no grading today')\n"},
        target=("softmax", "collate"),
        score="full",
    ),
    Case(
        "setup_sabotage",
        "the locked setup cell breaks torch.manual_seed and print",
        {"setup": src("""
            import builtins

            import torch

            torch.manual_seed = None
            builtins.print = None
        """)},
        target=("softmax", "sampler", "fit"),
        score="full",
    ),
    # --- score integrity --------------------------------------------------------------------------
    Case(
        "patch_torch",
        "the cell makes torch's comparisons always agree, then returns x unchanged",
        {"softmax": src("""
            torch.allclose = lambda *a, **k: True
            torch.equal = lambda *a, **k: True
            torch.isclose = lambda a, b, *r, **k: torch.ones_like(a, dtype=torch.bool)
            torch.testing.assert_close = lambda *a, **k: None


            def softmax(x):
                return x
        """)},
        target=("softmax",),
        words=("values differ",),
    ),
    Case(
        "patch_tensor_eq",
        "the cell makes Tensor == always True, then returns x unchanged",
        {"softmax": src("""
            torch.Tensor.__eq__ = lambda self, other: True
            torch.Tensor.__ne__ = lambda self, other: False


            def softmax(x):
                return x
        """)},
        target=("softmax",),
        words=("values differ",),
        # the patch is global in the worker: the student's own accuracy and fit (through our
        # accuracy, which uses ==) break too. Their doing, and it can only lose points.
        also=("accuracy", "fit"),
    ),
    Case(
        "patch_numpy_builtins",
        "the cell patches numpy.allclose, math.isclose and builtins.all/any, then returns x",
        {"softmax": src("""
            import builtins
            import math

            import numpy

            numpy.allclose = lambda *a, **k: True
            numpy.array_equal = lambda *a, **k: True
            math.isclose = lambda *a, **k: True
            builtins.all = lambda *a, **k: True
            builtins.any = lambda *a, **k: True


            def softmax(x):
                return x
        """)},
        target=("softmax",),
        words=("values differ",),
        # builtins.all/any are global in the worker: torch's autograd (through sympy) breaks in
        # the gradient checks. The student's doing, and it can only lose points.
        also=("logsumexp", "log_softmax", "nll"),
    ),
    Case(
        "import_reference",
        "softmax comes from `from reference import softmax`",
        {"softmax": "from reference import softmax\n"},
        target=("softmax",),
        words=("No module named 'reference'",),
        notebook="import_grader",
    ),
    Case(
        "import_autograder",
        "the nll cell imports the grader's probes and checks",
        {"nll": src("""
            import autograder.probes
            from autograder.checks import minibatch


            def nll(pred, y):
                return -pred[torch.arange(len(y)), y].mean()
        """)},
        target=("nll",),
        words=("No module named 'autograder",),
        notebook="import_grader",
    ),
    Case(
        "import_reference_by_path",
        "the accuracy cell puts the repo on sys.path and imports reference",
        {"accuracy": src("""
            import importlib
            import sys

            sys.path.insert(0, "@REPO@")
            accuracy = importlib.import_module("reference").accuracy
        """)},
        target=("accuracy",),
        words=("No module named 'reference'",),
        notebook="import_grader",
    ),
    Case(
        "read_reference_file",
        "the softmax cell execs the repo's reference/__init__.py, read by absolute path",
        {"softmax": src("""
            with open("@REPO@/reference/__init__.py") as f:
                code = f.read()
            ns = {}
            exec(code, ns)
            softmax = ns["softmax"]
        """)},
        target=("softmax",),
        words=("FileNotFoundError", "No such file"),
        notebook="read_outside",
        bwrap_only=True,
    ),
    Case(
        "read_mnist_test",
        "the accuracy cell loads the grader's MNIST test split from ~/.cache",
        {"accuracy": src("""
            from safetensors.torch import load_file

            TEST = load_file("@HOME@/.cache/autograder/mnist/test.safetensors")


            def accuracy(ypred, ytrue):
                return (ypred.argmax(dim=1) == ytrue).float().mean()
        """)},
        target=("accuracy",),
        words=("No such file",),
        notebook="read_outside",
        bwrap_only=True,
    ),
    Case(
        "write_outdir",
        "the softmax cell forges report.json, grades.csv and a new submission in the output folder",
        # The batch's folder is under /tmp, which the sandbox replaces with a private tmpfs: those
        # writes "succeed" there and vanish. The one into the checkout must fail outright.
        {"softmax": src("""
            import json
            import os

            FAKE = json.dumps({"submission": "FORGED", "score": 59, "max_score": 59, "exercises": {}})
            results = []
            for path in [
                "@OUT@/write_outdir/report.json",
                "@OUT@/minibatch/report.json",
                "@OUT@/zz_forged/report.json",
                "@OUT@/grades.csv",
                "@OUT@/FORGED.txt",
                "@REPO@/tests/hostile/FORGED-@MARKER@.txt",
            ]:
                try:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    with open(path, "w") as f:
                        f.write(FAKE if path.endswith(".json") else "FORGED\\n")
                    results.append(f"wrote {path}")
                except OSError as e:
                    results.append(f"{path}: {type(e).__name__}: {e.strerror}")
            raise PermissionError(" | ".join(results))
        """)},
        target=("softmax",),
        words=("PermissionError", "No such file|Read-only|Permission denied"),
        bwrap_only=True,
    ),
    Case(
        "fake_output",
        "the cell prints fake pytest results and a fake full-marks report, then returns x",
        {"softmax": src("""
            import json
            import os
            import sys

            print("============================= 100 passed in 0.42s =============================")
            print(json.dumps({"submission": "fake_output", "score": 59, "max_score": 59}))
            os.write(1, b'{"ok": true, "value": 1}\\n')
            os.write(2, b"PASSED softmax::all 59/59\\n")
            sys.stderr.write("\\x1b[32mALL TESTS PASSED\\x1b[0m\\n")


            def softmax(x):
                print("100 passed")
                return x
        """)},
        target=("softmax",),
        words=("values differ",),
    ),
    Case(
        "env_secret_value",
        "softmax is right only if it cannot see a variable of the grader's environment",
        {"softmax": src("""
            import os


            def softmax(x):
                leak = len(os.environ.get("@SECRET_VAR@", ""))
                e = (x - x.max(dim=1, keepdim=True).values).exp()
                return e / e.sum(dim=1, keepdim=True) * (1 + leak)
        """)},
        target=("softmax",),
        score="full",
        notebook="environment",
    ),
    Case(
        "env_dump",
        "the collate cell raises an error holding its environment and its parent's /proc environ",
        {"collate": src("""
            import json
            import os

            try:
                with open(f"/proc/{os.getppid()}/environ", "rb") as f:
                    parent = f.read().decode("utf-8", "replace")
            except OSError as e:
                parent = f"unreadable: {e.strerror}"
            raise RuntimeError("ENV=" + json.dumps({"env": dict(os.environ), "parent": parent}))
        """)},
        target=("collate",),
        words=("ENV=",),
        notebook="environment",
    ),
    Case(
        "forbidden_bypass_aten",
        "softmax calls torch.ops.aten._softmax (a built-in the exercise forbids)",
        {"softmax": src("""
            def softmax(x):
                return torch.ops.aten._softmax(x, 1, False)
        """)},
        target=("softmax",),
        words=("uses built-ins",),
        notebook="forbidden_bypass",
    ),
    Case(
        "forbidden_bypass_disabled",
        "log_softmax calls F.log_softmax by a built name inside DisableTorchFunction()",
        {"log_softmax": src("""
            def log_softmax(x):
                with torch._C.DisableTorchFunction():
                    return getattr(F, "log_" + "soft" + "max")(x, dim=1)
        """)},
        target=("log_softmax",),
        words=("uses built-ins",),
        notebook="forbidden_bypass",
    ),
]
# fmt: on

BY_NAME = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES), "case names must be unique"


def notebooks() -> dict[str, list[Case]]:
    "Notebook name -> the cases it holds; cases sharing one must target different exercises."
    out: dict[str, list[Case]] = {}
    for c in CASES:
        out.setdefault(c.nb, []).append(c)
    for name, cs in out.items():
        targets = [t for c in cs for t in c.target]
        assert len(cs) == 1 or len(targets) == len(set(targets)), name
        assert len(cs) == 1 or not any(c.raw is not None or c.edit for c in cs), name
    return out
