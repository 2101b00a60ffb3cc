"""Hidden checks of the minibatch assignment: randomized inputs (the grading seed), extreme values,
gradients and behaviour over time. Never shipped to students; they test only what the notebook asks.
"""

from __future__ import annotations

import torch

from autograder import compare
from autograder.checks import Check, Run
from autograder.checks.common import (
    count,
    each,
    gen,
    items,
    part,
    passes,
    randn,
    random_shapes,
    same,
)
from autograder.checks.minibatch import (
    FIT_LAST,
    MAXTRICK,
    acc_hints,
    collate_hints,
    log_softmax_hints,
    lse_hints,
    nll_hints,
    opt_hints,
    opt_params,
    softmax_hints,
)

R, C = Run, Check


def rand_inputs(seed, scale=3.0):
    "Random (N, C) batches, float32 and float64, including a single row and a single column."
    shapes = random_shapes(seed)
    return [
        (randn(seed + i, *s, scale=scale, dtype=(torch.float64 if i % 2 else torch.float32)),)
        for i, s in enumerate(shapes)
    ]


def with_neg_inf(seed):
    x = randn(seed, 6, 5, scale=3.0)
    x[0, 1] = x[3, 0] = x[3, 4] = float("-inf")
    return x


def rand_logprobs(seed):
    out = []
    for i, (n, c) in enumerate(random_shapes(seed)):
        x = randn(seed + i, n, c)
        out.append((x - x.logsumexp(1, keepdim=True), torch.randint(0, c, (n,), generator=gen(i))))
    return out


def grad_args(name, seed, n=5, c=4, scale=2.0):
    up = randn(seed + 1, n, 1 if name == "logsumexp" else c)
    return (name, randn(seed, n, c, scale=scale), up)


def fn_runs(gid):
    return [
        R(f"{gid}_random", gid, "call_each", lambda s: (gid, rand_inputs(s)), fixed_seed=False),
        R(f"{gid}_grad", gid, "call_grad", lambda s: grad_args(gid, s), fixed_seed=False),
    ]


RUNS = [
    *fn_runs("softmax"),
    R("softmax_moderate", "softmax", "call", lambda s: ("softmax", randn(s, 6, 7, scale=20.0))),
    *fn_runs("logsumexp"),
    R("logsumexp_large", "logsumexp", "call", lambda s: ("logsumexp", randn(s, 5, 4, scale=1e4))),
    R("logsumexp_neg_inf", "logsumexp", "call", lambda s: ("logsumexp", with_neg_inf(s))),
    *fn_runs("log_softmax"),
    R(
        "log_softmax_large",
        "log_softmax",
        "call",
        lambda s: ("log_softmax", randn(s, 5, 4, scale=1e4)),
    ),
    R("log_softmax_neg_inf", "log_softmax", "call", lambda s: ("log_softmax", with_neg_inf(s))),
    R("nll_random", "nll", "call_each", lambda s: ("nll", rand_logprobs(s)), fixed_seed=False),
    R(
        "nll_grad",
        "nll",
        "call_grad",
        lambda s: ("nll", rand_logprobs(s)[2][0], torch.tensor(1.7), rand_logprobs(s)[2][1]),
        fixed_seed=False,
    ),
    R(
        "accuracy_random",
        "accuracy",
        "call_each",
        lambda s: (
            "accuracy",
            [
                (randn(s + i, n, c), torch.randint(0, c, (n,), generator=gen(s + i)))
                for i, (n, c) in enumerate(random_shapes(s))
            ],
        ),
        fixed_seed=False,
    ),
    R(
        "opt_several",
        "optimizer",
        "optimizer_steps",
        lambda s: (
            [randn(s, 3, 4), randn(s + 1, 4)],
            [[randn(s + 10 * k, 3, 4), randn(s + 10 * k + 1, 4)] for k in range(1, 5)],
            0.03,
            False,
        ),
        fixed_seed=False,
    ),
    R(
        "opt_large_lr",
        "optimizer",
        "optimizer_steps",
        lambda s: ([randn(s, 2, 2)], [[randn(s + 1, 2, 2)], [randn(s + 2, 2, 2)]], 1.7, False),
    ),
    R("opt_training", "optimizer", "optimizer_training", lambda s: (6, 0.2), fixed_seed=False),
    R(
        "dataset_lists",
        "dataset",
        "dataset",
        lambda s: (randn(s, 12, 2, 2), torch.arange(12) % 5, [[4, 6, 7], -1, {"slice": [9, 30]}]),
    ),
    R("sampler_default", "sampler", "sampler", lambda s: (7, False, 1, False)),
    R("sampler_reshuffle", "sampler", "sampler", lambda s: (40, True, 4), fixed_seed=False),
    R("sampler_one", "sampler", "sampler", lambda s: (1, True, 2)),
    R("bs_drop", "batch_sampler", "batch_sampler", lambda s: (list(range(10)), 4, True, 1)),
    R("bs_drop_even", "batch_sampler", "batch_sampler", lambda s: (list(range(12)), 3, True, 1)),
    R(
        "bs_default",
        "batch_sampler",
        "batch_sampler",
        lambda s: (list(range(7)), 3, False, 1, False),
    ),
    R(
        "bs_order",
        "batch_sampler",
        "batch_sampler",
        lambda s: (torch.randperm(23, generator=gen(s)).tolist(), 5, False, 2),
        fixed_seed=False,
    ),
    R("bs_big", "batch_sampler", "batch_sampler", lambda s: (list(range(5)), 8, False, 1)),
    R(
        "collate_images",
        "collate",
        "collate",
        lambda s: (list(randn(s, 3, 2, 2)), list(torch.tensor([4, 1, 9]))),
        fixed_seed=False,
    ),
    R("collate_one", "collate", "collate", lambda s: ([randn(s, 4)], [torch.tensor(2)])),
    R(
        "dl_order",
        "dataloader",
        "dataloader",
        lambda s: (
            randn(s, 10, 3),
            torch.arange(10) % 4,
            [[5, 1], [0, 2, 3], [9], [4, 8, 7, 6]],
            2,
            False,
        ),
        fixed_seed=False,
    ),
    R(
        "dl_collate_fn",
        "dataloader",
        "dataloader",
        lambda s: (randn(s, 6, 2), torch.arange(6), [[0, 1, 2], [3, 4, 5]], 1, True),
    ),
    R("fit_partial", "fit", "fit", lambda s: (1, 20, 13, 5, 0.05, 1.0), fixed_seed=False),
    R("fit_loss_func", "fit", "fit", lambda s: (2, 16, 8, 4, 0.1, 3.0)),
    R("fit_epochs", "fit", "fit", lambda s: (3, 12, 6, 4, 0.2, 1.0), fixed_seed=False),
]


