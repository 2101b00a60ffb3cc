"""Scenarios that exercise a namespace of definitions and return plain data.

The same probe runs twice on the same inputs and seed: in the worker on the student's names, and in
the trusted parent on `reference`'s. Checks compare the two answers. Each probe hands the code under
test neutral stand-ins for everything else (our own dataset, sampler, collate, optimizer), so one
exercise's mistake does not cost points on another. Loaded by path in the worker: torch only.
"""

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode, resolve_name


class Functions(TorchFunctionMode):
    "Sees torch functions by their public name (F.softmax, Tensor.logsumexp, ...)."

    def __init__(self, names, seen):
        super().__init__()
        self.names, self.seen = names, seen

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = resolve_name(func) or getattr(func, "__name__", "")
        if name in self.names:
            self.seen.add(name)
        return func(*args, **(kwargs or {}))


class Operators:
    """Sees the aten operators underneath, however they were reached (torch.ops, _VF, with torch
    functions disabled). The autograd profiler records them; a TorchDispatchMode would too, but
    its first use imports torch._dynamo and sympy (0.9 s)."""

    def __init__(self, names, seen):
        self.names, self.seen = names, seen

    def __enter__(self):
        from torch.autograd import profiler

        try:
            self.prof = profiler.profile()
            self.prof.__enter__()
        except Exception:  # no thread to spare (a fork bomb ate the process limit): go unwatched
            self.prof = None
        return self

    def __exit__(self, *exc):
        if self.prof is None:
            return
        try:
            self.prof.__exit__(*exc)
            found = {e.name.replace("::", ".") for e in self.prof.function_events}
        except Exception:
            return
        self.seen.update(found & self.names)


ACTIVE: list = []  # the monitors of the probe running now (the worker runs one at a time)
THREAD = "threading (a thread ran while the probe ran)"


class Monitor:
    """Records forbidden calls while the student's code runs (F.softmax inside their softmax).

    Three layers: torch functions (a TorchFunctionMode, this thread only), aten operators (the
    profiler), and, once `watch()` has run at worker start, the classes and functions of
    torch.optim and torch.utils.data, and every thread started or running during the probe (a
    thread escapes the function mode, so a thread counts as forbidden by itself)."""

    def __init__(self, forbidden=()):
        self.seen, names = set(), set(forbidden)
        aten = {n for n in names if n.startswith("aten.")}
        self.prefixes = tuple(sorted(names - aten))
        self.modes = [Functions(names - aten, self.seen)] if names - aten else []
        self.modes += [Operators(aten, self.seen)] if aten else []

    def note(self, name):
        "A watched torch.optim / torch.utils.data name was used: record it if it is forbidden."
        if any(name == p or name.startswith(p + ".") for p in self.prefixes):
            self.seen.add(name)

    def _threads(self):
        if self.prefixes and _THREADS["count"]() > _THREADS["baseline"]:
            self.seen.add(THREAD)

    def __enter__(self):
        self._threads()
        ACTIVE.append(self)
        for m in self.modes:
            m.__enter__()
        return self

    def __exit__(self, *exc):
        for m in reversed(self.modes):
            m.__exit__(*exc)
        if self in ACTIVE:
            ACTIVE.remove(self)
        self._threads()


_THREADS = {"count": lambda: 0, "baseline": 0}
_DEPTH: list = []  # watched calls in progress
WATCHED = ("torch.optim", "torch.utils.data")
METHOD_NAMES = (
    "__init__",
    "__call__",
    "__iter__",
    "__next__",
    "__getitem__",
    "__len__",
    "__getitems__",
    "step",
    "zero_grad",
    "add_param_group",
    "state_dict",
    "load_state_dict",
)


def _watched(name, fn):
    import functools

    @functools.wraps(fn)
    def watched(*args, **kwargs):
        if not ACTIVE:
            return fn(*args, **kwargs)
        if not _DEPTH:  # the outermost call names what the student used, not torch's insides
            for m in list(ACTIVE):
                m.note(name)
        _DEPTH.append(name)
        try:
            return fn(*args, **kwargs)
        finally:
            _DEPTH.pop()

    watched.__ag_watched__ = True
    return watched


def _thread_start(fn):
    import functools

    @functools.wraps(fn)
    def start(*args, **kwargs):
        for m in list(ACTIVE):
            if m.prefixes:
                m.seen.add(THREAD)
        return fn(*args, **kwargs)

    return start


