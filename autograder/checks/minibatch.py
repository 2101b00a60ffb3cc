"""Public checks of the minibatch assignment: fixed inputs, shipped to students in the bundle."""

from __future__ import annotations

import torch

from autograder.checks import Check, Run
from autograder.checks.common import (
    close_to,
    count,
    has_nonfinite,
    items,
    part,
    part_raised,
    passes,
    raised,
    randn,
    same,
    swapped,
)

R, C = Run, Check
KEEPDIM = "keep the reduced dim so the result broadcasts: sum(dim=1, keepdim=True) or [:, None]"
MAXTRICK = "exp overflows for large inputs: subtract each row's max first (the logsumexp trick)"
NO_GRAD = "updating a parameter in place needs autograd off: wrap step's loop in torch.no_grad()"


def small(seed):
    return randn(seed, 4, 3, scale=2.0)


def logprobs(seed, n=5, c=4):
    x = randn(seed, n, c)
    return x - x.logsumexp(dim=1, keepdim=True), torch.randint(0, c, (n,), generator=_g(seed))


def _g(seed):
    return torch.Generator().manual_seed(seed + 1)


RUNS = [
    R("softmax_small", "softmax", "call", lambda s: ("softmax", small(s))),
    R("logsumexp_small", "logsumexp", "call", lambda s: ("logsumexp", small(s))),
    R("log_softmax_small", "log_softmax", "call", lambda s: ("log_softmax", small(s))),
    R("nll_small", "nll", "call", lambda s: ("nll", *logprobs(s))),
    R(
        "accuracy_small",
        "accuracy",
        "call",
        lambda s: (
            "accuracy",
            torch.tensor([[0.1, 2.0, 0.3], [1.5, 0.2, 0.1], [0.0, 0.1, 0.9], [0.3, 0.2, 0.1]]),
            torch.tensor([1, 0, 1, 2]),
        ),
    ),
    R("mymodule", "module_registration", "module_registration", lambda s: (6, 5, 3)),
    R(
        "opt_one_step",
        "optimizer",
        "optimizer_steps",
        lambda s: (
            [randn(s, 3, 2), randn(s + 1, 2)],
            [[randn(s + 2, 3, 2), randn(s + 3, 2)]],
            0.1,
            False,
        ),
    ),
    R(
        "opt_default_lr",
        "optimizer",
        "optimizer_steps",
        lambda s: ([randn(s, 4)], [[randn(s + 1, 4)], [randn(s + 2, 4)]], None, True),
    ),
    R(
        "dataset_basic",
        "dataset",
        "dataset",
        lambda s: (randn(s, 10, 3), torch.arange(10) * 7 % 10, [3, {"slice": [2, 7]}]),
    ),
    R("sampler_in_order", "sampler", "sampler", lambda s: (10, False, 2)),
    R("sampler_shuffle", "sampler", "sampler", lambda s: (50, True, 3)),
    R("bs_even", "batch_sampler", "batch_sampler", lambda s: (list(range(12)), 4, False, 1)),
    R("bs_partial", "batch_sampler", "batch_sampler", lambda s: (list(range(10)), 4, False, 1)),
    R(
        "collate_basic",
        "collate",
        "collate",
        lambda s: (list(randn(s, 5, 3)), list(torch.arange(5) * 3 % 5)),
    ),
    R(
        "dl_basic",
        "dataloader",
        "dataloader",
        lambda s: (
            randn(s, 10, 2),
            torch.arange(10),
            [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]],
            1,
            False,
        ),
    ),
    R("fit_basic", "fit", "fit", lambda s: (2, 24, 12, 4, 0.1, 1.0)),
]

