"""Forbidden shortcuts: found in a cell's source through any alias, only where they are banned."""

import textwrap

import nbformat
import pytest
import torch
import torch.nn.functional as F
from torch.overrides import resolve_name

from autograder.assignment import get
from autograder.extract import grade_id, released_setup
from autograder.forbidden import runtime_names, shortcuts

MINIBATCH = get("minibatch")

FORBIDDEN = [e.grade_id for e in MINIBATCH.exercises if e.forbidden]

SETUP = released_setup(MINIBATCH)  # has `import torch.nn.functional as F`, `from torch import nn`


def found(exercise, source, setup=SETUP):
    return shortcuts(exercise, textwrap.dedent(source), setup)


def test_setup_binds_the_aliases_these_tests_rely_on():
    assert "import torch.nn.functional as F" in SETUP


# What is flagged: (exercise, cell source, what the finding names, its line)
FLAGGED = {
    "F.softmax via setup alias": (
        "softmax",
        """\
        def softmax(x):
            return F.softmax(x, dim=1)
        """,
        "torch.nn.functional.softmax",
        2,
    ),
    "torch.softmax": (
        "softmax",
        """\
        def softmax(x):
            return torch.softmax(x, 1)
        """,
        "torch.softmax",
        2,
    ),
    "tensor method": (
        "softmax",
        """\
        def softmax(x):
            return x.softmax(1)
        """,
        ".softmax()",
        2,
    ),
    "from-import with alias": (
        "softmax",
        """\
        from torch.nn.functional import softmax as sm

        def softmax(x):
            return sm(x, 1)
        """,
        "torch.nn.functional.softmax",
        4,
    ),
    "module alias of the student's own": (
        "softmax",
        """\
        import torch.nn.functional as G

        def softmax(x):
            return G.log_softmax(x, 1).exp()
        """,
        "torch.nn.functional.log_softmax",
        4,
    ),
    "torch.logsumexp in logsumexp": (
        "logsumexp",
        """\
        def logsumexp(x):
            return torch.logsumexp(x, 1, keepdim=True)
        """,
        "torch.logsumexp",
        2,
    ),
    "torch.logsumexp in log_softmax": (
        "log_softmax",
        """\
        def log_softmax(x):
            return x - torch.logsumexp(x, 1, keepdim=True)
        """,
        "torch.logsumexp",
        2,
    ),
    "getattr with a string": (
        "softmax",
        """\
        def softmax(x):
            return getattr(torch, "softmax")(x, 1)
        """,
        "'softmax'",
        2,
    ),
    "F.cross_entropy in nll": (
        "nll",
        """\
        def nll(pred, y):
            return F.cross_entropy(pred, y)
        """,
        "torch.nn.functional.cross_entropy",
        2,
    ),
    "F.nll_loss in nll": (
        "nll",
        """\
        def nll(pred, y):
            return F.nll_loss(pred, y)
        """,
        "torch.nn.functional.nll_loss",
        2,
    ),
    "torch.optim.SGD": (
        "optimizer",
        """\
        class Optimizer(torch.optim.SGD):
            pass
        """,
        "torch.optim.SGD",
        1,
    ),
    "from torch import optim": (
        "optimizer",
        """\
        from torch import optim

        Optimizer = optim.SGD
        """,
        "torch.optim.SGD",
        3,
    ),
    "DataLoader by full name": (
        "dataloader",
        """\
        class DataLoader(torch.utils.data.DataLoader):
            pass
        """,
        "torch.utils.data.DataLoader",
        1,
    ),
    "import from torch.utils.data": (
        "sampler",
        """\
        from torch.utils.data import Sampler
        """,
        "torch.utils.data",
        1,
    ),
    "alias assignment": (
        "softmax",
        """\
        sm = F.softmax

        def softmax(x):
            return sm(x, 1)
        """,
        "torch.nn.functional.softmax",
        1,
    ),
}


@pytest.mark.parametrize("exercise, source, name, line", FLAGGED.values(), ids=FLAGGED)
def test_shortcut_is_flagged_with_its_line(exercise, source, name, line):
    hits = found(exercise, source)
    assert any(name in h and f"(line {line})" in h for h in hits), hits


def test_alias_is_flagged_where_it_is_bound_and_where_it_is_called():
    hits = found("softmax", FLAGGED["alias assignment"][1])
    assert "torch.nn.functional.softmax (line 1)" in hits
    assert "torch.nn.functional.softmax (line 4)" in hits


def test_a_renamed_setup_module_is_followed():
    src = """\
        G = F

        def nll(pred, y):
            return G.nll_loss(pred, y)
        """
    assert "torch.nn.functional.nll_loss (line 4)" in found("nll", src)


def test_a_name_used_twice_on_one_line_is_reported_once():
    hits = found("softmax", "def softmax(x):\n    return F.softmax(x, 1) + F.softmax(x, 1)\n")
    assert hits == ["torch.nn.functional.softmax (line 2)"]


