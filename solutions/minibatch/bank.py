# ruff: noqa: E501
# (E501 off: the cell sources keep the lesson's own long lines.)
"""Cell sources that test the grader: the lesson's own answers, other correct answers, known bugs.

Each source is a whole replacement for one exercise cell (keyed by its nbgrader grade_id) and runs
after the locked setup cell (`SETUP`) and the earlier exercise cells, in one shared namespace.
"""

from __future__ import annotations

from textwrap import dedent

from autograder.bank import Bug


def _cell(src: str) -> str:
    "Source written indented inside this file, as the notebook cell holds it."
    return dedent(src).strip() + "\n"


# What the locked setup cell imports; the in-process sanity tests run the bank after it.
SETUP = _cell("""
    import math, random
    import torch
    from torch import nn, tensor
    import torch.nn.functional as F
    import fastcore.all as fc
    from functools import reduce
    from itertools import islice
""")

# The lesson's code for each exercise, as the lesson writes it (trailing blanks aside).
LESSON: dict[str, str] = {
    "softmax": _cell("""
        def softmax(x):
            return torch.exp(x) / torch.exp(x).sum(dim=1)[:, None]
    """),
    "logsumexp": _cell("""
        def logsumexp(x): # want to work for batch of vectors x
            a = x.max(dim=1)[0][:, None] # max entry for each row of shape [batch_size, 1]
            return a + torch.exp(x-a).sum(dim=1).log()[:,None]
    """),
    "log_softmax": _cell("""
        def log_softmax(x):
             return x - logsumexp(x)
    """),
    "nll": _cell("""
        def nll(pred, y):
            return -pred[range(len(pred)), y].mean()
    """),
    "accuracy": _cell("""
        def accuracy(ypred, ytrue): return (torch.argmax(ypred, dim=1)==ytrue).float().mean()
    """),
    "module_registration": _cell("""
        class MyModule():
            def __init__(self, n_in, nh, n_out):
                self._modules = {}
                self.l1 = nn.Linear(n_in,nh)
                self.l2 = nn.Linear(nh,n_out)

            def __setattr__(self,k,v):
                if not k.startswith("_"): self._modules[k] = v
                super().__setattr__(k,v)

            def __repr__(self): return f'{self._modules}'

            def parameters(self):
                for l in self._modules.values():
                    # TODO: rewrite with `yield from`
                    for p in l.parameters(): yield p
    """),
    "optimizer": _cell("""
        class Optimizer():
            def __init__(self, params, lr=0.5):
                self.params = list(params)
                self.lr=lr

            def step(self):
                with torch.no_grad():
                    for p in self.params:
                        p -= p.grad * self.lr

            def zero_grad(self):
                for p in self.params:
                    p.grad.data.zero_()
    """),
    "dataset": _cell("""
        class Dataset:
            def __init__(self,x,y):
                self.x = x
                self.y = y

            def __len__(self):
                return len(self.x)

            def __getitem__(self, i):
                return self.x[i], self.y[i]
    """),
    "sampler": _cell("""
        class Sampler:

            def __init__(self, ds, shuffle=False):
                self.shuffle = shuffle
                self.n = len(ds)

            def __iter__(self):
                res = list(range(self.n))
                if self.shuffle:
                    random.shuffle(res)
                return iter(res)
    """),
    "batch_sampler": _cell("""
        class BatchSampler():
            def __init__(self, sampler, bs, drop_last=False):
                # sampler,bs,drop_last = self.sampler,self.bs,self.drop_last
                fc.store_attr()

            def __iter__(self): yield from fc.chunked(iter(self.sampler), self.bs, drop_last=self.drop_last)
    """),
    "collate": _cell("""
        def collate(b):
            xs,ys = zip(*b)
            return torch.stack(xs),torch.stack(ys)
    """),
    "dataloader": _cell("""
        class DataLoader():

            def __init__(self, ds, batchs, collate_fn=collate):
                fc.store_attr()

            def __iter__(self):
                for b in self.batchs:
                    yield self.collate_fn(self.ds[i] for i in b)
    """),
    "fit": _cell("""
        def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
            for epoch in range(epochs):
                model.train()
                for xb,yb in train_dl:
                    loss = loss_func(model(xb), yb)
                    loss.backward()
                    opt.step()
                    opt.zero_grad()

                model.eval()
                with torch.no_grad():
                    tot_loss,tot_acc,count = 0.,0.,0
                    for xb,yb in valid_dl:
                        pred = model(xb)
                        n = len(xb)
                        count += n
                        tot_loss += loss_func(pred,yb).item()*n
                        tot_acc  += accuracy (pred,yb).item()*n
                print(epoch, tot_loss/count, tot_acc/count)
            return tot_loss/count, tot_acc/count
    """),
}

