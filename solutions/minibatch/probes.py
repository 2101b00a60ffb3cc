"""Scenarios of the minibatch assignment: each builds what an exercise needs around the student's
code (our own dataset, sampler, collate, optimizer as neutral stand-ins), runs it, and returns
plain data. The same probe runs in the worker on the student's names and in the parent on the
reference's; the tests compare the two answers. Runs in the worker: torch and the kit's probes
only (`autograder.probes` is the worker's own copy there).
"""

import torch
import torch.nn.functional as F

from autograder.probes import Items, Replay, attempt, stand_ins


class PlainSGD:
    "The optimizer that fit's probe hands in, so fit is graded without the student's Optimizer."

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    @torch.no_grad()
    def step(self):
        for p in self.params:
            p -= self.lr * p.grad

    def zero_grad(self):
        for p in self.params:
            p.grad = None


def stack_collate(b):
    xs, ys = zip(*b)
    return torch.stack(xs), torch.stack(ys)


def accuracy(ypred, ytrue):
    return (ypred.argmax(dim=1) == ytrue).float().mean()


def logsumexp(x):
    m = x.max(dim=1, keepdim=True).values
    m = torch.where(m.isfinite(), m, torch.zeros_like(m))
    return m + (x - m).exp().sum(dim=1, keepdim=True).log()


# While an exercise runs, the earlier exercises it calls are ours: each is graded on its own.
STAND_INS = {"log_softmax": {"logsumexp": logsumexp}, "fit": {"accuracy": accuracy}}


# --- classes -----------------------------------------------------------------------------------


def module_registration(ns, n_in, nh, n_out):
    "Build MyModule and report what it registered, in what order, and how it shows itself."
    m = ns["MyModule"](n_in, nh, n_out)
    mods = lambda: m._modules
    r = {"keys": attempt(lambda: list(mods().keys()))}
    r["types"] = attempt(lambda: [type(v).__name__ for v in mods().values()])
    r["shapes"] = attempt(lambda: [tuple(p.shape) for p in m.parameters()])
    want = lambda: [m.l1.weight, m.l1.bias, m.l2.weight, m.l2.bias]
    r["same_objects"] = attempt(lambda: [p is q for p, q in zip(m.parameters(), want())])
    r["values"] = attempt(lambda: [p.detach().clone() for p in m.parameters()])
    r["attr_is_registered"] = attempt(lambda: m.l1 is mods()["l1"] and m.l2 is mods()["l2"])
    r["repr"] = attempt(lambda: repr(m))

    def add_public():
        m.extra, m.act = torch.nn.Linear(2, 3), torch.nn.ReLU()
        return {k: [k in mods(), getattr(m, k, None) is mods().get(k)] for k in ("extra", "act")}

    def add_private():
        m._note = "not a layer"
        return ["_note" not in mods(), getattr(m, "_note", None) == "not a layer"]

    r["add_public"] = attempt(add_public)
    r["add_private"] = attempt(add_private)
    r["shapes_after_add"] = attempt(lambda: [tuple(p.shape) for p in m.parameters()])
    return r


def optimizer_steps(ns, params0, grads, lr, default_lr):
    "Step the student's Optimizer with given grads; snapshot params and grads after each step."
    params = [p.clone().requires_grad_() for p in params0]
    gen = (p for p in params)  # a generator, as model.parameters() is
    opt = ns["Optimizer"](gen) if default_lr else ns["Optimizer"](gen, lr=lr)
    traj, after_zero = [], []
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = g.clone()
        opt.step()
        traj.append([p.detach().clone() for p in params])
        opt.zero_grad()
        after_zero.append([None if p.grad is None else p.grad.clone() for p in params])
    leaves = [p.is_leaf and p.requires_grad for p in params]
    return {"params": traj, "grads_after_zero": after_zero, "leaves": leaves}


def optimizer_training(ns, steps, lr):
    "The lesson's loop on a small seeded model: backward, step, zero_grad. Returns the weights."
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    x, y = torch.randn(32, 6), torch.randint(0, 3, (32,))
    opt = ns["Optimizer"](model.parameters(), lr=lr)
    for i in range(steps):
        xb, yb = x[i * 8 % 32 :][:8], y[i * 8 % 32 :][:8]
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
        opt.zero_grad()
    return [p.detach().clone() for p in model.parameters()]


def dataset(ns, x, y, indices):
    "len(ds) and ds[i] for each index (an int, a slice given as [start, stop], or a list)."
    ds = ns["Dataset"](x, y)
    idx = lambda i: slice(*i["slice"]) if isinstance(i, dict) else i
    return {
        "len": attempt(lambda: len(ds)),
        "items": [attempt(lambda i=i: ds[idx(i)]) for i in indices],
    }