softmax_hints = (
    (
        close_to(lambda x: x.exp() / x.exp().sum(0)),
        "you normalised over dim 0 (the batch); use dim=1",
    ),
    (
        close_to(lambda x: x.exp() / x.exp().sum()),
        "you divided by the sum of the whole batch; each row needs its own sum over dim=1",
    ),
    (raised("must match", "size of tensor"), KEEPDIM),
)
lse_hints = (
    (
        lambda e, g, a: isinstance(g, torch.Tensor) and g.shape == e.shape[:1],
        "logsumexp should return shape (N, 1), one value per row kept as a column: " + KEEPDIM,
    ),
    (
        close_to(lambda x: (x - x.max(1, keepdim=True).values).exp().sum(1, keepdim=True).log()),
        "you subtracted the max inside the exp but did not add it back outside the log",
    ),
    (has_nonfinite, MAXTRICK),
    (raised("must match", "size of tensor"), KEEPDIM),
)
log_softmax_hints = (
    (
        close_to(lambda x: x.logsumexp(1, keepdim=True) - x),
        "sign: log-probabilities are ≤ 0; "
        "log_softmax(x) = x - logsumexp(x), not the other way round",
    ),
    (raised("must match", "size of tensor"), KEEPDIM),
    (has_nonfinite, MAXTRICK),
)
nll_hints = (
    (
        close_to(lambda p, y: -p[range(len(y)), y].sum()),
        "you summed; nll is the mean over the batch",
    ),
    (
        close_to(lambda p, y: p[range(len(y)), y].mean()),
        "sign: nll is minus the mean log-probability",
    ),
    (
        close_to(lambda p, y: -p[:, y].mean()),
        "pred[:, y] picks whole columns; index rows and targets together: pred[range(len(y)), y]",
    ),
)
acc_hints = (
    (
        lambda e, g, a: isinstance(g, torch.Tensor) and g.dtype in (torch.bool, torch.int64),
        "compare, then turn booleans into floats before the mean: (...).float().mean()",
    ),
    (
        close_to(lambda p, y: (p.argmax(1) == y).float().sum()),
        "that is a count; divide by the number of rows (use .mean())",
    ),
    (close_to(lambda p, y: (p.argmax(0)[: len(y)] == y).float().mean()), "argmax over dim=1"),
)
opt_hints = (
    (raised("leaf Variable", "in-place operation"), NO_GRAD),
    (
        lambda e, g, a: isinstance(g, dict) and compare_equal(g["params"][0], a[0]),
        "the parameters did not change: update them in place (p -= lr * p.grad); "
        "rebinding p = p - ... changes only the loop variable",
    ),
    (raised("NoneType"), "p.grad is None before the first backward; step should use p.grad as set"),
    (
        lambda e, g, a: (
            len(g["params"]) > 1
            and compare_equal(g["params"][1], g["params"][0])
            and not compare_equal(e["params"][1], e["params"][0])
        ),
        "only the first step changed anything: params may be a generator (model.parameters() is "
        "one), which runs out after one pass; keep list(params)",
    ),
    (
        lambda e, g, a: compare_equal(g["params"][0], e["params"][0]) is False and a[2] is None,
        "the default learning rate is 0.5",
    ),
)


collate_hints = (
    (swapped, "xs and ys are swapped: return (xs, ys), inputs first"),
    (
        raised("zero-dimensional", "cannot be concatenated"),
        "torch.stack adds a batch dim in "
        "front; torch.cat joins along an existing one (and cannot join 0-d targets)",
    ),
    (
        lambda e, g, a: (
            isinstance(g, (tuple, list))
            and isinstance(g[0], torch.Tensor)
            and g[0].dim() == e[0].dim() - 1
        ),
        "torch.stack adds a batch dim in front; torch.cat joins along an existing one",
    ),
    (lambda e, g, a: not isinstance(g, (tuple, list)), "return a tuple (xs, ys) of two tensors"),
)
FIT_LAST = (
    "return the validation loss and accuracy of the last epoch, averaged over that "
    "epoch's samples: reset the totals at the start of each epoch's validation"
)