# Correct answers in other styles. Alternative k of every exercise goes into one notebook together,
# so every list has the same length (3) and none of them leans on another exercise's quirks.
ALTERNATIVES: dict[str, list[tuple[str, str]]] = {
    "softmax": [
        (
            "exp_keepdim",
            _cell("""
                def softmax(x):
                    return x.exp() / x.exp().sum(1, keepdim=True)
            """),
        ),
        (
            "amax_shift",
            _cell("""
                def softmax(x):
                    e = (x - x.amax(dim=1, keepdim=True)).exp()
                    return e / e.sum(dim=1, keepdim=True)
            """),
        ),
        (
            "row_loop",
            _cell("""
                def softmax(x):
                    rows = []
                    for row in x:
                        e = torch.exp(row)
                        rows.append(e / e.sum())
                    return torch.stack(rows)
            """),
        ),
    ],
    "logsumexp": [
        (
            "max_values",
            _cell("""
                def logsumexp(x):
                    m = x.max(1, keepdim=True).values
                    return m + (x - m).exp().sum(1, keepdim=True).log()
            """),
        ),
        (
            "amax",
            _cell("""
                def logsumexp(x):
                    m = torch.amax(x, dim=1, keepdim=True)
                    return m + torch.log(torch.sum(torch.exp(x - m), dim=1, keepdim=True))
            """),
        ),
        (
            "unsqueeze_last",
            _cell("""
                def logsumexp(x):
                    m = x.max(-1)[0]
                    return (m + (x - m.unsqueeze(-1)).exp().sum(-1).log()).unsqueeze(1)
            """),
        ),
    ],
    "log_softmax": [
        (
            "sub_method",
            _cell("""
                def log_softmax(x):
                    return x.sub(logsumexp(x))
            """),
        ),
        (
            "inline_shift",
            _cell("""
                def log_softmax(x):
                    shifted = x - x.amax(1, keepdim=True)
                    return shifted - shifted.exp().sum(1, keepdim=True).log()
            """),
        ),
        (
            "row_loop",
            _cell("""
                def log_softmax(x):
                    lse = logsumexp(x)
                    return torch.stack([row - l for row, l in zip(x, lse)])
            """),
        ),
    ],
    "nll": [
        (
            "gather",
            _cell("""
                def nll(pred, y):
                    return -pred.gather(1, y.unsqueeze(1)).mean()
            """),
        ),
        (
            "one_hot_multiply",
            _cell("""
                def nll(pred, y):
                    one_hot = F.one_hot(y, num_classes=pred.shape[1])
                    return -(pred * one_hot).sum(dim=1).mean()
            """),
        ),
        (
            "enumerate_loop",
            _cell("""
                def nll(pred, y):
                    picked = [pred[i, t] for i, t in enumerate(y)]
                    return -torch.stack(picked).mean()
            """),
        ),
    ],
    "accuracy": [
        (
            "max_indices",
            _cell("""
                def accuracy(ypred, ytrue):
                    return (ypred.max(dim=1).indices == ytrue).float().mean()
            """),
        ),
        (
            "sum_over_len",
            _cell("""
                def accuracy(ypred, ytrue):
                    return (ypred.argmax(-1) == ytrue).sum() / len(ytrue)
            """),
        ),
        (
            "eq_to_float32",
            _cell("""
                def accuracy(ypred, ytrue):
                    return torch.mean(torch.eq(torch.argmax(ypred, 1), ytrue).to(torch.float32))
            """),
        ),
    ],
    "module_registration": [
        (
            "object_setattr",
            _cell("""
                class MyModule:
                    def __init__(self, n_in, nh, n_out):
                        object.__setattr__(self, '_modules', {})
                        self.l1 = nn.Linear(n_in, nh)
                        self.l2 = nn.Linear(nh, n_out)

                    def __setattr__(self, name, value):
                        if not name.startswith('_'):
                            self._modules[name] = value
                        object.__setattr__(self, name, value)

                    def __repr__(self):
                        inner = ', '.join(f'{k}={v}' for k, v in self._modules.items())
                        return f'MyModule({inner})'

                    def parameters(self):
                        for m in self._modules.values():
                            yield from m.parameters()
            """),
        ),
        (
            "instance_dict",
            _cell("""
                class MyModule:
                    def __init__(self, n_in, nh, n_out):
                        self._modules = {}
                        self.l1, self.l2 = nn.Linear(n_in, nh), nn.Linear(nh, n_out)

                    def __setattr__(self, k, v):
                        if k[:1] != '_':
                            self._modules[k] = v
                        self.__dict__[k] = v

                    def __repr__(self):
                        return f'{type(self).__name__}({self._modules!r})'

                    def parameters(self):
                        return (p for m in self._modules.values() for p in m.parameters())
            """),
        ),
        (
            "reduce_params",
            _cell("""
                class MyModule:
                    def __init__(self, n_in, nh, n_out):
                        super().__setattr__('_modules', {})
                        self.l1 = nn.Linear(n_in, nh)
                        self.l2 = nn.Linear(nh, n_out)

                    def __setattr__(self, k, v):
                        super().__setattr__(k, v)
                        if not k.startswith('_'):
                            self._modules[k] = v

                    def __repr__(self):
                        return repr(self._modules)

                    def parameters(self):
                        return iter(reduce(lambda ps, m: ps + list(m.parameters()),
                                           self._modules.values(), []))
            """),
        ),
    ],
    "optimizer": [
        (
            "data_sub_grad_none",
            _cell("""
                class Optimizer:
                    def __init__(self, params, lr=0.5):
                        self.params, self.lr = list(params), lr

                    def step(self):
                        for p in self.params:
                            p.data.sub_(self.lr * p.grad)

                    def zero_grad(self):
                        for p in self.params:
                            p.grad = None
            """),
        ),
        (
            "no_grad_decorator",
            _cell("""
                class Optimizer:
                    def __init__(self, params, lr=0.5):
                        fc.store_attr('lr')
                        self.params = [*params]

                    @torch.no_grad()
                    def step(self):
                        for p in self.params:
                            p.sub_(p.grad, alpha=self.lr)

                    def zero_grad(self):
                        for p in self.params:
                            if p.grad is not None:
                                p.grad.zero_()
            """),
        ),
        (
            "add_negative",
            _cell("""
                class Optimizer:
                    def __init__(self, params, lr=0.5):
                        self.params = list(params)
                        self.lr = lr

                    def step(self):
                        with torch.no_grad():
                            for p in self.params:
                                p.add_(-self.lr * p.grad)

                    def zero_grad(self):
                        for p in self.params:
                            p.grad.fill_(0.0)
            """),
        ),
    ],
    "dataset": [
        (
            "dataclass",
            _cell("""
                from dataclasses import dataclass

                @dataclass
                class Dataset:
                    x: torch.Tensor
                    y: torch.Tensor

                    def __len__(self):
                        return len(self.x)

                    def __getitem__(self, i):
                        return self.x[i], self.y[i]
            """),
        ),
        (
            "stored_tuple",
            _cell("""
                class Dataset:
                    def __init__(self, x, y):
                        self.data = (x, y)

                    def __len__(self):
                        return self.data[0].shape[0]

                    def __getitem__(self, i):
                        return tuple(t[i] for t in self.data)
            """),
        ),
        (
            "store_attr",
            _cell("""
                class Dataset:
                    def __init__(self, x, y): fc.store_attr()
                    def __len__(self): return len(self.x)
                    def __getitem__(self, idx): return (self.x[idx], self.y[idx])
            """),
        ),
    ],
    "sampler": [
        (
            "torch_randperm",
            _cell("""
                class Sampler:
                    def __init__(self, ds, shuffle=False):
                        self.n, self.shuffle = len(ds), shuffle

                    def __iter__(self):
                        idxs = torch.randperm(self.n).tolist() if self.shuffle else range(self.n)
                        yield from idxs
            """),
        ),
        (
            "random_sample",
            _cell("""
                class Sampler:
                    def __init__(self, ds, shuffle=False):
                        fc.store_attr('shuffle')
                        self.n = len(ds)

                    def __iter__(self):
                        if self.shuffle:
                            return iter(random.sample(range(self.n), self.n))
                        return iter(range(self.n))
            """),
        ),
        (
            "numpy_permutation",
            _cell("""
                import numpy as np

                class Sampler:
                    def __init__(self, ds, shuffle=False):
                        self.ds, self.shuffle = ds, shuffle

                    def __iter__(self):
                        n = len(self.ds)
                        idxs = np.random.permutation(n) if self.shuffle else np.arange(n)
                        return (int(i) for i in idxs)
            """),
        ),
    ],
    "batch_sampler": [
        (
            "manual_loop",
            _cell("""
                class BatchSampler:
                    def __init__(self, sampler, bs, drop_last=False):
                        self.sampler, self.bs, self.drop_last = sampler, bs, drop_last

                    def __iter__(self):
                        batch = []
                        for i in self.sampler:
                            batch.append(i)
                            if len(batch) == self.bs:
                                yield batch
                                batch = []
                        if batch and not self.drop_last:
                            yield batch
            """),
        ),
        (
            "islice_walrus",
            _cell("""
                class BatchSampler:
                    def __init__(self, sampler, bs, drop_last=False):
                        fc.store_attr()

                    def __iter__(self):
                        it = iter(self.sampler)
                        while batch := list(islice(it, self.bs)):
                            if len(batch) < self.bs and self.drop_last:
                                break
                            yield batch
            """),
        ),
        (
            "slice_list",
            _cell("""
                class BatchSampler:
                    def __init__(self, sampler, bs, drop_last=False):
                        fc.store_attr()

                    def __iter__(self):
                        idxs = list(self.sampler)
                        stop = len(idxs) - len(idxs) % self.bs if self.drop_last else len(idxs)
                        for i in range(0, stop, self.bs):
                            yield idxs[i:i + self.bs]
            """),
        ),
    ],
    "collate": [
        (
            "stack_comprehensions",
            _cell("""
                def collate(b):
                    return torch.stack([x for x, _ in b]), torch.stack([y for _, y in b])
            """),
        ),
        (
            "cat_unsqueezed",
            _cell("""
                def collate(b):
                    xs = torch.cat([x.unsqueeze(0) for x, _ in b])
                    ys = torch.cat([y[None] for _, y in b])
                    return xs, ys
            """),
        ),
        (
            "map_stack",
            _cell("""
                def collate(b):
                    return tuple(map(torch.stack, zip(*b)))
            """),
        ),
    ],
    "dataloader": [
        (
            "map",
            _cell("""
                class DataLoader:
                    def __init__(self, ds, batchs, collate_fn=collate):
                        self.ds, self.batchs, self.collate_fn = ds, batchs, collate_fn

                    def __iter__(self):
                        return map(lambda b: self.collate_fn([self.ds[i] for i in b]), self.batchs)
            """),
        ),
        (
            "yield_from_getitem",
            _cell("""
                class DataLoader:
                    def __init__(self, ds, batchs, collate_fn=collate):
                        fc.store_attr()

                    def __iter__(self):
                        get = self.ds.__getitem__
                        yield from (self.collate_fn(list(map(get, b))) for b in self.batchs)
            """),
        ),
        (
            "helper_method",
            _cell("""
                class DataLoader:
                    def __init__(self, ds, batchs, collate_fn=collate):
                        fc.store_attr()

                    def _batch(self, idxs):
                        return self.collate_fn([self.ds[i] for i in idxs])

                    def __iter__(self):
                        for idxs in self.batchs:
                            yield self._batch(idxs)
            """),
        ),
    ],
    "fit": [
        (
            "lists",
            _cell("""
                def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
                    for epoch in range(epochs):
                        model.train()
                        for xb, yb in train_dl:
                            loss_func(model(xb), yb).backward()
                            opt.step()
                            opt.zero_grad()
                        model.eval()
                        losses, accs, sizes = [], [], []
                        with torch.no_grad():
                            for xb, yb in valid_dl:
                                pred = model(xb)
                                losses.append(loss_func(pred, yb).item())
                                accs.append(accuracy(pred, yb).item())
                                sizes.append(len(yb))
                        n = sum(sizes)
                        loss = sum(l * s for l, s in zip(losses, sizes)) / n
                        acc = sum(a * s for a, s in zip(accs, sizes)) / n
                    return loss, acc
            """),
        ),
        (
            "tensor_totals",
            _cell("""
                def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
                    for epoch in range(epochs):
                        model.train()
                        for xb, yb in train_dl:
                            loss = loss_func(model(xb), yb)
                            loss.backward()
                            opt.step()
                            opt.zero_grad()
                        model.eval()
                        tot_loss, correct, count = torch.tensor(0.0), torch.tensor(0.0), 0
                        with torch.no_grad():
                            for xb, yb in valid_dl:
                                pred = model(xb)
                                tot_loss += loss_func(pred, yb) * len(yb)
                                correct += (pred.argmax(dim=1) == yb).sum()
                                count += len(yb)
                        print(epoch, (tot_loss / count).item(), (correct / count).item())
                    return tot_loss / count, correct / count
            """),
        ),
        (
            "evaluate_history",
            _cell("""
                def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
                    def evaluate():
                        model.eval()
                        n = tot_loss = tot_acc = 0
                        with torch.no_grad():
                            for xb, yb in valid_dl:
                                pred, bs = model(xb), xb.shape[0]
                                tot_loss += loss_func(pred, yb).item() * bs
                                tot_acc += accuracy(pred, yb).item() * bs
                                n += bs
                        return tot_loss / n, tot_acc / n

                    history = []
                    for epoch in range(epochs):
                        model.train()
                        for xb, yb in train_dl:
                            loss_func(model(xb), yb).backward()
                            opt.step()
                            opt.zero_grad()
                        history.append(evaluate())
                        print(epoch, *history[-1])
                    return history[-1]
            """),
        ),
    ],
}

