"""What the worker may learn and what the run-time monitor sees: seeds, threads, torch.optim and
torch.utils.data reached without a name the static check knows, empty answers, a fake pipeline."""

from __future__ import annotations

import re

import pytest

from autograder.assignment import get
from autograder.oracle import reference_namespace
from autograder.runner import Grading, ReferenceSession, derive_seed, run_tests
from tests.bank import make_submission
from tests.conftest import SEED, grade

TRAINING_ID = get("minibatch").runs[0].grade_id  # its graded MNIST run

THREAD = "threading (a thread ran while the probe ran) (called at run time)"


def gate(report, gid):
    return next(c for c in report.exercises[gid].checks if c.name == "own_implementation")


def test_worker_seed_is_a_one_way_function_of_the_grading_seed():
    g = Grading(None, None, {}, lambda gid: [], SEED)
    hidden = type("T", (), {"hidden": True})()
    public = type("T", (), {"hidden": False})()
    assert g.rng_of(hidden, "call:softmax:abc") == derive_seed(SEED, "call:softmax:abc") != SEED
    assert derive_seed(SEED, "a") != derive_seed(SEED, "b")
    assert derive_seed(SEED, "a") != derive_seed(SEED + 1, "a")
    assert all(0 <= derive_seed(s, "x") < 2**31 for s in (0, 1, 2**31 - 1, 2**40))
    # public questions keep a fixed seed: the bundle's recorded answers were made with it
    other = Grading(None, None, {}, lambda gid: [], 99)
    assert g.rng_of(public, "call:softmax:abc") == other.rng_of(public, "call:softmax:abc")
    assert g.rng_of(hidden, "call:softmax:abc") != other.rng_of(hidden, "call:softmax:abc")


def test_hidden_probe_does_not_see_the_grading_seed(tmp_path):
    src = "def softmax(x):\n    raise ValueError(f'seed={torch.initial_seed()}')\n"
    r = grade(make_submission(tmp_path / "nb.ipynb", {"softmax": src}))
    seen = {}
    for c in r.exercises["softmax"].checks:
        m = re.search(r"seed=(\d+)", c.message)
        if m:
            seen[c.name] = int(m.group(1))
    assert {"random_shapes", "gradient"} <= set(seen), seen  # the two randomized runs
    assert SEED not in seen.values()
    assert seen["random_shapes"] != seen["gradient"]


def test_a_thread_is_flagged_at_run_time(tmp_path):
    # the name is built at run time, so only the monitor can see it (the policy is off)
    src = (
        "import threading\n"
        "def softmax(x):\n"
        "    out = []\n"
        "    f = getattr(F, 'soft' + 'max')\n"
        "    t = threading.Thread(target=lambda: out.append(f(x, dim=1)))\n"
        "    t.start(); t.join()\n"
        "    return out[0]\n"
    )
    r = grade(make_submission(tmp_path / "nb.ipynb", {"softmax": src}), policy=False)
    g = gate(r, "softmax")
    assert not g.passed and THREAD in g.message, g.message
    assert r.exercises["softmax"].score == 0
    assert r.exercises["logsumexp"].score == r.exercises["logsumexp"].max_score


def test_torch_optim_reached_without_a_name_is_flagged_at_run_time(tmp_path):
    src = (
        "import importlib\n"
        "_SGD = getattr(importlib.import_module('torch.' + 'op' + 'tim'), 'S' + 'GD')\n"
        "class Optimizer:\n"
        "    def __init__(self, params, lr=0.5):\n"
        "        self.inner = _SGD(list(params), lr=lr)\n"
        "    def step(self):\n"
        "        self.inner.step()\n"
        "    def zero_grad(self):\n"
        "        self.inner.zero_grad()\n"
    )
    r = grade(make_submission(tmp_path / "nb.ipynb", {"optimizer": src}), policy=False)
    g = gate(r, "optimizer")
    assert not g.passed, g.message
    assert "torch.optim.SGD.__init__ (called at run time)" in g.message
    assert "torch.optim.SGD.step (called at run time)" in g.message
    assert r.exercises["optimizer"].score == 0