def compare_equal(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def opt_params(exp, got, args):
    from autograder import compare

    p = compare.values(exp["params"], got["params"], path="parameters after each step")
    if p and args[2] is not None:
        lr = args[2]
        sgn = [[p0 + lr * g for p0, g in zip(args[0], args[1][0])]]
        if compare.values(sgn, got["params"][:1]) is None:
            return p + "; the update has the wrong sign: subtract lr * p.grad"
        fixed = [[p0 - 0.5 * g for p0, g in zip(args[0], args[1][0])]]
        if lr != 0.5 and compare.values(fixed, got["params"][:1]) is None:
            return p + f"; step used lr 0.5, not the lr={lr} it was given: use self.lr"
    return p


def repr_names(exp, got, args):
    r = got["repr"]
    if "error" in r:
        return f"repr(m) raised {r['error']}"
    if not isinstance(r["value"], str) or not all(k in r["value"] for k in ("l1", "l2")):
        return f"repr(m) should mention the registered modules l1 and l2, got {r['value']!r}"
    return None


def in_order(exp, got, args):
    p = passes("the Sampler", "indices", then=lambda e, g, a: None)(exp, got, args)
    return p or (None if got == exp else f"expected every pass to be {exp[0]}, got {got}")


def covers(exp, got, args):
    n = args[0]
    p = count(got, args[2], "the Sampler was iterated {} times")
    if p:
        return p
    for k, p in enumerate(got):
        if sorted(p) != list(range(n)):
            missing = sorted(set(range(n)) - set(p))[:5]
            return (
                f"pass {k + 1} should yield every index 0..{n - 1} exactly once; "
                f"got {len(p)} indices, missing {missing}"
            )
    return None


def batches_hint(e, g, a):
    return isinstance(g, list) and len(g[0]) == len(e[0]) - 1


CHECKS = [
    C(
        "softmax",
        "small_batch",
        "softmax_small",
        "softmax(x) on a (4, 3) batch",
        same(),
        hints=softmax_hints,
    ),
    C(
        "logsumexp",
        "small_batch",
        "logsumexp_small",
        "logsumexp(x) on a (4, 3) batch",
        same(),
        hints=lse_hints,
    ),
    C(
        "log_softmax",
        "small_batch",
        "log_softmax_small",
        "log_softmax(x) on a (4, 3) batch",
        same(),
        hints=log_softmax_hints,
    ),
    C(
        "nll",
        "small_batch",
        "nll_small",
        "nll(pred, y) with 5 rows of log-probabilities",
        same(),
        hints=nll_hints,
    ),
    C(
        "accuracy",
        "small_batch",
        "accuracy_small",
        "accuracy(ypred, ytrue) on 4 rows",
        same(),
        hints=acc_hints,
    ),
    C(
        "module_registration",
        "registers_l1_and_l2",
        "mymodule",
        "MyModule(6, 5, 3)._modules",
        lambda e, g, a: part("keys")(e, g, a) or part("types")(e, g, a),
    ),
    C(
        "module_registration",
        "parameters_in_order",
        "mymodule",
        "list(MyModule(6, 5, 3).parameters())",
        lambda e, g, a: part("shapes")(e, g, a) or part("same_objects")(e, g, a),
        hints=(
            (
                part_raised("shapes", "has no attribute 'shape'"),
                "parameters() should yield the parameters (tensors) of each registered module: "
                "yield from m.parameters()",
            ),
        ),
    ),
    C(
        "module_registration",
        "repr_names_modules",
        "mymodule",
        "repr(MyModule(6, 5, 3))",
        repr_names,
    ),
    C(
        "optimizer",
        "one_step",
        "opt_one_step",
        "Optimizer(params, lr=0.1).step() once",
        opt_params,
        hints=opt_hints,
    ),
    C(
        "optimizer",
        "default_lr",
        "opt_default_lr",
        "Optimizer(params) (default lr) for two steps",
        opt_params,
        hints=opt_hints,
    ),
    C("dataset", "length", "dataset_basic", "len(Dataset(x, y)) with 10 items", part("len")),
    C(
        "dataset",
        "int_and_slice",
        "dataset_basic",
        "Dataset(x, y)[3] and [2:7]",
        items(["ds[3]", "ds[2:7]"]),
    ),
    C(
        "sampler",
        "in_order_without_shuffle",
        "sampler_in_order",
        "list(Sampler(ds, shuffle=False)) twice, len(ds) == 10",
        in_order,
    ),
    C(
        "sampler",
        "shuffle_covers_every_index",
        "sampler_shuffle",
        "three passes of Sampler(ds, shuffle=True), len(ds) == 50",
        covers,
    ),
    C(
        "batch_sampler",
        "divides_evenly",
        "bs_even",
        "list(BatchSampler(range(12), 4))",
        passes("the BatchSampler", "batches"),
        hints=((batches_hint, "the last full batch went missing: check your loop's end"),),
    ),
    C(
        "batch_sampler",
        "keeps_short_last_batch",
        "bs_partial",
        "list(BatchSampler(range(10), 4, drop_last=False))",
        passes("the BatchSampler", "batches"),
        hints=((batches_hint, "with drop_last=False the short last batch [8, 9] must be kept"),),
    ),
    C(
        "collate",
        "stacks_pairs",
        "collate_basic",
        "collate([(x0, y0), ..., (x4, y4)]), x of shape (3,)",
        same(),
        hints=collate_hints,
    ),
    C(
        "dataloader",
        "yields_collated_batches",
        "dl_basic",
        "list(DataLoader(ds, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], collate_fn=f))",
        passes("the DataLoader", "batches", key="batches"),
        hints=(
            (
                raised("not defined"),
                "use the attributes stored on self (self.batchs, "
                "self.collate_fn), not names from the notebook",
            ),
        ),
    ),
    C(
        "fit",
        "returns_last_loss_and_accuracy",
        "fit_basic",
        "fit(2, model, loss_func, opt, "
        "train_dl, valid_dl) on 24 training and 12 validation rows, batches of 4",
        lambda e, g, a: _fit_part(e, g, "result"),
        hints=((lambda e, g, a: True, FIT_LAST),),
    ),
    C(
        "fit",
        "trains_the_model",
        "fit_basic",
        "the model's weights after fit(2, ...)",
        lambda e, g, a: _fit_part(e, g, "params"),
        hints=(
            (
                lambda e, g, a: True,
                "each batch needs loss.backward(), opt.step() and opt.zero_grad()",
            ),
        ),
    ),
]


def _fit_part(exp, got, key):
    from autograder import compare

    what = "(loss, accuracy) returned" if key == "result" else "weights after training"
    p = compare.values(exp[key], got[key], atol=1e-4, rtol=1e-3)
    return p and f"{what}: {p}"
