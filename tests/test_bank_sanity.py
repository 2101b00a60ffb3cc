"""The bank checked in-process against `reference`: alternatives agree with it, every bug differs.

This runs our own bank, not student code. Each source runs after the setup imports with the
reference standing in for every other exercise, the way the grader tests one exercise at a time.
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import random

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograder.assignment import get
from reference import minibatch as reference
from tests.bank import ALTERNATIVES, BUGS, LESSON, SETUP, Bug, grade_id, make_submission, notebook

A = get("minibatch")
DEFINES = {e.grade_id: e.defines for e in A.exercises}


def namespace(gid: str, source: str) -> dict:
    "Setup imports, reference stand-ins for the other exercises, then source."
    ns: dict = {}
    exec(SETUP, ns)
    for other, names in DEFINES.items():
        if other != gid:
            ns.update({n: getattr(reference, n) for n in names})
    exec(compile(source, f"<{gid}>", "exec"), ns)
    return ns


def seed(s: int = 0) -> None:
    torch.manual_seed(s)
    random.seed(s)
    np.random.seed(s)


# Probes: each runs one implementation on fixed inputs and returns what the grader would look at.


def probe_softmax(softmax):
    seed()
    return [softmax(torch.randn(4, 7)), softmax(torch.randn(5, 5)), softmax(3 * torch.randn(1, 3))]


def probe_logsumexp(logsumexp):
    seed()
    return [
        logsumexp(torch.randn(4, 7)),
        logsumexp(torch.randn(5, 5)),
        logsumexp(1e4 * torch.randn(3, 6)),
    ]


def probe_log_softmax(log_softmax):
    seed()
    xs = [torch.randn(4, 7), torch.randn(5, 5), 1e4 * torch.randn(3, 6)]
    return [log_softmax(x) for x in xs]


def probe_nll(nll):
    seed()
    out = []
    for n, c in [(6, 4), (4, 4)]:
        pred = reference.log_softmax(torch.randn(n, c))
        out.append(nll(pred, torch.randint(0, c, (n,))))
    return out


def probe_accuracy(accuracy):
    seed()
    out = []
    for n, c in [(8, 5), (5, 5)]:
        r = accuracy(torch.randn(n, c), torch.randint(0, c, (n,)))
        out.append((isinstance(r, torch.Tensor), getattr(r, "dtype", None), r))
    return out


def probe_module_registration(MyModule):
    seed()
    m = MyModule(3, 4, 2)
    ps = list(m.parameters())
    out = [ps, list(m._modules), "Linear" in repr(m) and "l1" in repr(m)]
    m._hidden = nn.Linear(1, 1)
    m.extra = nn.Conv1d(1, 1, 2)
    out += ["_hidden" in m._modules, m._hidden.in_features, "extra" in m._modules]
    return out + [len(list(m.parameters())), next(iter(m.parameters())).shape]


def probe_optimizer(Optimizer):
    seed()
    w, b = torch.randn(3, requires_grad=True), torch.randn(2, requires_grad=True)
    x = torch.randn(3)

    def backward():
        ((w * x).sum() ** 2 + (b**2).sum()).backward()

    def values():
        return [w.detach().clone(), b.detach().clone(), w.is_leaf and w.requires_grad]

    opt = Optimizer(p for p in [w, b])  # a generator, as model.parameters() is
    backward(), opt.step()
    out = values()
    opt.zero_grad()
    out.append([p.grad is None or bool((p.grad == 0).all()) for p in (w, b)])
    backward(), opt.step()
    out += values()
    opt.zero_grad()
    backward(), Optimizer([w, b], lr=0.1).step()
    return out + values()


def probe_dataset(Dataset):
    seed()
    ds = Dataset(torch.randn(10, 3), torch.arange(10))
    return [len(ds), ds[3], ds[2:5], ds[[1, 4, 7]], ds[-1]]


def probe_sampler(Sampler):
    seed()
    ds = list(range(100, 130))
    s = Sampler(ds)
    out = [list(s), list(s), list(Sampler(ds, shuffle=False))]
    s = Sampler(ds, shuffle=True)
    passes = [list(s) for _ in range(3)]
    out += [sorted(p) == list(range(30)) for p in passes]
    return out + [len({tuple(p) for p in passes}) == 3, passes[0] != list(range(30))]


def probe_batch_sampler(BatchSampler):
    seed()
    out = [list(BatchSampler(list(range(10)), 3)), list(BatchSampler(range(10), 3, drop_last=True))]
    out += [list(BatchSampler(range(9), 3, True)), list(BatchSampler(range(4), 5))]
    out += [list(BatchSampler(range(4), 5, drop_last=True))]
    bs = BatchSampler(reference.Sampler(range(20), shuffle=True), 4)
    passes = [list(bs) for _ in range(2)]
    flat = [sorted(i for b in p for i in b) for p in passes]
    out += [all(type(b) is list for p in passes for b in p), flat == [list(range(20))] * 2]
    return out + [passes[0] != passes[1], [len(b) for b in passes[0]]]


def probe_collate(collate):
    seed()
    xs, ys = torch.randn(4, 3), torch.tensor([1, 0, 2, 1])
    out = collate([(xs[i], ys[i]) for i in range(4)])
    ims = torch.randn(3, 2, 2)
    return [out, collate([(ims[i], ys[i]) for i in range(3)])]


def probe_dataloader(DataLoader):
    seed()
    ds = reference.Dataset(torch.randn(7, 2), torch.arange(7))
    batchs = [[0, 1, 2], [3, 4, 5], [6]]
    dl = DataLoader(ds, batchs)
    out = [list(dl), list(dl)]

    def spy(b):
        b = list(b)
        return "spy", len(b), torch.stack([x for x, _ in b]).sum()

    return out + [
        list(DataLoader(ds, batchs, spy)),
        list(DataLoader(ds, batchs=batchs, collate_fn=spy)),
    ]


def probe_fit(fit):
    seed()
    x, xv = torch.randn(50, 4), torch.randn(23, 4)
    y, yv = ((x[:, :2] > 0).sum(1), (xv[:, :2] > 0).sum(1))
    train_dl = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 50, 16)]
    valid_dl = [(xv[i : i + 10], yv[i : i + 10]) for i in range(0, 23, 10)]
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    modes = []  # per call: train mode, autograd on (model.train/eval, torch.no_grad)
    model.register_forward_pre_hook(
        lambda m, a: modes.append((m.training, torch.is_grad_enabled()))
    )
    opt = reference.Optimizer(model.parameters(), lr=0.3)
    with contextlib.redirect_stdout(io.StringIO()):
        loss, acc = fit(3, model, F.cross_entropy, opt, train_dl, valid_dl)
    return [float(loss), float(acc), modes]


PROBES = {gid: globals()[f"probe_{gid}"] for gid in A.ids}


def same(a, b) -> bool:
    "Equal up to float tolerance; a tuple equals a list with the same items."
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return False
        if a.shape != b.shape or a.dtype.is_floating_point != b.dtype.is_floating_point:
            return False
        return torch.allclose(a.double(), b.double(), rtol=1e-4, atol=1e-5, equal_nan=True)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6)
    return type(a) is type(b) and a == b


def run(gid: str, source: str):
    ns = namespace(gid, source)
    (name,) = DEFINES[gid]
    return PROBES[gid](ns[name])


def expected(gid: str):
    (name,) = DEFINES[gid]
    return PROBES[gid](getattr(reference, name))


ALT_CASES = [(g, n, s) for g, alts in ALTERNATIVES.items() for n, s in alts]
BUG_CASES = [(g, bug) for g, bugs in BUGS.items() for bug in bugs]
ALL_SOURCES = (
    [(g, "lesson", s) for g, s in LESSON.items()]
    + ALT_CASES
    + [(g, bug.name, bug.source) for g, bug in BUG_CASES]
)


def test_bank_covers_every_exercise():
    assert list(LESSON) == A.ids
    assert list(ALTERNATIVES) == A.ids and list(BUGS) == A.ids
    for gid in A.ids:
        assert len(ALTERNATIVES[gid]) >= 2, gid
        assert len(BUGS[gid]) >= 3, gid
        names = [n for n, _ in ALTERNATIVES[gid]] + [b.name for b in BUGS[gid]]
        assert len(names) == len(set(names)), f"{gid}: duplicate names {names}"
    # alternative k of every exercise shares notebook k, so the lists must line up
    assert len({len(a) for a in ALTERNATIVES.values()}) == 1


@pytest.mark.parametrize("gid,bug", BUG_CASES, ids=[f"{g}-{b.name}" for g, b in BUG_CASES])
def test_bug_metadata(gid, bug: Bug):
    assert bug.words and all(w == w.lower() for w in bug.words), bug.words
    assert set(bug.also) <= set(A.ids) - {gid}, bug.also


# Names whose use would be a forbidden shortcut in that exercise (attributes or imported modules).
FORBIDDEN = {
    "softmax": {"softmax", "log_softmax"},
    "logsumexp": {"logsumexp", "log_softmax", "softmax"},
    "log_softmax": {"logsumexp", "log_softmax", "softmax"},
    "nll": {"nll_loss", "cross_entropy", "NLLLoss", "CrossEntropyLoss"},
    "optimizer": {"optim"},
    **{g: {"utils"} for g in ("dataset", "sampler", "batch_sampler", "dataloader")},
}


@pytest.mark.parametrize(
    "gid,name,source", ALL_SOURCES, ids=[f"{g}-{n}" for g, n, _ in ALL_SOURCES]
)
def test_source_parses_defines_and_avoids_shortcuts(gid, name, source):
    tree = ast.parse(source)
    assert source.endswith("\n") and not source.startswith((" ", "\n"))
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            used |= {p for a in node.names for p in a.name.split(".")}
        elif isinstance(node, ast.ImportFrom):
            used |= set((node.module or "").split(".")) | {a.name for a in node.names}
    assert not used & FORBIDDEN.get(gid, set()), f"{gid}/{name} uses {used & FORBIDDEN[gid]}"
    ns = namespace(gid, source)
    assert all(n in ns for n in DEFINES[gid]), f"{gid}/{name} does not define {DEFINES[gid]}"


@pytest.mark.parametrize("gid", A.ids)
def test_lesson_agrees_with_reference(gid):
    assert same(run(gid, LESSON[gid]), expected(gid))


@pytest.mark.parametrize("gid,name,source", ALT_CASES, ids=[f"{g}-{n}" for g, n, _ in ALT_CASES])
def test_alternative_agrees_with_reference(gid, name, source):
    got, want = run(gid, source), expected(gid)
    assert same(got, want), f"{gid}/{name}:\n{got}\n!=\n{want}"


@pytest.mark.parametrize("gid,bug", BUG_CASES, ids=[f"{g}-{b.name}" for g, b in BUG_CASES])
def test_bug_differs_or_raises(gid, bug: Bug):
    try:
        got = run(gid, bug.source)
    except Exception:
        return
    assert not same(got, expected(gid)), f"{gid}/{bug.name} behaves like the reference"


def test_make_submission_replaces_only_the_named_cells(tmp_path):
    base = tmp_path / "base.ipynb"
    nbformat.write(notebook(LESSON, SETUP), base)
    bug = BUGS["nll"][0]
    out = make_submission(tmp_path / "sub" / "s.ipynb", {"nll": bug.source}, base=base)
    cells = {grade_id(c): c.source for c in nbformat.read(out, as_version=4).cells}
    assert cells == {A.setup_id: SETUP, **LESSON, "nll": bug.source}
    with pytest.raises(KeyError, match="no_such_cell"):
        make_submission(tmp_path / "x.ipynb", {"no_such_cell": ""}, base=base)


def test_lesson_notebook_runs_top_to_bottom(tmp_path):
    "The whole lesson notebook executes in one namespace, cell after cell, as the grader runs it."
    ns: dict = {}
    for cell in notebook(LESSON, SETUP).cells:
        exec(cell.source, ns)
    assert all(n in ns for names in DEFINES.values() for n in names)
