"""The static policy: dynamic code, introspection, threads, files and embedded data are refused in
the parent before anything runs; the honest bank and the lesson's code are never refused."""

from __future__ import annotations

import json

import pytest

from autograder import policy
from autograder.assignment import get
from autograder.bank import cases
from tests.bank import BANK as bank
from tests.bank import make_submission
from tests.conftest import grade

P = get("minibatch").policy

# each class of dynamic construct, in the forms a determined student reaches for
REFUSED = {
    "computed getattr": '_sm = getattr(F, "soft" + "max")',
    "getattr on a module": '_optim = getattr(torch, "optim")',
    "getattr passed around": "import functools\np = functools.partial(getattr, F)",
    "frames through sys": "import sys\nf = sys._getframe(1)",
    "exec of the probes": 'exec(open("/grader/probes.py").read())',
    "eval": 'f = eval("F.soft" + "max")',
    "__import__": 'm = __import__("torch")',
    "compile": 'c = compile("1", "x", "eval")',
    "vars": 'f = vars(F)["softmax"]',
    "globals": 'g = globals()["probes"]',
    "__dict__ of a module": 'f = F.__dict__["softmax"]',
    "__globals__": "g = (lambda: 1).__globals__",
    "traceback frames": (
        "def f():\n    try:\n        1/0\n    except Exception as e:\n"
        "        return e.__traceback__.tb_frame"
    ),
    "generator frames": "def g():\n    yield 1\nz = g().gi_frame.f_back",
    "subclasses": "s = ().__class__.__base__.__subclasses__()",
    "format string introspection": 'x = "{0.__init__.__globals__}".format(1)',
    "threads": "import threading",
    "threads via concurrent": "from concurrent.futures import ThreadPoolExecutor",
    "processes": "import subprocess",
    "system module through torch": "x = torch.os.system",
    "system module through fastcore": "y = fc.sys",
    "fastcore's run": "from fastcore.all import run",
    "fastcore parallel": "p = fc.parallel",
    "star import": "from fastcore.all import *",
    "base64": "import base64",
    "zlib": "import zlib",
    "pickle": "import pickle",
    "safetensors": "from safetensors.torch import load",
    "torch.load": 'w = torch.load("w.pt")',
    "torch.frombuffer": 'w = torch.frombuffer(b"\\x00\\x00\\x80\\x3f", dtype=torch.float32)',
    "numpy files": 'import numpy as np\nw = np.load("w.npy")',
    "os": "import os",
    "io": "import io",
    "inspect": "import inspect",
    "gc": "import gc",
    "ctypes": "import ctypes",
    "importlib": "import importlib",
    "private torch": "from torch import _C",
    "torch.ops": "f = torch.ops.aten._softmax",
    "attrgetter": 'import operator\ng = operator.attrgetter("softmax")',
    "monkeypatching torch": "F.softmax = lambda x, dim: x",
    "type() with three arguments": 'B = type("B", (nn.Module,), {})',
    "metaclass": "class A(metaclass=type):\n    pass",
    "a long literal": 's = "' + "QUFB" * 400 + '"',
    "many numbers": "w = [" + ", ".join(["0.25"] * 2500) + "]",
    "relative import": "from . import probes",
    "unknown module": "import requests",
    "a module through another": 'w = F.torch.load("w.pt")',
    "fastcore patch": "@fc.patch\ndef softmax(self: torch.Tensor):\n    return self",
    "computed format string": 'x = ("{0." + "__globals__}").format(len)',
    "match on special attributes": (
        "def f(x):\n    match x:\n        case object(__globals__=g):\n            return g"
    ),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_each_dynamic_construct_is_refused_with_its_line(name):
    found = policy.violations(REFUSED[name], bank.SETUP, P, "softmax")
    assert found, f"{name} was not refused"
    assert all(v.line >= 1 for v in found)
    last = REFUSED[name].count("\n") + 1
    assert any(1 <= v.line <= last for v in found)


@pytest.mark.parametrize(
    "base", ["nn.Module", "torch.nn.Module", "nn.Linear", "M", "type(nn.Linear(1, 1))"]
)
def test_module_registration_has_no_torch_base_however_reached(base):
    src = f"M = nn.Module\nclass MyModule({base}):\n    def __init__(self):\n        pass\n"
    found = policy.violations(src, bank.SETUP, P, "module_registration")
    assert any("without torch" in v.why for v in found), found


@pytest.mark.parametrize(
    "use",
    ["nn.Module.__init__(self)", "self.p = nn.Module.parameters", "nn.Linear.parameters(self)"],
)
def test_module_registration_borrows_no_torch_methods(use):
    src = f"class MyModule:\n    def __init__(self):\n        {use}\n"
    found = policy.violations(src, bank.SETUP, P, "module_registration")
    assert any("methods of torch" in v.why for v in found), found


def test_local_base_classes_are_fine_for_module_registration():
    src = "class Base:\n    pass\n\nclass MyModule(Base, object):\n    pass\n"
    assert policy.violations(src, bank.SETUP, P, "module_registration") == []


ALLOWED = {
    "own attributes": "class A:\n    def __setattr__(self, k, v):\n        self.__dict__[k] = v",
    "object.__setattr__": (
        "class A:\n    def __init__(self):\n        object.__setattr__(self, '_m', {})"
    ),
    "super().__setattr__": (
        "class A:\n    def __setattr__(self, k, v):\n        super().__setattr__(k, v)"
    ),
    "getattr with a plain name": "def f(o):\n    return getattr(o, 'weight', None)",
    "hasattr on self": "class A:\n    def f(self, k):\n        return hasattr(self, k)",
    "type name in a repr": "class A:\n    def __repr__(self):\n        return type(self).__name__",
    "store_attr": "class A:\n    def __init__(self, a, b):\n        fc.store_attr()",
    "imports the lesson uses": (
        "import math, random, operator, itertools, functools\nfrom typing import Iterator\n"
        "from collections import defaultdict\nfrom tqdm import tqdm\n"
        "import torch.nn.functional as G"
    ),
    "isinstance against nn.Module": (
        "def f(v):\n    return isinstance(v, nn.Module) and isinstance(v, torch.Tensor)"
    ),
    "numpy's random": "import numpy as np\np = np.random.permutation(3)",
    "a constant format string": 'x = "{} {:.2f}".format(1, 2.0)',
    "a short docstring and numbers": 'def f(x):\n    "Twice x."\n    return 2 * x + 0.5',
}


@pytest.mark.parametrize("name", list(ALLOWED))
def test_ordinary_course_code_is_allowed(name):
    assert policy.violations(ALLOWED[name], bank.SETUP, P, "module_registration") == []


def test_no_false_positives_over_the_bank_and_the_solution():
    "The lesson's code, every alternative and every bug's source pass the policy (bugs are wrong,"
    " not dynamic); the solution notebook's exercise cells too."
    refused = []
    for kind, label, cells in cases(get("minibatch")):
        for gid, src in cells.items():
            if found := policy.violations(src, bank.SETUP, P, gid):
                refused.append((kind, label, gid, [str(v) for v in found]))
    nb = json.loads(get("minibatch").solution.read_text())
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in get("minibatch").ids and (
            found := policy.violations("".join(cell["source"]), bank.SETUP)
        ):
            refused.append(("solution", "", gid, [str(v) for v in found]))
    assert refused == []


def test_a_refused_cell_scores_zero_and_only_its_exercise(tmp_path):
    sm = "def softmax(x):\n    _sm = getattr(F, 'soft' + 'max')\n    return _sm(x, dim=1)\n"
    reg = (
        "class MyModule(nn.Module):\n    def __init__(self, n_in, nh, n_out):\n"
        "        super().__init__()\n"
        "        self.l1, self.l2 = nn.Linear(n_in, nh), nn.Linear(nh, n_out)\n"
    )
    nb = make_submission(tmp_path / "nb.ipynb", {"softmax": sm, "module_registration": reg})
    r = grade(nb)
    for gid in ("softmax", "module_registration"):
        ex = r.exercises[gid]
        assert ex.score == 0, gid
        msg = next(c.message for c in ex.checks if not c.passed)
        assert "was not run" in msg and "line 2" in msg or "line 1" in msg, msg
        assert "may import torch" in msg
    assert "getattr" in r.exercises["softmax"].checks[0].message
    others = [g for g in get("minibatch").ids if g not in ("softmax", "module_registration")]
    assert all(r.exercises[g].score == r.exercises[g].max_score for g in others)


# the reproducers of the integrity report, each in the exercise it attacks, in one notebook
REPRODUCERS = {
    "softmax": (
        "import threading\n_sm = getattr(F, 'soft' + 'max')\n\ndef softmax(x):\n"
        "    out = []\n    t = threading.Thread(target=lambda: out.append(_sm(x, dim=1)))\n"
        "    t.start(); t.join()\n    return out[0]\n"
    ),
    "optimizer": (
        "_optim = getattr(torch, 'optim')\n\nclass Optimizer:\n"
        "    def __init__(self, params, lr=0.5):\n"
        "        self.o = _optim.SGD(list(params), lr=lr)\n"
        "    def step(self):\n        self.o.step()\n    def zero_grad(self):\n"
        "        self.o.zero_grad()\n"
    ),
    "sampler": (
        "import sys\n\nclass Sampler:\n    def __init__(self, ds, shuffle=False):\n"
        "        sys._getframe(1).f_locals['self'].probes.PROBES['sampler'] = lambda *a: []\n"
    ),
    "dataset": ("exec(open('/grader/probes.py').read())\n\nclass Dataset(Items):\n    pass\n"),
    "collate": (
        "import base64\n_W = base64.b64decode('AAAA')\n\ndef collate(b):\n"
        "    xs, ys = zip(*b)\n    return torch.stack(xs), torch.stack(ys)\n"
    ),
}


def test_the_integrity_reproducers_lose_their_points(tmp_path):
    r = grade(make_submission(tmp_path / "nb.ipynb", REPRODUCERS))
    for gid in REPRODUCERS:
        ex = r.exercises[gid]
        assert ex.score == 0, (gid, [c.message for c in ex.checks])
        assert "was not run" in ex.checks[0].message, gid
    rest = [g for g in get("minibatch").ids if g not in REPRODUCERS]
    assert all(r.exercises[g].score == r.exercises[g].max_score for g in rest), {
        g: r.exercises[g].score for g in rest
    }