def watch():
    """Wrap torch.optim's and torch.utils.data's classes and functions, and thread starts, so a
    Monitor sees them used however they were reached. The worker calls this once, before any
    student code runs; it is never called in the trusted parent."""
    import _thread
    import sys
    import threading

    import torch.optim  # noqa: F401
    import torch.utils.data  # noqa: F401

    funcs = {}
    for modname in sorted(m for m in list(sys.modules) if m.startswith(WATCHED)):
        mod = sys.modules.get(modname)
        if mod is None or not modname.startswith(tuple(w + "." for w in WATCHED) + WATCHED):
            continue
        for attr, v in list(vars(mod).items()):
            home = getattr(v, "__module__", "") or ""
            if not home.startswith(WATCHED) or attr.startswith("__"):
                continue
            public = f"{modname}.{attr}"
            if isinstance(v, type):
                for meth in METHOD_NAMES:
                    f = v.__dict__.get(meth)
                    if type(f).__name__ == "function" and not getattr(f, "__ag_watched__", 0):
                        try:
                            setattr(v, meth, _watched(f"{public}.{meth}", f))
                        except (TypeError, AttributeError):
                            pass
            elif callable(v) and type(v).__name__ == "function":
                if id(v) not in funcs:
                    funcs[id(v)] = _watched(public, v)
                setattr(mod, attr, funcs[id(v)])
    threading.Thread.start = _thread_start(threading.Thread.start)
    _thread.start_new_thread = _thread_start(_thread.start_new_thread)
    if hasattr(_thread, "start_joinable_thread"):
        _thread.start_joinable_thread = _thread_start(_thread.start_joinable_thread)
    if hasattr(_thread, "_count"):
        _THREADS.update(count=_thread._count, baseline=_thread._count())


def origin(obj) -> list:
    "The modules an object and its base classes come from, to spot torch's own classes."
    if obj is None:
        return []
    cls = obj if isinstance(obj, type) else type(obj) if not callable(obj) else None
    mods = [getattr(obj, "__module__", None) or ""]
    if cls is not None:
        mods += [getattr(b, "__module__", "") or "" for b in cls.__mro__]
    return sorted(set(mods))


def attempt(fn):
    "Run one part of a scenario; an error becomes data so the other parts still count."
    try:
        return {"value": fn()}
    except BaseException as e:  # the student's code may raise anything, even SystemExit
        return {"error": f"{type(e).__name__}: {e}"[:500], "kind": type(e).__name__}


class Items:
    "A neutral dataset: len and (x[i], y[i]) per index, whatever index type."

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class Replay:
    "A re-iterable sequence of fixed items (indices or batches) that counts its passes."

    def __init__(self, items):
        self.items, self.passes = list(items), 0

    def __iter__(self):
        self.passes += 1
        return iter(list(self.items))

    def __len__(self):
        return len(self.items)


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


class stand_ins:
    "Swap in our versions of the names an exercise calls, and put the student's back after."

    def __init__(self, ns, name):
        self.ns, self.swaps = ns, STAND_INS.get(name, {})

    def __enter__(self):
        self.saved = {k: self.ns.get(k) for k in self.swaps}
        self.ns.update(self.swaps)

    def __exit__(self, *exc):
        self.ns.update(self.saved)


# --- functions ---------------------------------------------------------------------------------


def call(ns, name, *args):
    "Call a student function on the given inputs."
    with stand_ins(ns, name):
        return ns[name](*args)


def call_each(ns, name, argsets):
    "Call a student function on several inputs; each answer or error is reported on its own."
    with stand_ins(ns, name):
        return [attempt(lambda a=a: ns[name](*a)) for a in argsets]


def call_grad(ns, name, x, upstream, *rest):
    "Call with x requiring grad and backpropagate a fixed upstream gradient: (output, x.grad)."
    x = x.clone().requires_grad_()
    with stand_ins(ns, name):
        out = ns[name](x, *rest)
    if not isinstance(out, torch.Tensor) or out.shape != upstream.shape:
        return out, None  # the comparison reports the wrong type or shape
    # same gradient as out.backward(upstream), without torch lazily importing sympy (~0.4 s)
    (out * upstream).sum().backward()
    return out.detach(), x.grad


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
        call,
        call_each,
        call_grad,
        module_registration,
        optimizer_steps,
        optimizer_training,
        dataset,
        sampler,
        batch_sampler,
        collate,
        dataloader,
        fit,
        train_mnist,
    ]
}