# Mistakes students make. Each must lose points on its own exercise only (plus `also`).
BUGS: dict[str, list[Bug]] = {
    "softmax": [
        Bug(
            "sum_dim0",
            _cell("""
                def softmax(x):
                    return torch.exp(x) / torch.exp(x).sum(dim=0)
            """),
            ("dim", "row", "rows", "column", "columns", "sum"),
            hints=("you normalised over dim 0",),
        ),
        Bug(
            "no_keepdim",
            _cell("""
                def softmax(x):
                    return torch.exp(x) / torch.exp(x).sum(dim=1)
            """),
            ("shape", "broadcast", "broadcasts", "keepdim", "size"),
            hints=("keep the reduced dim so the result broadcasts",),
        ),
        Bug(
            "whole_tensor_sum",
            _cell("""
                def softmax(x):
                    return torch.exp(x) / torch.exp(x).sum()
            """),
            ("row", "rows", "dim", "sum"),
            hints=("you divided by the sum of the whole batch",),
        ),
        Bug(
            "no_exp",
            _cell("""
                def softmax(x):
                    return x / x.sum(dim=1, keepdim=True)
            """),
            ("exp", "negative", "positive", "probability", "probabilities", "differ"),
        ),
    ],
    "logsumexp": [
        Bug(
            "no_max_trick",
            _cell("""
                def logsumexp(x):
                    return torch.exp(x).sum(dim=1, keepdim=True).log()
            """),
            ("overflow", "overflows", "inf", "max", "stable", "large"),
            hints=("exp overflows for large inputs",),
        ),
        Bug(
            "shape_n",
            _cell("""
                def logsumexp(x):
                    a = x.max(dim=1).values
                    return a + (x - a[:, None]).exp().sum(dim=1).log()
            """),
            ("shape",),
            hints=("logsumexp should return shape (N, 1)",),
        ),
        Bug(
            "max_not_added_back",
            _cell("""
                def logsumexp(x):
                    a = x.max(dim=1, keepdim=True).values
                    return (x - a).exp().sum(dim=1, keepdim=True).log()
            """),
            ("max", "shift", "add", "differ"),
            hints=("did not add it back outside the log",),
        ),
        Bug(
            "whole_tensor_sum",
            _cell("""
                def logsumexp(x):
                    a = x.max(dim=1)[0][:, None]
                    return a + torch.exp(x - a).sum().log()
            """),
            ("row", "rows", "dim", "sum", "differ"),
        ),
    ],
    "log_softmax": [
        Bug(
            "log_of_softmax",
            _cell("""
                def log_softmax(x):
                    return torch.log(torch.exp(x) / torch.exp(x).sum(dim=1)[:, None])
            """),
            ("inf", "nan", "overflow", "overflows", "stable", "large"),
            hints=("exp overflows for large inputs",),
        ),
        Bug(
            "log_of_sum_exp",
            _cell("""
                def log_softmax(x):
                    return x - torch.log(torch.exp(x).sum(dim=1)[:, None])
            """),
            ("inf", "nan", "overflow", "overflows", "stable", "large"),
            hints=("exp overflows for large inputs",),
        ),
        Bug(
            "sign_flipped",
            _cell("""
                def log_softmax(x):
                    return logsumexp(x) - x
            """),
            ("sign", "negative", "positive", "<= 0", "≤ 0"),
            hints=("sign: log-probabilities are ≤ 0",),
        ),
        Bug(
            "no_keepdim",
            _cell("""
                def log_softmax(x):
                    m = x.max(dim=1).values
                    return x - (m + (x - m[:, None]).exp().sum(dim=1).log())
            """),
            ("shape", "broadcast", "broadcasts", "keepdim", "size"),
            hints=("keep the reduced dim so the result broadcasts",),
        ),
    ],
    "nll": [
        Bug(
            "sum_not_mean",
            _cell("""
                def nll(pred, y):
                    return -pred[range(len(pred)), y].sum()
            """),
            ("mean", "sum", "summed", "average"),
            hints=("you summed",),
        ),
        Bug(
            "missing_minus",
            _cell("""
                def nll(pred, y):
                    return pred[range(len(pred)), y].mean()
            """),
            ("sign", "negative", "minus"),
            hints=("sign: nll is minus",),
        ),
        Bug(
            "column_index",
            _cell("""
                def nll(pred, y):
                    return -pred[:, y].mean()
            """),
            ("index", "indexing", "target", "targets", "row", "rows", "column", "columns", "shape"),
            hints=("pred[:, y] picks whole columns",),
        ),
        Bug(
            "log_again",
            _cell("""
                def nll(pred, y):
                    return -pred[range(len(pred)), y].log().mean()
            """),
            ("nan", "already"),
        ),
    ],
    "accuracy": [
        Bug(
            "count_not_fraction",
            _cell("""
                def accuracy(ypred, ytrue):
                    return (ypred.argmax(dim=1) == ytrue).float().sum()
            """),
            ("fraction", "mean", "count", "proportion", "divide"),
            hints=("that is a count",),
        ),
        Bug(
            "argmax_dim0",
            _cell("""
                def accuracy(ypred, ytrue):
                    return (ypred.argmax(dim=0) == ytrue).float().mean()
            """),
            ("dim", "argmax", "shape", "size"),
            hints=("argmax over dim=1",),
        ),
        Bug(
            "python_float",
            _cell("""
                def accuracy(ypred, ytrue):
                    return (ypred.argmax(dim=1) == ytrue).float().mean().item()
            """),
            ("tensor", "float", "type"),
        ),
        Bug(
            "bool_mean",
            _cell("""
                def accuracy(ypred, ytrue):
                    return (ypred.argmax(dim=1) == ytrue).mean()
            """),
            ("dtype", "float", "bool"),
            hints=("turn booleans into floats",),
        ),
        Bug(
            "max_values",
            _cell("""
                def accuracy(ypred, ytrue):
                    return (ypred.max(dim=1).values == ytrue).float().mean()
            """),
            ("argmax", "index", "indices", "differ"),
        ),
    ],
    "module_registration": [
        Bug(
            "registers_private",
            _cell("""
                class MyModule:
                    def __init__(self, n_in, nh, n_out):
                        self._modules = {}
                        self.l1 = nn.Linear(n_in, nh)
                        self.l2 = nn.Linear(nh, n_out)

                    def __setattr__(self, k, v):
                        if k != '_modules': self._modules[k] = v
                        super().__setattr__(k, v)

                    def __repr__(self): return f'{self._modules}'

                    def parameters(self):
                        for l in self._modules.values(): yield from l.parameters()
            """),
            ("underscore", "private", "starts with", "starting with", "'_'", "not registered"),
        ),
        Bug(
            "no_super_setattr",
            _cell("""
                class MyModule:
                    def __init__(self, n_in, nh, n_out):
                        self._modules = {}
                        self.l1 = nn.Linear(n_in, nh)
                        self.l2 = nn.Linear(nh, n_out)

                    def __setattr__(self, k, v):
                        if not k.startswith('_'): self._modules[k] = v

                    def __repr__(self): return f'{self._modules}'

                    def parameters(self):
                        for l in self._modules.values(): yield from l.parameters()
            """),
            ("attribute", "super", "setattr", "__setattr__"),
            hints=("the registry must be a dict named self._modules",),
        ),
        Bug(
            "yields_modules",
            _cell("""
                class MyModule:
                    def __init__(self, n_in, nh, n_out):
                        self._modules = {}
                        self.l1 = nn.Linear(n_in, nh)
                        self.l2 = nn.Linear(nh, n_out)

                    def __setattr__(self, k, v):
                        if not k.startswith('_'): self._modules[k] = v
                        super().__setattr__(k, v)

                    def __repr__(self): return f'{self._modules}'

                    def parameters(self):
                        yield from self._modules.values()
            """),
            ("parameter", "tensor", "tensors"),
            hints=("parameters() should yield the parameters",),
        ),
        Bug(
            "only_linear",
            _cell("""
                class MyModule:
                    def __init__(self, n_in, nh, n_out):
                        self._modules = {}
                        self.l1 = nn.Linear(n_in, nh)
                        self.l2 = nn.Linear(nh, n_out)

                    def __setattr__(self, k, v):
                        if isinstance(v, nn.Linear): self._modules[k] = v
                        super().__setattr__(k, v)

                    def __repr__(self): return f'{self._modules}'

                    def parameters(self):
                        for l in self._modules.values(): yield from l.parameters()
            """),
            ("register", "registered", "_modules"),
            hints=("whatever its type",),
        ),
        Bug(
            "weights_only",
            _cell("""
                class MyModule:
                    def __init__(self, n_in, nh, n_out):
                        self._modules = {}
                        self.l1 = nn.Linear(n_in, nh)
                        self.l2 = nn.Linear(nh, n_out)

                    def __setattr__(self, k, v):
                        if not k.startswith('_'): self._modules[k] = v
                        super().__setattr__(k, v)

                    def __repr__(self): return f'{self._modules}'

                    def parameters(self):
                        for l in self._modules.values(): yield l.weight
            """),
            ("bias", "biases", "items", "count"),
        ),
        Bug(
            "no_repr",
            _cell("""
                class MyModule:
                    def __init__(self, n_in, nh, n_out):
                        self._modules = {}
                        self.l1 = nn.Linear(n_in, nh)
                        self.l2 = nn.Linear(nh, n_out)

                    def __setattr__(self, k, v):
                        if not k.startswith('_'): self._modules[k] = v
                        super().__setattr__(k, v)

                    def parameters(self):
                        for l in self._modules.values(): yield from l.parameters()
            """),
            ("repr",),
        ),
        Bug(
            "registry_other_name",
            _cell("""
                class MyModule:
                    def __init__(self, n_in, nh, n_out):
                        self._layers = {}
                        self.l1 = nn.Linear(n_in, nh)
                        self.l2 = nn.Linear(nh, n_out)

                    def __setattr__(self, k, v):
                        if not k.startswith('_'): self._layers[k] = v
                        super().__setattr__(k, v)

                    def __repr__(self): return f'{self._layers}'

                    def parameters(self):
                        for l in self._layers.values(): yield from l.parameters()
            """),
            ("self._modules",),
        ),
        Bug(
            "update_keyword",
            _cell("""
                class MyModule:
                    def __init__(self, n_in, nh, n_out):
                        self._modules = {}
                        self.l1 = nn.Linear(n_in, nh)
                        self.l2 = nn.Linear(nh, n_out)

                    def __setattr__(self, k, v):
                        if not k.startswith('_'): self._modules.update(k=v)
                        super().__setattr__(k, v)

                    def __repr__(self): return f'{self._modules}'

                    def parameters(self):
                        for l in self._modules.values(): yield from l.parameters()
            """),
            ("keys", "name"),
            hints=("in the order assigned",),
        ),
        Bug(
            "dict_registry_no_super",
            _cell("""
                class MyModule:
                    def __init__(self, n_in, nh, n_out):
                        self.__dict__['_modules'] = {}
                        self.l1 = nn.Linear(n_in, nh)
                        self.l2 = nn.Linear(nh, n_out)

                    def __setattr__(self, k, v):
                        if not k.startswith('_'): self._modules[k] = v

                    def __repr__(self): return f'{self._modules}'

                    def parameters(self):
                        for l in self._modules.values(): yield from l.parameters()
            """),
            ("super", "__setattr__", "attribute"),
            hints=("store each attribute too",),
        ),
    ],
    "optimizer": [
        Bug(
            "no_no_grad",
            _cell("""
                class Optimizer:
                    def __init__(self, params, lr=0.5):
                        self.params, self.lr = list(params), lr

                    def step(self):
                        for p in self.params: p -= p.grad * self.lr

                    def zero_grad(self):
                        for p in self.params: p.grad.zero_()
            """),
            ("no_grad", "leaf", "in-place", "in place"),
            hints=("wrap step's loop in torch.no_grad()",),
        ),
        Bug(
            "lr_ignored",
            _cell("""
                class Optimizer:
                    def __init__(self, params, lr=0.5):
                        self.params, self.lr = list(params), lr

                    def step(self):
                        with torch.no_grad():
                            for p in self.params: p -= p.grad * 0.5

                    def zero_grad(self):
                        for p in self.params: p.grad.zero_()
            """),
            ("lr", "learning rate"),
        ),
        Bug(
            "not_in_place",
            _cell("""
                class Optimizer:
                    def __init__(self, params, lr=0.5):
                        self.params, self.lr = list(params), lr

                    def step(self):
                        with torch.no_grad():
                            for p in self.params: p = p - self.lr * p.grad

                    def zero_grad(self):
                        for p in self.params: p.grad.zero_()
            """),
            ("in-place", "in place", "unchanged", "did not change", "rebinding"),
            hints=("the parameters did not change",),
        ),
        Bug(
            "zero_grad_without_call",
            _cell("""
                class Optimizer:
                    def __init__(self, params, lr=0.5):
                        self.params, self.lr = list(params), lr

                    def step(self):
                        with torch.no_grad():
                            for p in self.params: p -= p.grad * self.lr

                    def zero_grad(self):
                        for p in self.params: p.grad.zero_
            """),
            ("zero_grad", "zero"),
        ),
        Bug(
            "adds_gradient",
            _cell("""
                class Optimizer:
                    def __init__(self, params, lr=0.5):
                        self.params, self.lr = list(params), lr

                    def step(self):
                        with torch.no_grad():
                            for p in self.params: p += p.grad * self.lr

                    def zero_grad(self):
                        for p in self.params: p.grad.zero_()
            """),
            ("sign", "ascent", "subtract", "direction"),
        ),
        Bug(
            "keeps_generator",
            _cell("""
                class Optimizer:
                    def __init__(self, params, lr=0.5):
                        self.params, self.lr = params, lr

                    def step(self):
                        with torch.no_grad():
                            for p in self.params: p -= p.grad * self.lr

                    def zero_grad(self):
                        for p in self.params: p.grad.zero_()
            """),
            ("list", "generator", "iterator", "exhausted", "once"),
            hints=("only the first step changed anything",),
        ),
        Bug(
            "default_lr_not_half",
            _cell("""
                class Optimizer:
                    def __init__(self, params, lr=0.1):
                        self.params, self.lr = list(params), lr

                    def step(self):
                        with torch.no_grad():
                            for p in self.params: p -= p.grad * self.lr

                    def zero_grad(self):
                        for p in self.params: p.grad.zero_()
            """),
            ("default", "learning rate", "0.5"),
            hints=("the default learning rate is 0.5",),
        ),
        Bug(
            "grads_read_in_init",
            _cell("""
                class Optimizer:
                    def __init__(self, params, lr=0.5):
                        self.params, self.lr = list(params), lr
                        self.grads = [p.grad for p in self.params]

                    def step(self):
                        with torch.no_grad():
                            for p, g in zip(self.params, self.grads): p -= g * self.lr

                    def zero_grad(self):
                        for p in self.params: p.grad.zero_()
            """),
            ("p.grad", "none"),
            hints=("p.grad is None before the first backward",),
        ),
    ],
    "dataset": [
        Bug(
            "only_x",
            _cell("""
                class Dataset:
                    def __init__(self, x, y): self.x, self.y = x, y
                    def __len__(self): return len(self.x)
                    def __getitem__(self, i): return self.x[i]
            """),
            ("tuple", "pair", "target"),
        ),
        Bug(
            "swapped",
            _cell("""
                class Dataset:
                    def __init__(self, x, y): self.x, self.y = x, y
                    def __len__(self): return len(self.x)
                    def __getitem__(self, i): return self.y[i], self.x[i]
            """),
            ("order", "swap", "swapped", "first"),
        ),
        Bug(
            "len_of_features",
            _cell("""
                class Dataset:
                    def __init__(self, x, y): self.x, self.y = x, y
                    def __len__(self): return len(self.x[0])
                    def __getitem__(self, i): return self.x[i], self.y[i]
            """),
            ("len", "length"),
        ),
        Bug(
            "zipped_pairs",
            _cell("""
                class Dataset:
                    def __init__(self, x, y): self.items = list(zip(x, y))
                    def __len__(self): return len(self.items)
                    def __getitem__(self, i): return self.items[i]
            """),
            ("slice", "slices", "list", "index", "indices"),
        ),
    ],
    "sampler": [
        Bug(
            "shuffled_once",
            _cell("""
                class Sampler:
                    def __init__(self, ds, shuffle=False):
                        self.idxs = list(range(len(ds)))
                        if shuffle: random.shuffle(self.idxs)

                    def __iter__(self): return iter(self.idxs)
            """),
            ("shuffle", "pass", "epoch", "each", "same order"),
        ),
        Bug(
            "ignores_shuffle",
            _cell("""
                class Sampler:
                    def __init__(self, ds, shuffle=False):
                        self.n, self.shuffle = len(ds), shuffle

                    def __iter__(self): return iter(range(self.n))
            """),
            ("shuffle", "random", "order"),
        ),
        Bug(
            "misses_last_index",
            _cell("""
                class Sampler:
                    def __init__(self, ds, shuffle=False):
                        self.n, self.shuffle = len(ds), shuffle

                    def __iter__(self):
                        res = list(range(self.n - 1))
                        if self.shuffle: random.shuffle(res)
                        return iter(res)
            """),
            ("every index", "missing", "once", "index"),
        ),
        Bug(
            "with_replacement",
            _cell("""
                class Sampler:
                    def __init__(self, ds, shuffle=False):
                        self.n, self.shuffle = len(ds), shuffle

                    def __iter__(self):
                        if self.shuffle: return iter(torch.randint(self.n, (self.n,)).tolist())
                        return iter(range(self.n))
            """),
            ("once", "duplicate", "repeat", "every index", "replacement", "missing"),
        ),
        Bug(
            "shuffles_by_default",
            _cell("""
                class Sampler:
                    def __init__(self, ds, shuffle=True):
                        self.n, self.shuffle = len(ds), shuffle

                    def __iter__(self):
                        res = list(range(self.n))
                        if self.shuffle: random.shuffle(res)
                        return iter(res)
            """),
            ("shuffle", "default", "defaults"),
            hints=("shuffle defaults to False",),
        ),
    ],
    "batch_sampler": [
        Bug(
            "always_drops_last",
            _cell("""
                class BatchSampler:
                    def __init__(self, sampler, bs, drop_last=False): fc.store_attr()
                    def __iter__(self): yield from fc.chunked(iter(self.sampler), self.bs, drop_last=True)
            """),
            ("drop_last", "last"),
            hints=(
                "the short last batch [8, 9] must be kept",
                "drop_last defaults to False",
            ),
        ),
        Bug(
            "never_drops_last",
            _cell("""
                class BatchSampler:
                    def __init__(self, sampler, bs, drop_last=False): fc.store_attr()
                    def __iter__(self): yield from fc.chunked(iter(self.sampler), self.bs)
            """),
            ("drop_last",),
            hints=("drop_last=True must drop the short last batch",),
        ),
        Bug(
            "batches_one_too_big",
            _cell("""
                class BatchSampler:
                    def __init__(self, sampler, bs, drop_last=False): fc.store_attr()

                    def __iter__(self):
                        batch = []
                        for i in self.sampler:
                            batch.append(i)
                            if len(batch) > self.bs:
                                yield batch
                                batch = []
                        if batch and not self.drop_last: yield batch
            """),
            ("size", "bs", "items"),
            hints=("each batch holds self.bs indices",),
        ),
        Bug(
            "global_bs",
            _cell("""
                class BatchSampler:
                    def __init__(self, sampler, bs, drop_last=False): fc.store_attr()
                    def __iter__(self): yield from fc.chunked(iter(self.sampler), bs, drop_last=self.drop_last)
            """),
            ("global", "defined", "nameerror", "self.bs"),
            hints=("grading runs only the setup cell",),
        ),
        Bug(
            "sampler_iterated_once",
            _cell("""
                class BatchSampler:
                    def __init__(self, sampler, bs, drop_last=False):
                        self.it, self.bs, self.drop_last = iter(sampler), bs, drop_last

                    def __iter__(self): yield from fc.chunked(self.it, self.bs, drop_last=self.drop_last)
            """),
            ("pass", "every pass"),
            hints=("take indices from iter(self.sampler)",),
        ),
        Bug(
            "last_batch_never_yielded",
            _cell("""
                class BatchSampler:
                    def __init__(self, sampler, bs, drop_last=False): fc.store_attr()

                    def __iter__(self):
                        batch = []
                        for i in self.sampler:
                            if len(batch) == self.bs:
                                yield batch
                                batch = []
                            batch.append(i)
            """),
            ("last", "loop's end", "missing"),
            hints=(
                "the last full batch went missing",
                "the short last batch [8, 9] must be kept",
                "drop_last only drops a batch that is short",
                "drop_last defaults to False",
            ),
        ),
        Bug(
            "drop_last_default_true",
            _cell("""
                class BatchSampler:
                    def __init__(self, sampler, bs, drop_last=True): fc.store_attr()
                    def __iter__(self): yield from fc.chunked(iter(self.sampler), self.bs, drop_last=self.drop_last)
            """),
            ("drop_last", "default", "defaults"),
            hints=("drop_last defaults to False",),
        ),
    ],
    "collate": [
        Bug(
            "returns_lists",
            _cell("""
                def collate(b):
                    xs, ys = zip(*b)
                    return list(xs), list(ys)
            """),
            ("stack", "tensor", "list"),
        ),
        Bug(
            "cat_not_stack",
            _cell("""
                def collate(b):
                    xs, ys = zip(*b)
                    return torch.cat(xs), torch.cat(ys)
            """),
            ("stack", "shape", "cat", "dim", "zero-dimensional"),
            hints=("cannot join 0-d targets",),
        ),
        Bug(
            "swapped",
            _cell("""
                def collate(b):
                    xs, ys = zip(*b)
                    return torch.stack(ys), torch.stack(xs)
            """),
            ("order", "swap", "swapped", "first"),
            hints=("xs and ys are swapped",),
        ),
        Bug(
            "only_xs",
            _cell("""
                def collate(b):
                    return torch.stack([x for x, _ in b])
            """),
            ("tuple", "pair", "target", "unpack"),
            hints=("return a tuple (xs, ys)",),
        ),
        Bug(
            "cat_inputs",
            _cell("""
                def collate(b):
                    xs, ys = zip(*b)
                    return torch.cat(xs), torch.stack(ys)
            """),
            ("stack", "cat", "shape"),
            hints=("torch.stack adds a batch dim in front",),
        ),
    ],
    "dataloader": [
        Bug(
            "global_batchs",
            _cell("""
                class DataLoader:
                    def __init__(self, ds, batchs, collate_fn=collate): fc.store_attr()

                    def __iter__(self):
                        for b in batchs: yield self.collate_fn([self.ds[i] for i in b])
            """),
            ("global", "defined", "nameerror", "self.batchs"),
            hints=(
                "use the attributes stored on self",
                "grading runs only the setup cell",
            ),
        ),
        Bug(
            "ignores_collate_fn",
            _cell("""
                class DataLoader:
                    def __init__(self, ds, batchs, collate_fn=collate): fc.store_attr()

                    def __iter__(self):
                        for b in self.batchs: yield collate([self.ds[i] for i in b])
            """),
            ("collate_fn",),
            hints=("call self.collate_fn, the one you were given",),
        ),
        Bug(
            "raw_samples",
            _cell("""
                class DataLoader:
                    def __init__(self, ds, batchs, collate_fn=collate): fc.store_attr()

                    def __iter__(self):
                        for b in self.batchs: yield [self.ds[i] for i in b]
            """),
            ("collate", "collate_fn", "tuple", "stack"),
            hints=("call self.collate_fn",),
        ),
        Bug(
            "lesson_first_version",
            _cell("""
                class DataLoader:
                    def __init__(self, ds, bs):
                        self.ds = ds
                        self.bs = bs

                    def __iter__(self):
                        for i in range(0, len(self.ds), bs):
                            yield self.ds[i:i+bs]
            """),
            ("batchs", "collate_fn", "argument", "global", "defined", "nameerror"),
            hints=("call self.collate_fn, the one you were given",),
        ),
        Bug(
            "batchs_iterated_once",
            _cell("""
                class DataLoader:
                    def __init__(self, ds, batchs, collate_fn=collate):
                        self.ds, self.batchs, self.collate_fn = ds, iter(batchs), collate_fn

                    def __iter__(self):
                        for b in self.batchs: yield self.collate_fn([self.ds[i] for i in b])
            """),
            ("afresh", "pass"),
            hints=("iterate self.batchs afresh",),
        ),
    ],
    "fit": [
        Bug(
            "unweighted_batch_mean",
            _cell("""
                def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
                    for epoch in range(epochs):
                        model.train()
                        for xb, yb in train_dl:
                            loss_func(model(xb), yb).backward()
                            opt.step()
                            opt.zero_grad()
                        model.eval()
                        with torch.no_grad():
                            tot_loss, tot_acc, nb = 0., 0., 0
                            for xb, yb in valid_dl:
                                pred = model(xb)
                                tot_loss += loss_func(pred, yb).item()
                                tot_acc += accuracy(pred, yb).item()
                                nb += 1
                    return tot_loss / nb, tot_acc / nb
            """),
            ("weight", "weighted", "batch size", "partial", "size"),
            hints=("average over samples, not batches",),
        ),
        Bug(
            "no_zero_grad",
            _cell("""
                def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
                    for epoch in range(epochs):
                        model.train()
                        for xb, yb in train_dl:
                            loss_func(model(xb), yb).backward()
                            opt.step()
                        model.eval()
                        with torch.no_grad():
                            tot_loss, tot_acc, count = 0., 0., 0
                            for xb, yb in valid_dl:
                                pred, n = model(xb), len(xb)
                                count += n
                                tot_loss += loss_func(pred, yb).item() * n
                                tot_acc += accuracy(pred, yb).item() * n
                    return tot_loss / count, tot_acc / count
            """),
            ("zero_grad", "accumulate", "accumulates"),
            hints=(
                "each batch needs loss.backward()",
                "train for exactly `epochs` passes",
            ),
        ),
        Bug(
            "no_step",
            _cell("""
                def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
                    for epoch in range(epochs):
                        model.train()
                        for xb, yb in train_dl:
                            loss_func(model(xb), yb).backward()
                            opt.zero_grad()
                        model.eval()
                        with torch.no_grad():
                            tot_loss, tot_acc, count = 0., 0., 0
                            for xb, yb in valid_dl:
                                pred, n = model(xb), len(xb)
                                count += n
                                tot_loss += loss_func(pred, yb).item() * n
                                tot_acc += accuracy(pred, yb).item() * n
                    return tot_loss / count, tot_acc / count
            """),
            ("step", "train", "changed", "update"),
            hints=(
                "each batch needs loss.backward()",
                "train for exactly `epochs` passes",
            ),
        ),
        Bug(
            "first_epoch_metrics",
            _cell("""
                def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
                    results = []
                    for epoch in range(epochs):
                        model.train()
                        for xb, yb in train_dl:
                            loss_func(model(xb), yb).backward()
                            opt.step()
                            opt.zero_grad()
                        model.eval()
                        with torch.no_grad():
                            tot_loss, tot_acc, count = 0., 0., 0
                            for xb, yb in valid_dl:
                                pred, n = model(xb), len(xb)
                                count += n
                                tot_loss += loss_func(pred, yb).item() * n
                                tot_acc += accuracy(pred, yb).item() * n
                        results.append((tot_loss / count, tot_acc / count))
                    return results[0]
            """),
            ("epoch", "last"),
            hints=("return the validation loss and accuracy of the last epoch",),
        ),
        Bug(
            "totals_never_reset",
            _cell("""
                def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
                    tot_loss, tot_acc, count = 0., 0., 0
                    for epoch in range(epochs):
                        model.train()
                        for xb, yb in train_dl:
                            loss_func(model(xb), yb).backward()
                            opt.step()
                            opt.zero_grad()
                        model.eval()
                        with torch.no_grad():
                            for xb, yb in valid_dl:
                                pred, n = model(xb), len(xb)
                                count += n
                                tot_loss += loss_func(pred, yb).item() * n
                                tot_acc += accuracy(pred, yb).item() * n
                    return tot_loss / count, tot_acc / count
            """),
            ("epoch", "reset", "last"),
            hints=("return the validation loss and accuracy of the last epoch",),
        ),
        Bug(
            "no_eval",
            _cell("""
                def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
                    for epoch in range(epochs):
                        model.train()
                        for xb, yb in train_dl:
                            loss_func(model(xb), yb).backward()
                            opt.step()
                            opt.zero_grad()
                        with torch.no_grad():
                            tot_loss, tot_acc, count = 0., 0., 0
                            for xb, yb in valid_dl:
                                pred, n = model(xb), len(xb)
                                count += n
                                tot_loss += loss_func(pred, yb).item() * n
                                tot_acc += accuracy(pred, yb).item() * n
                    return tot_loss / count, tot_acc / count
            """),
            ("model.eval()", "training mode"),
        ),
        Bug(
            "no_no_grad",
            _cell("""
                def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
                    for epoch in range(epochs):
                        model.train()
                        for xb, yb in train_dl:
                            loss_func(model(xb), yb).backward()
                            opt.step()
                            opt.zero_grad()
                        model.eval()
                        tot_loss, tot_acc, count = 0., 0., 0
                        for xb, yb in valid_dl:
                            pred, n = model(xb), len(xb)
                            count += n
                            tot_loss += loss_func(pred, yb).item() * n
                            tot_acc += accuracy(pred, yb).item() * n
                    return tot_loss / count, tot_acc / count
            """),
            ("torch.no_grad()", "no_grad", "autograd"),
        ),
        Bug(
            "train_only_once",
            _cell("""
                def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
                    model.train()
                    for epoch in range(epochs):
                        for xb, yb in train_dl:
                            loss_func(model(xb), yb).backward()
                            opt.step()
                            opt.zero_grad()
                        model.eval()
                        with torch.no_grad():
                            tot_loss, tot_acc, count = 0., 0., 0
                            for xb, yb in valid_dl:
                                pred, n = model(xb), len(xb)
                                count += n
                                tot_loss += loss_func(pred, yb).item() * n
                                tot_acc += accuracy(pred, yb).item() * n
                    return tot_loss / count, tot_acc / count
            """),
            ("model.train()",),
        ),
        Bug(
            # the validation loop of an earlier version: F.cross_entropy, not loss_func, and a
            # mean of the batch means (alone, F.cross_entropy looks right where loss_func is it)
            "old_validation_loop",
            _cell("""
                def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
                    for epoch in range(epochs):
                        model.train()
                        for xb, yb in train_dl:
                            loss_func(model(xb), yb).backward()
                            opt.step()
                            opt.zero_grad()
                        model.eval()
                        with torch.no_grad():
                            tot_loss, tot_acc, nb = 0., 0., 0
                            for xb, yb in valid_dl:
                                pred = model(xb)
                                tot_loss += F.cross_entropy(pred, yb).item()
                                tot_acc += accuracy(pred, yb).item()
                                nb += 1
                    return tot_loss / nb, tot_acc / nb
            """),
            ("loss_func",),
            hints=(
                "use the loss_func argument",
                "average over samples, not batches",
            ),
        ),
    ],
}