def fn_checks(gid, hints, grad_hint=""):
    return [
        C(
            gid,
            "random_shapes",
            f"{gid}_random",
            f"{gid}(x) on random (N, C) batches",
            each(),
            hidden=True,
            hints=hints,
        ),
        C(
            gid,
            "gradient",
            f"{gid}_grad",
            f"the gradient of {gid}(x) (autograd through it)",
            same(),
            hidden=True,
            hints=((lambda e, g, a: True, grad_hint),) if grad_hint else (),
        ),
    ]


def sampler_reshuffles(exp, got, args):
    p = count(got, args[2], "the Sampler was iterated {} times")
    if p:
        return p
    if len({tuple(p) for p in got}) < len(got) - 1:
        return (
            "the order repeats from pass to pass: shuffle inside __iter__, so each pass "
            "(each epoch) gets a new order, not once in __init__"
        )
    if any(p == sorted(p) for p in got):
        return "a pass came out in order although shuffle=True"
    return None


def zero_grad_clears(exp, got, args):
    after = got["grads_after_zero"]
    p = count(after, len(args[1]), "zero_grad() was seen after {} steps")
    for k, grads in enumerate(after if not p else ()):
        p = p or count(grads, len(args[0]), f"after step {k + 1}, {{}} gradients were reported")
    if p:
        return p
    for grads in after:
        if any(
            g is not None and (not isinstance(g, torch.Tensor) or g.abs().sum() > 0) for g in grads
        ):
            return "after zero_grad() every p.grad should be zero (or None)"
    return None


def leaves(exp, got, args):
    p = count(got["leaves"], len(args[0]), "{} parameters were reported")
    if p:
        return p
    if got["leaves"] != [True] * len(got["leaves"]):
        return (
            "after step() the parameters must still be leaf tensors that require grad: "
            "update them in place (p -= ...) under torch.no_grad()"
        )
    return None