def sampler(ns, n, shuffle, passes, pass_shuffle_arg=True):
    "Iterate a Sampler over a neutral dataset of n items several times."
    ds = Items(torch.zeros(n, 1), torch.zeros(n))
    s = ns["Sampler"](ds, shuffle=shuffle) if pass_shuffle_arg else ns["Sampler"](ds)
    return [[int(i) for i in s] for _ in range(passes)]


def batch_sampler(ns, order, bs, drop_last, passes, pass_drop_arg=True):
    "Iterate a BatchSampler over a neutral sampler that yields `order` on every pass."
    src = Replay(order)
    B = ns["BatchSampler"]
    b = B(src, bs, drop_last=drop_last) if pass_drop_arg else B(src, bs)
    return [[[int(i) for i in batch] for batch in b] for _ in range(passes)]


def collate(ns, xs, ys):
    "Collate a list of (x, y) samples."
    return ns["collate"]([(x, y) for x, y in zip(xs, ys)])


def dataloader(ns, x, y, batches, passes, custom_collate):
    "Iterate a DataLoader over a neutral dataset and batch list, with our collate_fn."
    calls = []

    def tagged(b):
        b = list(b)
        calls.append(len(b))
        xs, ys = stack_collate(b)
        return (xs * 2, ys) if custom_collate else (xs, ys)

    dl = ns["DataLoader"](Items(x, y), Replay(batches), collate_fn=tagged)
    out = [list(dl) for _ in range(passes)]
    return {"batches": out, "collate_calls": calls}


def fit(ns, epochs, n_train, n_valid, bs, lr, loss_scale):
    "Run the student's fit with our model, optimizer, loaders and accuracy; return what it saw."
    model = torch.nn.Linear(5, 3)
    x, y = torch.randn(n_train + n_valid, 5), torch.randint(0, 3, (n_train + n_valid,))
    batches = lambda a, b: [(x[i : min(i + bs, b)], y[i : min(i + bs, b)]) for i in range(a, b, bs)]
    train, valid = Replay(batches(0, n_train)), Replay(batches(n_train, n_train + n_valid))
    loss = lambda p, t: F.cross_entropy(p, t) * loss_scale
    with stand_ins(ns, "fit"):  # fit is graded with our accuracy, not the student's
        res = ns["fit"](epochs, model, loss, PlainSGD(model.parameters(), lr), train, valid)
    loss_v, acc_v = res
    return {
        "result": [float(loss_v), float(acc_v)],
        "params": [p.detach().clone() for p in model.parameters()],
    }


class Recorder(torch.nn.Module):
    "A linear model that notes, on each call, the batch's loader, its mode and autograd's state."

    def __init__(self, lin, loaders, calls):
        super().__init__()
        self.lin, self.loaders, self.calls = lin, loaders, calls

    def forward(self, x):
        found = (k for k, xs in self.loaders.items() if _ANY(_same(x, b) for b in xs))
        src = _NEXT(found, "other")
        self.calls.append([src, self.training, torch.is_grad_enabled()])
        return self.lin(x)


# Taken when this module loads, before any student cell runs: a cell that patches torch.equal or
# builtins.any (to fool comparisons elsewhere) must not change which loader a batch came from.
_EQUAL, _ANY, _NEXT = torch.equal, any, next


def _same(x, b):
    return isinstance(x, torch.Tensor) and x.shape == b.shape and _EQUAL(x, b)


def fit_modes(ns, epochs, n_train, n_valid, bs, lr, start_eval=False):
    """Run the student's fit with a model that records each call: [loader ('train', 'valid' or
    'other'), model.training, torch.is_grad_enabled()], in the order of the calls. start_eval:
    the model comes in eval mode, as after an earlier fit."""
    x, y = torch.randn(n_train + n_valid, 5), torch.randint(0, 3, (n_train + n_valid,))
    batches = lambda a, b: [(x[i : min(i + bs, b)], y[i : min(i + bs, b)]) for i in range(a, b, bs)]
    train, valid = batches(0, n_train), batches(n_train, n_train + n_valid)
    calls = []
    loaders = {"train": [b[0] for b in train], "valid": [b[0] for b in valid]}
    model = Recorder(torch.nn.Linear(5, 3), loaders, calls)
    model.train(not start_eval)
    with stand_ins(ns, "fit"):
        opt = PlainSGD(model.parameters(), lr)
        ns["fit"](epochs, model, F.cross_entropy, opt, Replay(train), Replay(valid))
    return {"calls": calls, "batches": [len(train), len(valid)]}