def test_torch_utils_data_reached_without_a_name_is_flagged_at_run_time(tmp_path):
    src = (
        "import importlib\n"
        "_dc = getattr(importlib.import_module('torch.utils.' + 'data'), 'default_' + 'collate')\n"
        "def collate(b):\n"
        "    xs, ys = _dc(b)\n"
        "    return xs, ys\n"
    )
    r = grade(make_submission(tmp_path / "nb.ipynb", {"collate": src}), policy=False)
    g = gate(r, "collate")
    assert not g.passed and "torch.utils.data.default_collate (called at run time)" in g.message


def test_solution_passes_every_gate(solution_report):
    for gid, e in solution_report.exercises.items():
        for c in e.checks:
            assert c.passed, (gid, c.name, c.message)


class Canned:
    "A worker that answers every question with the same data: what a forged answer looks like."

    cell_error: dict = {}
    expired_reason = ""

    def __init__(self, answer):
        self.answer = answer

    def expired(self):
        return False

    def ask(self, probe, args, seed, forbid, timeout):
        return self.answer, []


def run_one(session, exercise, name):
    "One test of the minibatch folder, public or hidden, against `session`'s answers."
    a, ns = get("minibatch"), reference_namespace("minibatch")
    g = Grading(session, ns, a.probes(), a.runtime_names, SEED)
    public = (a.tests / f"test_{exercise}.py").read_text()
    where = "" if f"def test_{name}(" in public else "hidden/"
    run_tests(a.tests, g, hidden=True, select=[f"{where}test_{exercise}.py::test_{name}"])
    (r,) = g.results
    return r


@pytest.mark.parametrize(
    "check, empty, words",
    [
        (("batch_sampler", "divides_evenly"), [], "iterated 0 times, expected 1"),
        (("batch_sampler", "divides_evenly"), [[]], "yielded 0 batches, expected 3"),
        (("batch_sampler", "drop_last_drops_short_batch"), [[]], "yielded 0 batches, expected 2"),
        (
            ("dataloader", "yields_collated_batches"),
            {"batches": [[]], "collate_calls": []},
            "the DataLoader yielded 0 batches, expected 3",
        ),
        (
            ("dataloader", "honours_batch_sampler"),
            {"batches": [], "collate_calls": []},
            "iterated 0 times, expected 2",
        ),
        (("sampler", "shuffle_covers_every_index"), [], "iterated 0 times, expected 3"),
        (("sampler", "reshuffles_every_pass"), [], "iterated 0 times, expected 4"),
        (("sampler", "in_order_without_shuffle"), [[], []], "yielded 0 indices, expected 10"),
        (("sampler", "single_item"), [], "iterated 0 times, expected 2"),
        (("softmax", "random_shapes"), [], "0 answers"),
        (
            ("fit", "train_and_eval_modes"),
            {"calls": [], "batches": [2, 2]},
            "on 0 training batches, expected 4",
        ),
        (("dataset", "int_and_slice"), {"len": {"value": 10}, "items": []}, "returned 0 items"),
        (
            ("optimizer", "zero_grad_clears"),
            {"params": [], "grads_after_zero": [], "leaves": []},
            "after 0 steps, expected 4",
        ),
        (
            ("optimizer", "zero_grad_clears"),
            {"params": [], "grads_after_zero": [[]] * 4, "leaves": []},
            "0 gradients were reported",
        ),
        (
            ("optimizer", "params_stay_trainable"),
            {"params": [], "grads_after_zero": [], "leaves": []},
            "0 parameters were reported",
        ),
    ],
)
def test_an_empty_answer_never_passes(check, empty, words):
    r = run_one(Canned(empty), *check)
    assert not r.passed and words in r.message, r.message
    # the reference's own answers pass the same test
    ns = reference_namespace("minibatch")
    assert run_one(ReferenceSession(ns, get("minibatch").probes()), *check).passed


PRETRAINED = """
class Optimizer:
    "Sets the weights in __init__ (as if pre-trained); step and zero_grad do nothing."

    def __init__(self, params, lr=0.5):
        self.params, self.lr = list(params), lr
        g = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for p in self.params:
                p.copy_(torch.randn(p.shape, generator=g) * 0.01)

    def step(self):
        pass

    def zero_grad(self):
        pass
"""

NO_TRAINING_FIT = """
def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    for xb, yb in valid_dl:
        pass
    return 0.1, 0.99
"""


