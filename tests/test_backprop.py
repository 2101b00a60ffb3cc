"""The backprop assignment in-process and fast: its reference against torch's autograd, its probes
(stand-ins and autograd twins) against its reference, and its bank's cells against both.

The reference *is* the specification its tests grade against, and its gradients are written by
hand: here they are proven equal to autograd's on random shapes (a batch of one, one hidden
unit, one input, the lesson's 784-50-1 network, both float dtypes). Only the hint tests at the end
start workers: they grade the bank's notebooks once each (the lesson, alternative k of every
exercise together, the bugs packed as validate packs them) and prove that each bug shows the
hints it claims and no other, the correct answers none, and every declared hint fires for a bug
(tests/bank_hints.py). `autograder validate --assignment backprop` grades them end to end too.
"""

from __future__ import annotations

import importlib.util

import nbformat
import pytest
import torch
import torch.nn.functional as F

from autograder.assignment import get
from autograder.bank import Bug
from reference import backprop as ref
from tests.bank_hints import BankHints, graded_once
from tests.conftest import SEED

A = get("backprop")
SHAPES = [(1, 5, 4), (7, 1, 3), (9, 6, 1), (1, 1, 1), (33, 200, 64), (16, 784, 50)]
DTYPES = [torch.float32, torch.float64]
TOL = {torch.float32: dict(rtol=1e-4, atol=1e-5), torch.float64: dict(rtol=1e-9, atol=1e-12)}
NAMES = ("inp", "w1", "b1", "w2", "b2")


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PROBES = load(A.probes_file, "_test_backprop_probes")
BANK = load(A.folder / "bank.py", "_test_backprop_bank")


def network(seed, n, n_in, nh, dtype):
    "inp, targ (digits as floats), w1, b1, w2, b2, with non-zero biases."
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64).to(dtype)  # noqa: E731
    targ = torch.randint(0, 10, (n,), generator=g).to(dtype)
    return r(n, n_in), targ, r(n_in, nh) / n_in**0.5, r(nh) * 0.5, r(nh, 1) / nh**0.5, r(1) * 0.5


def autograd(inp, targ, w1, b1, w2, b2):
    "The loss and every gradient by autograd, in float64, for a reference with no autograd."
    leaves = [leaf(t) for t in (inp, w1, b1, w2, b2)]
    x, v1, c1, v2, c2 = leaves
    loss = F.mse_loss((F.relu(x @ v1 + c1) @ v2 + c2)[:, 0], targ.double())
    loss.backward()
    return loss.detach(), [t.grad for t in leaves]


def leaf(t):
    "A float64 copy of t that autograd tracks (t itself is left alone)."
    return t.detach().clone().double().requires_grad_()


def close(got, want, dtype, what):
    assert got.dtype == dtype, f"{what}: dtype {got.dtype}, expected {dtype}"
    torch.testing.assert_close(got, want.to(dtype), **TOL[dtype], msg=lambda m: f"{what}: {m}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{n}x{i}x{h}" for n, i, h in SHAPES])
def test_forward_and_backward_matches_autograd(shape, dtype):
    args = network(sum(shape), *shape, dtype)
    loss = ref.forward_and_backward(*args)
    want_loss, want = autograd(*args)
    close(loss, want_loss, dtype, "loss")
    for name, t, w in zip(NAMES, (args[0], *args[2:]), want):
        close(t.g, w, dtype, f"{name}.g")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{n}x{i}x{h}" for n, i, h in SHAPES])
def test_model_matches_autograd_and_forward_and_backward(shape, dtype):
    args = network(7 + sum(shape), *shape, dtype)
    inp, targ, *weights = args
    model = ref.Model(*weights)
    loss = model(inp, targ)
    model.backward()
    want_loss, want = autograd(*args)
    close(loss, want_loss, dtype, "loss")
    for name, t, w in zip(NAMES, (inp, *weights), want):
        close(t.g, w, dtype, f"{name}.g")
    assert [type(layer).__name__ for layer in model.layers] == ["Lin", "Relu", "Lin"]
    assert isinstance(model.loss, ref.Mse)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("shape", [(1, 5, 4), (6, 1, 3), (5, 4, 1), (40, 300, 120)])