class Watch:
    "Wraps the validation loader: each pass starts with our own measure of the model (the curve)."

    def __init__(self, dl, model, x, y, history):
        self.dl, self.model, self.x, self.y, self.history = dl, model, x, y, history

    def __iter__(self):
        with torch.no_grad():
            dev = next(self.model.parameters()).device
            out = self.model(self.x.to(dev))
            acc = (out.argmax(dim=1) == self.y.to(dev)).float().mean()
            self.history.append([F.cross_entropy(out, self.y.to(dev)).item(), acc.item()])
        return iter(self.dl)


class OnDevice:
    "Moves each batch of a loader to the device the model lives on."

    def __init__(self, dl, device):
        self.dl, self.device = dl, device

    def __iter__(self):
        for xb, yb in self.dl:
            yield xb.to(self.device), yb.to(self.device)


class CountedItems:
    "The student's Dataset as their Sampler and DataLoader see it, counting the items fetched."

    def __init__(self, ds, counts):
        self._ds, self._counts = ds, counts

    def __len__(self):
        return len(self._ds)

    def __getitem__(self, i):
        if isinstance(i, slice):
            n = len(range(*i.indices(len(self._ds))))
        else:
            try:
                n = len(i) if not isinstance(i, int) and getattr(i, "ndim", 1) else 1
            except TypeError:
                n = 1
        self._counts["items"] += n
        return self._ds[i]

    def __getattr__(self, name):  # attributes the student's own classes stored (ds.x, ds.y)
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._ds, name)


class CountedBatches:
    "The training loader as fit sees it, counting the batches it yields."

    def __init__(self, dl, counts):
        self.dl, self.counts = dl, counts

    def __iter__(self):
        for b in self.dl:
            self.counts["batches"] += 1
            yield b


def _count_calls(obj, meth, counts, key):
    "Count the calls fit makes to obj.meth (the student's Optimizer's step and zero_grad)."
    try:
        orig = getattr(obj, meth)
    except Exception:
        return

    def counted(*args, **kwargs):
        counts[key] += 1
        return orig(*args, **kwargs)

    try:
        object.__setattr__(obj, meth, counted)
    except Exception:  # the class refuses instance attributes: its calls go uncounted (and fail)
        pass


def train_mnist(ns, path, epochs, bs, lr, n_train, device="cpu"):
    """The graded run: the student's whole pipeline trains the lesson's MLP; returns its weights
    and what the pipeline did (optimizer steps, training batches, items fetched), which the
    parent checks against what `epochs` epochs of batches of `bs` take."""
    import time

    from safetensors.torch import load_file

    d = load_file(path)
    xt, yt, xv, yv = d["x_train"][:n_train], d["y_train"][:n_train], d["x_valid"], d["y_valid"]
    DS, S, B, DL = (ns[k] for k in ("Dataset", "Sampler", "BatchSampler", "DataLoader"))
    counts = {"steps": 0, "zero_grads": 0, "batches": 0, "items": 0}
    train_ds, valid_ds = CountedItems(DS(xt, yt), counts), DS(xv, yv)
    train_dl = DL(train_ds, B(S(train_ds, shuffle=True), bs), collate_fn=ns["collate"])
    valid_dl = DL(valid_ds, B(S(valid_ds, shuffle=False), bs), collate_fn=ns["collate"])
    model = torch.nn.Sequential(torch.nn.Linear(784, 50), torch.nn.ReLU(), torch.nn.Linear(50, 10))
    if device != "cpu":
        model = model.to(device)
        train_dl, valid_dl = OnDevice(train_dl, device), OnDevice(valid_dl, device)
    init = [p.detach().clone() for p in model.parameters()]
    opt = ns["Optimizer"](model.parameters(), lr=lr)
    # an Optimizer that changes the weights before any step (pre-trained weights) trains nothing
    counts["init_kept"] = all(torch.equal(a, p.detach()) for a, p in zip(init, model.parameters()))
    _count_calls(opt, "step", counts, "steps")
    _count_calls(opt, "zero_grad", counts, "zero_grads")
    train_dl = CountedBatches(train_dl, counts)
    history = []  # validation loss and accuracy after each epoch, measured by us
    valid_dl = Watch(valid_dl, model, xv, yv, history)
    t0 = time.perf_counter()
    loss_v, acc_v = ns["fit"](epochs, model, F.cross_entropy, opt, train_dl, valid_dl)
    return {
        "state": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "valid": [float(loss_v), float(acc_v)],
        "history": history,
        "seconds": time.perf_counter() - t0,
        "counts": dict(counts),
    }


PROBES = {
    f.__name__: f
    for f in [
        module_registration,
        optimizer_steps,
        optimizer_training,
        dataset,
        sampler,
        batch_sampler,
        collate,
        dataloader,
        fit,
        fit_modes,
        train_mnist,
    ]
}