def test_pretrained_weights_in_the_optimizer_fail_the_mnist_run(tmp_path):
    nb = make_submission(tmp_path / "nb.ipynb", {"optimizer": PRETRAINED, "fit": NO_TRAINING_FIT})
    r = grade(nb, training=True)
    c = r.exercises[TRAINING_ID].checks[0]
    assert not c.passed and "changed when your Optimizer was created" in c.message, c.message


def test_a_fit_that_takes_no_steps_fails_the_mnist_run_on_the_count(tmp_path):
    nb = make_submission(tmp_path / "nb.ipynb", {"fit": NO_TRAINING_FIT})
    r = grade(nb, training=True)
    c = r.exercises[TRAINING_ID].checks[0]
    assert not c.passed and "the optimizer took 0 steps, expected 780 to 782" in c.message, (
        c.message
    )
    assert "test accuracy" not in c.message  # judged on the counts before accuracy


# Helpers in the lin cell, where autograd is allowed, used by the exercises where it is not: the
# source of those cells names nothing forbidden, so only the monitor can see autograd at work.
AUTOGRAD_HELPERS = '''
def lin(x, w, b):
    return x @ w + b


def _by_engine(f, *xs):
    "Every gradient of f at xs by torch.autograd.grad, stored as .g."
    ps = [torch.nn.Parameter(x.detach().clone()) for x in xs]
    with torch.enable_grad():
        loss = f(*ps)
        for x, g in zip(xs, torch.autograd.grad(loss, ps)):
            x.g = g.detach()
    return loss.detach()


def _by_node(f, x):
    "The gradient of f at x by calling its graph's last node by hand, not through the engine."
    p = torch.nn.Parameter(x.detach().clone())
    with torch.enable_grad():
        out = f(p)
    return out.grad_fn(torch.ones_like(out))[0].detach()


def _forward(f, x, t):
    "The derivative of f at x along t, by forward-mode AD."
    return torch.func.jvp(f, (x,), (t,))[1]
'''

AUTOGRAD_CELLS = {
    "lin": AUTOGRAD_HELPERS,
    "lin_grad": (
        "def lin_grad(inp, out, w, b):\n"
        "    inp.g = out.g @ w.t()\n"
        "    w.g = inp.t() @ out.g\n"
        "    eye = torch.eye(b.shape[0], dtype=b.dtype)\n"
        "    f = lambda v: inp @ w + v\n"
        "    b.g = torch.stack([(_forward(f, b, e) * out.g).sum() for e in eye])\n"
    ),
    "forward_and_backward": (
        "def forward_and_backward(inp, targ, w1, b1, w2, b2):\n"
        "    def f(inp, w1, b1, w2, b2):\n"
        "        out = (inp @ w1 + b1).clamp_min(0) @ w2 + b2\n"
        "        return (out[:, 0] - targ).pow(2).mean()\n"
        "    return _by_engine(f, inp, w1, b1, w2, b2)\n"
    ),
    "layers": """
class Relu:
    def __call__(self, inp):
        self.inp, self.out = inp, relu(inp)
        return self.out

    def backward(self):
        self.inp.g = (self.inp > 0).float() * self.out.g


class Lin:
    def __init__(self, w, b):
        self.w, self.b = w, b

    def __call__(self, inp):
        self.inp, self.out = inp, lin(inp, self.w, self.b)
        return self.out

    def backward(self):
        lin_grad(self.inp, self.out, self.w, self.b)


class Mse:
    def __call__(self, inp, targ):
        self.inp, self.targ = inp, targ
        self.out = mse(inp, targ)
        return self.out

    def backward(self):
        self.inp.g = _by_node(lambda v: mse(v, self.targ), self.inp)
""",
}


def test_autograd_reached_through_another_cell_is_flagged_at_run_time(tmp_path):
    # the engine, a graph node called by hand, forward mode: each costs its own exercise, not lin
    path = make_submission(tmp_path / "nb.ipynb", AUTOGRAD_CELLS, base=get("backprop").solution)
    r = grade(path, assignment="backprop")
    for gid in ("lin_grad", "forward_and_backward", "layers"):
        g = gate(r, gid)
        assert not g.passed and "torch.autograd (a gradient was computed" in g.message, g.message
        assert r.exercises[gid].score == 0
    for gid in ("lin", "relu", "mse", "model"):
        assert r.exercises[gid].score == r.exercises[gid].max_score, gid