def test_lin_grad_and_the_layers_match_autograd(shape, dtype):
    n, n_in, n_out = shape
    g = torch.Generator().manual_seed(n * n_in + n_out)
    r = lambda *s: torch.randn(*s, generator=g, dtype=dtype)  # noqa: E731
    inp, w, b, out_g = r(n, n_in), r(n_in, n_out), r(n_out), r(n, n_out)
    x, w_, b_ = (leaf(t) for t in (inp, w, b))
    out = x @ w_ + b_
    (out * out_g.double()).sum().backward()
    out = inp @ w + b
    out.g = out_g
    ref.lin_grad(inp, out, w, b)
    for name, t, tracked in (("inp", inp, x), ("w", w, w_), ("b", b, b_)):
        close(t.g, tracked.grad, dtype, f"lin_grad: {name}.g")
    x2, w2, b2 = (t.clone() for t in (inp, w, b))
    layer = ref.Lin(w2, b2)
    out = layer(x2)
    out.g = out_g
    layer.backward()
    for name, t, tracked in (("inp", x2, x), ("w", w2, w_), ("b", b2, b_)):
        close(t.g, tracked.grad, dtype, f"Lin: {name}.g")
    # Relu and Mse on the same input
    x3, xr = inp.clone(), leaf(inp)
    relu = ref.Relu()
    out = relu(x3)
    out.g = r(n, n_in)
    relu.backward()
    (F.relu(xr) * out.g.double()).sum().backward()
    close(x3.g, xr.grad, dtype, "Relu: inp.g")
    pred, targ = r(n, 1), r(n)
    pr = leaf(pred)
    mse = ref.Mse()
    loss = mse(pred, targ)
    mse.backward()
    want = F.mse_loss(pr[:, 0], targ.double())
    want.backward()
    close(loss, want.detach(), dtype, "Mse: loss")
    close(pred.g, pr.grad, dtype, "Mse: inp.g")


def test_relu_and_mse_are_the_specified_functions():
    x = torch.tensor([[-1.5, 0.0, 2.0], [3.0, -4.0, 0.5]])
    before = x.clone()
    out = ref.relu(x)
    assert torch.equal(out, F.relu(x)) and out is not x and torch.equal(x, before)
    pred, targ = torch.randn(5, 1), torch.arange(5.0)
    assert torch.allclose(ref.mse(pred, targ), F.mse_loss(pred[:, 0], targ))
    assert not torch.allclose(ref.mse(pred, targ), ((pred - targ) ** 2).mean())  # no (N, N)
    assert ref.mse(pred, targ).shape == ()


def reference_ns() -> dict:
    return dict(vars(ref))


def test_the_stand_ins_are_the_reference():
    "What the worker swaps in for lin, relu, mse, lin_grad and the layers computes the same."
    args = network(3, 8, 6, 5, torch.float32)
    ours = PROBES.forward_backward(reference_ns(), *args)
    ns = {**reference_ns(), **PROBES.FUNCTIONS}
    assert PROBES.STAND_INS["model"]["Lin"] is PROBES.Lin
    theirs = PROBES.forward_backward(ns, *args)
    torch.testing.assert_close(theirs, ours)
    ns = {**reference_ns(), **PROBES.STAND_INS["model"]}
    torch.testing.assert_close(PROBES.model_run(ns, *args), PROBES.model_run(reference_ns(), *args))


SCENARIOS = {  # each exercise's scenario, its inputs, and the autograd twin that answers it too
    "lin": ("call", lambda a: ("lin", a[0], a[2], a[3]), None),
    "relu": ("relu_fresh", lambda a: (a[0] @ a[2],), None),
    "mse": ("call", lambda a: ("mse", a[0] @ a[2][:, :1], a[1]), None),
    "lin_grad": ("lin_grad_from", lambda a: (a[0], a[2], a[3], a[0] @ a[2]), "autograd_lin"),
    "forward_and_backward": ("forward_backward", lambda a: a, "autograd_mlp"),
    "layers": ("lin_layer", lambda a: (a[0], a[2], a[3], a[0] @ a[2]), "autograd_lin"),
    "model": ("model_run", lambda a: a, "autograd_mlp"),
}
EXTRA = {  # the other layers' scenarios, so every class of the layers cell is exercised
    "layers": [
        ("relu_layer", lambda a: (a[0], a[0] * 2), "autograd_relu"),
        ("mse_layer", lambda a: (a[0] @ a[2] @ a[4], a[1]), "autograd_mse"),
    ],
    "model": [("model_run", lambda a: (*a, 2), "autograd_mlp")],
}


def scenarios(gid):
    return [SCENARIOS[gid], *EXTRA.get(gid, [])]


def answer(probe, ns, args):
    fn = PROBES.PROBES.get(probe) or (lambda ns, name, *a: ns[name](*a))
    try:
        return fn(ns, *args)
    except Exception as e:
        return e


