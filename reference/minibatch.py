"""Our from-scratch answers to the minibatch lesson's exercises: what its tests compare against."""

import fastcore.all as fc
import torch


def softmax(x):
    "Row-wise softmax of an (N, C) tensor: exp(x) normalised to sum to one over dim 1."
    e = (x - x.max(dim=1, keepdim=True).values).exp()
    return e / e.sum(dim=1, keepdim=True)


def logsumexp(x):
    "log(sum(exp(x))) over dim 1, kept as (N, 1); subtracting the row max avoids overflow."
    m = x.max(dim=1, keepdim=True).values
    # a row that is all -inf has max -inf; shift by 0 there so we get -inf rather than nan
    m = torch.where(m.isfinite(), m, torch.zeros_like(m))
    return m + (x - m).exp().sum(dim=1, keepdim=True).log()


def log_softmax(x):
    "log(softmax(x)) computed stably as x minus its row logsumexp."
    return x - logsumexp(x)


def nll(pred, y):
    "Mean negative log-likelihood: pick each row's log-probability at its target."
    return -pred[torch.arange(len(y)), y].mean()


def accuracy(ypred, ytrue):
    "Fraction of rows whose largest score sits at the target index."
    return (ypred.argmax(dim=1) == ytrue).float().mean()


class MyModule:
    "A two-layer container that registers its public attributes the way nn.Module does."

    def __init__(self, n_in, nh, n_out):
        self._modules = {}
        self.l1 = torch.nn.Linear(n_in, nh)
        self.l2 = torch.nn.Linear(nh, n_out)

    def __setattr__(self, k, v):
        if not k.startswith("_"):
            self._modules[k] = v
        super().__setattr__(k, v)

    def __repr__(self):
        return f"{type(self).__name__}({self._modules})"

    def parameters(self):
        for m in self._modules.values():
            yield from m.parameters()


class Optimizer:
    "Plain SGD: p <- p - lr * p.grad for every parameter."

    def __init__(self, params, lr=0.5):
        self.params, self.lr = list(params), lr

    @torch.no_grad()
    def step(self):
        for p in self.params:
            if p.grad is not None:
                p -= self.lr * p.grad

    def zero_grad(self):
        for p in self.params:
            if p.grad is not None:
                p.grad.zero_()


class Dataset:
    "Pairs inputs with targets; indexing returns (x[i], y[i]) for an int, slice or index list."

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class Sampler:
    "Yields every index of a dataset once per pass, in a fresh random order if shuffle."

    def __init__(self, ds, shuffle=False):
        self.n, self.shuffle = len(ds), shuffle

    def __iter__(self):
        idxs = torch.randperm(self.n) if self.shuffle else torch.arange(self.n)
        return iter(idxs.tolist())


class BatchSampler:
    "Groups a sampler's indices into lists of bs; the short last list is kept unless drop_last."

    def __init__(self, sampler, bs, drop_last=False):
        fc.store_attr()

    def __iter__(self):
        yield from fc.chunked(iter(self.sampler), self.bs, drop_last=self.drop_last)


def collate(b):
    "Turn a list of (x, y) samples into one (xs, ys) batch."
    xs, ys = zip(*b)
    return torch.stack(xs), torch.stack(ys)


class DataLoader:
    "Yields collate_fn([ds[i] for i in batch]) for each batch of indices from batchs."

    def __init__(self, ds, batchs, collate_fn=collate):
        fc.store_attr()

    def __iter__(self):
        for b in self.batchs:
            yield self.collate_fn([self.ds[i] for i in b])


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    "Train for epochs; after each, report validation loss and accuracy averaged over samples."
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss = loss_func(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
        model.eval()
        with torch.no_grad():
            tot_loss, tot_acc, count = 0.0, 0.0, 0
            for xb, yb in valid_dl:
                pred, n = model(xb), len(xb)
                count += n
                tot_loss += loss_func(pred, yb).item() * n
                tot_acc += accuracy(pred, yb).item() * n
        print(epoch, tot_loss / count, tot_acc / count)
    return tot_loss / count, tot_acc / count
