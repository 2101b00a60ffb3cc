"""Probes: questions asked of a namespace of definitions, answered with plain data; and the
run-time monitor that watches them.

The same probe runs twice on the same inputs and seed: in the worker on the student's names, and in
the trusted parent on the reference's. Tests compare the two answers. Here are the generic ones
(`call`, `call_each`, `call_grad`); an assignment adds its scenarios in its own `probes.py`
(`PROBES`, `STAND_INS`), which may import `attempt`, `stand_ins`, `Items` and `Replay` from here.
Loaded by path in the worker: torch only.
"""

import torch
from torch.overrides import TorchFunctionMode, resolve_name


class Functions(TorchFunctionMode):
    "Sees torch functions by their public name (torch.matmul, Tensor.sum, F.conv2d, ...)."

    def __init__(self, names, seen):
        super().__init__()
        self.names, self.seen = names, seen

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = resolve_name(func) or getattr(func, "__name__", "")
        if name in self.names:
            self.seen.add(name)
        return func(*args, **(kwargs or {}))


AUTOGRAD = "torch.autograd (a gradient was computed by autograd while the probe ran)"
FORWARD_AD = {"aten::_make_dual", "aten::_unpack_dual"}


def autograd_ran(event: str) -> bool:
    """A profiler event that only autograd makes: the engine's backward pass, a backward node run
    by hand (`loss.grad_fn(...)`), or forward-mode AD (`torch.func.jvp`, `forward_ad`)."""
    return (
        event.startswith("autograd::engine")
        or event in FORWARD_AD
        or event.rstrip("0123456789").endswith("Backward")
    )


class Operators:
    """Sees the aten operators underneath, however they were reached (torch.ops, _VF, with torch
    functions disabled). The autograd profiler records them; a TorchDispatchMode would too, but
    its first use imports torch._dynamo and sympy (0.9 s). Where torch.autograd is forbidden it
    also sees autograd at work, however it was reached (a helper from another cell, a grad_fn)."""

    def __init__(self, names, seen, autograd=False):
        self.names, self.seen, self.autograd = names, seen, autograd

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
            events = {e.name for e in self.prof.function_events}
        except Exception:
            return
        self.seen.update({e.replace("::", ".") for e in events} & self.names)
        if self.autograd and any(autograd_ran(e) for e in events):
            self.seen.add(AUTOGRAD)


ACTIVE: list = []  # the monitors of the probe running now (the worker runs one at a time)
THREAD = "threading (a thread ran while the probe ran)"


class Monitor:
    """Records forbidden calls while the student's code runs (torch.matmul inside their matmul).

    Three layers: torch functions (a TorchFunctionMode, this thread only), aten operators and
    autograd's own work (the profiler), and, once `watch()` has run at worker start, the classes
    and functions of torch.optim and torch.utils.data, and every thread started or running during
    the probe (a thread escapes the function mode, so a thread counts as forbidden by itself)."""

    def __init__(self, forbidden=()):
        self.seen, names = set(), set(forbidden)
        aten = {n for n in names if n.startswith("aten.")}
        self.prefixes = tuple(sorted(names - aten))
        self.modes = [Functions(names - aten, self.seen)] if names - aten else []
        autograd = "torch.autograd" in names
        self.modes += [Operators(aten, self.seen, autograd)] if aten or autograd else []

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


# While an exercise runs, the earlier exercises it calls are ours, so each is graded on its own:
# {exercise: {name: stand-in}}. The worker fills it from the assignment's probes.py (STAND_INS);
# the parent leaves it empty (the reference is right, it needs no stand-ins).
STAND_INS: dict = {}


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


PROBES = {f.__name__: f for f in [call, call_each, call_grad]}


def assignment_probes(mod) -> dict:
    "Every probe a worker for this assignment knows: ours and those of its probes.py."
    return {**PROBES, **getattr(mod, "PROBES", {})}