@pytest.mark.parametrize("gid", list(SCENARIOS))
def test_the_autograd_twins_agree_with_the_reference(gid):
    args = network(11, 6, 5, 4, torch.float32)
    for probe, make, twin in scenarios(gid):
        if twin:
            got, want = answer(probe, reference_ns(), make(args)), answer(twin, {}, make(args))
            for k, v in want.items():
                torch.testing.assert_close(got[k], v, msg=lambda m, k=k, p=probe: f"{p} {k}: {m}")


SETUP = next(
    c.source
    for c in nbformat.read(A.solution, as_version=4).cells
    if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "setup"
)


def run_cell(gid, source) -> dict:
    "The setup, the reference for every other exercise's names, then the bank's cell."
    ns: dict = {}
    exec(SETUP, ns)
    ns.update({k: v for k, v in reference_ns().items() if not k.startswith("__")})
    exec(compile(source, f"<bank {gid}>", "exec"), ns)
    return ns


def differs(gid, ns) -> bool:
    "Whether the cell's names answer some scenario of gid differently from the reference."
    args = [network(s, *shape, torch.float32) for s, shape in ((1, (6, 5, 4)), (2, (1, 3, 2)))]
    for a in args:
        for probe, make, _ in scenarios(gid):
            got, want = answer(probe, ns, make(a)), answer(probe, reference_ns(), make(a))
            if isinstance(got, Exception):
                return True
            try:
                torch.testing.assert_close(got, want)
            except AssertionError:
                return True
    return False


CORRECT = [("lesson", gid, src) for gid, src in BANK.LESSON.items()] + [
    (label, gid, src) for gid, alts in BANK.ALTERNATIVES.items() for label, src in alts
]
WRONG = [(gid, bug) for gid, bugs in BANK.BUGS.items() for bug in bugs]


@pytest.mark.parametrize("label,gid,src", CORRECT, ids=[f"{g}-{k}" for k, g, _ in CORRECT])
def test_the_banks_correct_cells_agree_with_the_reference(label, gid, src):
    assert not differs(gid, run_cell(gid, src))


@pytest.mark.parametrize("gid,bug", WRONG, ids=[f"{g}-{b.name}" for g, b in WRONG])
def test_every_bug_in_the_bank_is_wrong(gid, bug):
    assert differs(gid, run_cell(gid, bug.source)), f"{gid}/{bug.name} agrees with the reference"
    assert bug.words and all(w == w.lower() for w in bug.words)


def test_the_bank_covers_every_exercise():
    assert set(BANK.LESSON) == set(A.ids) == set(BANK.ALTERNATIVES) == set(BANK.BUGS)
    assert all(len(bugs) >= 3 for bugs in BANK.BUGS.values())
    assert len({len(v) for v in BANK.ALTERNATIVES.values()}) == 1  # graded k by k together


# --- hints, on the graded bank ---------------------------------------------------------------


@pytest.fixture(scope="session")
def backprop_report(tmp_path_factory):
    "backprop_report(label, replace) -> Report, grading each distinct replacement set only once."
    return graded_once(tmp_path_factory, A, SEED)


@pytest.fixture(scope="session")
def hints(backprop_report):
    return BankHints(A, backprop_report)


@pytest.mark.parametrize("gid,bug", WRONG, ids=[f"{g}-{b.name}" for g, b in WRONG])
def test_bug_shows_the_hints_it_claims(hints, gid: str, bug: Bug):
    hints.assert_claims_shown(gid, bug)


@pytest.mark.parametrize("gid,bug", WRONG, ids=[f"{g}-{b.name}" for g, b in WRONG])
def test_bug_shows_no_hint_it_does_not_claim(hints, gid: str, bug: Bug):
    hints.assert_no_unclaimed(gid, bug)


WIDTH = max(len(alts) for alts in BANK.ALTERNATIVES.values())


@pytest.mark.parametrize("k", [None, *range(WIDTH)], ids=["lesson", *map(str, range(WIDTH))])
def test_correct_answers_show_no_hint(backprop_report, hints, k):
    if k is None:
        label, replace = "lesson", dict(BANK.LESSON)
    else:
        label = f"alternatives-{k}"
        replace = {g: alts[k][1] for g, alts in BANK.ALTERNATIVES.items() if k < len(alts)}
    hints.assert_no_hints(backprop_report(label, replace), label)


def test_every_declared_hint_fires_for_a_bug(hints):
    hints.assert_declared_fire()


def test_every_declared_hint_can_be_read(hints):
    hints.assert_declared_readable()