CHECKS = [
    *fn_checks("softmax", softmax_hints),
    C(
        "softmax",
        "moderate_values",
        "softmax_moderate",
        "softmax(x) with |x| up to about 60",
        same(),
        hidden=True,
    ),
    *fn_checks("logsumexp", lse_hints),
    C(
        "logsumexp",
        "large_values",
        "logsumexp_large",
        "logsumexp(x) with |x| ≈ 1e4",
        same(atol=1e-2),
        hidden=True,
        hints=lse_hints,
    ),
    C(
        "logsumexp",
        "neg_inf_entries",
        "logsumexp_neg_inf",
        "logsumexp(x) with some -inf entries",
        same(),
        hidden=True,
        hints=lse_hints,
    ),
    *fn_checks("log_softmax", log_softmax_hints),
    C(
        "log_softmax",
        "large_values",
        "log_softmax_large",
        "log_softmax(x) with |x| ≈ 1e4",
        same(atol=1e-2),
        hidden=True,
        hints=(
            (
                lambda e, g, a: not g.isfinite().all(),
                MAXTRICK + ", via logsumexp: log_softmax(x) = x - logsumexp(x)",
            ),
        ),
    ),
    C(
        "log_softmax",
        "neg_inf_entries",
        "log_softmax_neg_inf",
        "log_softmax(x) with some -inf entries",
        same(),
        hidden=True,
    ),
    C(
        "nll",
        "random_shapes",
        "nll_random",
        "nll(pred, y) on random batches",
        each(),
        hidden=True,
        hints=nll_hints,
    ),
    C(
        "nll",
        "gradient",
        "nll_grad",
        "the gradient of nll(pred, y) with respect to pred",
        same(),
        hidden=True,
    ),
    C(
        "accuracy",
        "random_shapes",
        "accuracy_random",
        "accuracy(ypred, ytrue) on random batches",
        each(),
        hidden=True,
        hints=acc_hints,
    ),
    C(
        "module_registration",
        "new_public_attribute",
        "mymodule",
        "m.extra = nn.Linear(2, 3) and m.act = nn.ReLU() on a MyModule: registered, readable",
        part("add_public"),
        hidden=True,
        hints=(
            (
                lambda e, g, a: True,
                "__setattr__ should register every attribute whose name does not start with "
                "'_' in self._modules, whatever its type",
            ),
        ),
    ),
    C(
        "module_registration",
        "private_attribute_skipped",
        "mymodule",
        "m._note = '...' on a MyModule: set but not registered",
        part("add_private"),
        hidden=True,
    ),
    C(
        "module_registration",
        "attributes_still_set",
        "mymodule",
        "m.l1 and m.l2 are the registered layers (super().__setattr__ was called)",
        part("attr_is_registered"),
        hidden=True,
    ),
    C(
        "module_registration",
        "parameters_after_new_layer",
        "mymodule",
        "parameters() after adding a layer yields its parameters too",
        part("shapes_after_add"),
        hidden=True,
    ),
    C(
        "optimizer",
        "several_steps",
        "opt_several",
        "four steps of Optimizer(params, lr=0.03)",
        opt_params,
        hidden=True,
        hints=opt_hints,
    ),
    C(
        "optimizer",
        "large_lr",
        "opt_large_lr",
        "two steps of Optimizer(params, lr=1.7)",
        opt_params,
        hidden=True,
        hints=opt_hints,
    ),
    C(
        "optimizer",
        "zero_grad_clears",
        "opt_several",
        "p.grad after opt.zero_grad()",
        zero_grad_clears,
        hidden=True,
    ),
    C(
        "optimizer",
        "params_stay_trainable",
        "opt_several",
        "the parameters after opt.step()",
        leaves,
        hidden=True,
    ),
    C(
        "optimizer",
        "lesson_training_loop",
        "opt_training",
        "six steps of backward(), opt.step(), opt.zero_grad() on a small model",
        lambda e, g, a: compare.values(e, g),
        hidden=True,
        hints=opt_hints,
    ),
    C(
        "dataset",
        "list_negative_and_long_slice",
        "dataset_lists",
        "Dataset(x, y)[[4, 6, 7]], [-1] and [9:30]",
        items(["ds[[4, 6, 7]]", "ds[-1]", "ds[9:30]"]),
        hidden=True,
    ),
    C(
        "sampler",
        "default_is_in_order",
        "sampler_default",
        "list(Sampler(ds)) with no shuffle argument",
        passes("the Sampler", "indices"),
        hidden=True,
        hints=((lambda e, g, a: True, "shuffle defaults to False"),),
    ),
    C(
        "sampler",
        "reshuffles_every_pass",
        "sampler_reshuffle",
        "four passes of Sampler(ds, shuffle=True), len(ds) == 40",
        lambda e, g, a: covers_all(g, 40, a[2]) or sampler_reshuffles(e, g, a),
        hidden=True,
    ),
    C(
        "sampler",
        "single_item",
        "sampler_one",
        "Sampler over a dataset of one item",
        passes("the Sampler", "indices"),
        hidden=True,
    ),
    C(
        "batch_sampler",
        "drop_last_drops_short_batch",
        "bs_drop",
        "list(BatchSampler(range(10), 4, drop_last=True))",
        passes("the BatchSampler", "batches"),
        hidden=True,
        hints=(
            (
                lambda e, g, a: len(g[0]) > len(e[0]),
                "drop_last=True must drop the short last batch",
            ),
        ),
    ),
    C(
        "batch_sampler",
        "drop_last_when_even",
        "bs_drop_even",
        "list(BatchSampler(range(12), 3, drop_last=True))",
        passes("the BatchSampler", "batches"),
        hidden=True,
        hints=(
            (
                lambda e, g, a: len(g[0]) < len(e[0]),
                "drop_last only drops a batch that is short; here every batch is full",
            ),
        ),
    ),
    C(
        "batch_sampler",
        "default_keeps_last",
        "bs_default",
        "list(BatchSampler(range(7), 3))",
        passes("the BatchSampler", "batches"),
        hidden=True,
        hints=((lambda e, g, a: True, "drop_last defaults to False"),),
    ),
    C(
        "batch_sampler",
        "follows_sampler_order",
        "bs_order",
        "two passes of BatchSampler over a shuffled sampler of 23, bs=5",
        passes("the BatchSampler", "batches"),
        hidden=True,
        hints=(
            (
                lambda e, g, a: True,
                "take indices from iter(self.sampler) in the order it "
                "yields them, on every pass, with self.bs",
            ),
        ),
    ),
    C(
        "batch_sampler",
        "batch_larger_than_data",
        "bs_big",
        "list(BatchSampler(range(5), 8))",
        passes("the BatchSampler", "batches"),
        hidden=True,
    ),
    C(
        "collate",
        "image_samples",
        "collate_images",
        "collate of three (2, 2) images",
        same(),
        hidden=True,
        hints=collate_hints,
    ),
    C(
        "collate",
        "single_sample",
        "collate_one",
        "collate of a single sample",
        same(),
        hidden=True,
        hints=collate_hints,
    ),
    C(
        "dataloader",
        "honours_batch_sampler",
        "dl_order",
        "two passes of DataLoader(ds, [[5, 1], [0, 2, 3], [9], [4, 8, 7, 6]], collate_fn=f)",
        passes("the DataLoader", "batches", key="batches"),
        hidden=True,
        hints=(
            (
                lambda e, g, a: True,
                "iterate self.batchs afresh in "
                "__iter__ and index the dataset with each batch's indices",
            ),
        ),
    ),
    C(
        "dataloader",
        "uses_collate_fn",
        "dl_collate_fn",
        "DataLoader(..., collate_fn=f) with a custom f",
        passes("the DataLoader", "batches", key="batches"),
        hidden=True,
        hints=((lambda e, g, a: True, "call self.collate_fn, the one you were given"),),
    ),
    C(
        "fit",
        "weights_short_batches",
        "fit_partial",
        "fit(1, ...) with 13 validation rows in batches of 5",
        lambda e, g, a: compare.values(e["result"], g["result"], 1e-4, 1e-3),
        hidden=True,
        hints=(
            (
                lambda e, g, a: True,
                "average over samples, not batches: weight "
                "each batch's loss and accuracy by its size (len(xb)), then divide "
                "by the total count; " + FIT_LAST,
            ),
        ),
    ),
    C(
        "fit",
        "uses_loss_func",
        "fit_loss_func",
        "fit with a loss_func of 3 × cross-entropy",
        lambda e, g, a: compare.values(e["result"], g["result"], 1e-4, 1e-3),
        hidden=True,
        hints=(
            (
                lambda e, g, a: abs(g["result"][0] * 3 - e["result"][0]) < 0.05 * e["result"][0],
                "use the loss_func argument, for training and validation",
            ),
            (lambda e, g, a: True, FIT_LAST),
        ),
    ),
    C(
        "fit",
        "several_epochs",
        "fit_epochs",
        "weights after fit(3, ...)",
        lambda e, g, a: compare.values(e["params"], g["params"], 1e-4, 1e-3),
        hidden=True,
        hints=(
            (
                lambda e, g, a: True,
                "train for exactly `epochs` passes; each batch: backward, step, zero_grad",
            ),
        ),
    ),
]


def covers_all(got, n, times=None):
    p = count(got, times, "the Sampler was iterated {} times") if times is not None else None
    if p:
        return p
    for k, p in enumerate(got):
        if sorted(p) != list(range(n)):
            return f"pass {k + 1} should yield every index 0..{n - 1} exactly once"
    return None