def test_setup_alias_matters_for_module_functions():
    src = "def nll(pred, y):\n    return F.nll_loss(pred, y)\n"
    assert found("nll", src)
    assert found("nll", src, setup="") == []  # F means nothing without the setup


# What is not flagged

LESSON = {
    "softmax": """\
        def softmax(x):
            "Row-wise softmax: the exponentials of a row divided by their sum."
            return torch.exp(x) / torch.exp(x).sum(dim=1)[:, None]
        """,
    "logsumexp": """\
        def logsumexp(x):
            m = x.max(dim=1)[0][:, None]
            return m + (x - m).exp().sum(dim=1, keepdim=True).log()
        """,
    "log_softmax": """\
        def log_softmax(x):
            return x - logsumexp(x)
        """,
    "nll": """\
        def nll(pred, y):
            return -pred[range(len(pred)), y].mean()
        """,
    "optimizer": """\
        class Optimizer:
            def __init__(self, params, lr=0.5):
                self.params, self.lr = list(params), lr

            def step(self):
                with torch.no_grad():
                    for p in self.params:
                        p -= p.grad * self.lr

            def zero_grad(self):
                for p in self.params:
                    p.grad.data.zero_()
        """,
    "sampler": """\
        class Sampler:
            def __init__(self, ds, shuffle=False):
                self.n, self.shuffle = len(ds), shuffle

            def __iter__(self):
                res = list(range(self.n))
                if self.shuffle:
                    random.shuffle(res)
                return iter(res)
        """,
    "dataloader": """\
        class DataLoader:
            def __init__(self, ds, batchs, collate_fn=collate):
                fc.store_attr()

            def __iter__(self):
                yield from (self.collate_fn(self.ds[i] for i in b) for b in self.batchs)
        """,
}


@pytest.mark.parametrize("exercise", LESSON)
def test_the_lessons_own_code_is_not_flagged(exercise):
    assert found(exercise, LESSON[exercise]) == []


def cells(path):
    nb = nbformat.read(path, as_version=4)
    return {grade_id(c): c.source for c in nb.cells if grade_id(c) in MINIBATCH.ids}


@pytest.mark.parametrize("exercise", MINIBATCH.ids)
def test_solutions_and_released_stubs_are_not_flagged(exercise):
    assert shortcuts(exercise, cells(MINIBATCH.solution)[exercise], SETUP) == []
    assert shortcuts(exercise, cells(MINIBATCH.release)[exercise], SETUP) == []


def test_a_docstring_mentioning_softmax_is_not_flagged():
    src = '''\
        def softmax(x):
            """Like F.softmax or torch.softmax, but by hand: softmax(x) = exp(x) / sum(exp(x))."""
            # x.softmax(1) would be cheating
            e = x.exp()
            return e / e.sum(dim=1, keepdim=True)
        '''
    assert found("softmax", src) == []


def test_cross_entropy_is_allowed_in_fit():
    src = """\
        def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
            loss = F.cross_entropy(model(xb), yb)
            torch.optim.SGD(model.parameters(), lr=0.1)
        """
    assert found("fit", src) == []


def test_shortcuts_allowed_in_other_exercises():
    assert found("softmax", "y = F.nll_loss(p, t)\n") == []
    assert found("nll", "p = F.log_softmax(x, 1)\n") == []
    assert found("accuracy", "p = x.softmax(1)\n") == []


def test_a_syntax_error_is_left_to_the_runner():
    assert found("softmax", "def softmax(x:\n    return F.softmax(x)\n") == []


# Names the worker watches at run time


@pytest.mark.parametrize(
    "exercise, funcs",
    [
        ("softmax", [torch.softmax, F.softmax, torch.Tensor.softmax, torch.special.softmax]),
        ("softmax", [torch.log_softmax, F.log_softmax, torch.Tensor.log_softmax]),
        ("logsumexp", [torch.logsumexp, torch.Tensor.logsumexp, torch.special.logsumexp]),
        ("log_softmax", [F.log_softmax, torch.logsumexp, torch.Tensor.logsumexp, F.softmax]),
        ("nll", [F.nll_loss, F.cross_entropy]),
    ],
)
def test_runtime_names_match_what_torch_reports(exercise, funcs):
    "The worker compares resolve_name(func) with these names: they must be spelled the same way."
    names = runtime_names(exercise)
    assert [resolve_name(f) for f in funcs if resolve_name(f) not in names] == []


def test_runtime_names_are_dotted_and_empty_where_nothing_is_forbidden():
    for exercise in FORBIDDEN:
        assert runtime_names(exercise) and all("." in n for n in runtime_names(exercise))
    assert runtime_names("fit") == [] and runtime_names("accuracy") == []
    assert runtime_names("no such exercise") == []
