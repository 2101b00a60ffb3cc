"""Scenarios of the backprop assignment: each builds the tensors an exercise needs, runs the
student's code on them and returns plain data (the values and every `.g` it left behind).

The same scenario runs in the worker on the student's names and in the parent on the reference's.
Each has an `autograd_*` twin that answers the same question with torch's autograd: the tests ask
it of the reference only (`reference.run("autograd_mlp", ...)`), so it runs in the trusted parent,
never in the worker, where autograd is what the exercises may not use. Runs in the worker: torch
and the kit's probes only (`autograder.probes` is the worker's own copy there).
"""

import torch

from autograder.probes import attempt, stand_ins

GRADS = ("inp.g", "w1.g", "b1.g", "w2.g", "b2.g")


def g(t):
    "The gradient the student's code stored on t, or None when it set none."
    return getattr(t, "g", None)


# --- stand-ins: while an exercise runs, the earlier exercises it calls are ours ----------------


def lin(x, w, b):
    return x @ w + b


def relu(x):
    return x.clamp_min(0.0)


def mse(output, targ):
    return (output[:, 0] - targ).pow(2).mean()


def lin_grad(inp, out, w, b):
    inp.g = _upstream(out, "lin_grad") @ w.t()
    w.g = inp.t() @ out.g
    b.g = out.g.sum(0)


def _upstream(out, who):
    "out.g, or an error that says which step of the chain was skipped."
    if not hasattr(out, "g"):
        raise AttributeError(
            f"{who} found no .g on its output: the step after it in the chain (the next layer's "
            "backward, or the loss's) has not run yet"
        )
    return out.g


class Relu:
    def __call__(self, inp):
        self.inp, self.out = inp, relu(inp)
        return self.out

    def backward(self):
        self.inp.g = _upstream(self.out, "Relu.backward()") * (self.inp > 0)


class Lin:
    def __init__(self, w, b):
        self.w, self.b = w, b

    def __call__(self, inp):
        self.inp, self.out = inp, lin(inp, self.w, self.b)
        return self.out

    def backward(self):
        _upstream(self.out, "Lin.backward()")
        lin_grad(self.inp, self.out, self.w, self.b)


class Mse:
    def __call__(self, inp, targ):
        self.inp, self.targ = inp, targ
        self.out = mse(inp, targ)
        return self.out

    def backward(self):
        self.inp.g = (2.0 * (self.inp[:, 0] - self.targ) / self.targ.shape[0])[:, None]


FUNCTIONS = {"lin": lin, "relu": relu, "mse": mse, "lin_grad": lin_grad}
# {exercise: {name: ours}}: forward_and_backward and the layers are graded with our lin, relu, mse
# and lin_grad, the Model with our layers, so one mistake costs points on its own exercise only.
STAND_INS = {
    "forward_and_backward": FUNCTIONS,
    "layers": FUNCTIONS,
    "model": {**FUNCTIONS, "Relu": Relu, "Lin": Lin, "Mse": Mse},
}


def _fresh(*tensors):
    "Copies, so the student's code can neither see nor spoil the caller's tensors."
    return [t.detach().clone() for t in tensors]


def _loss(v, like):
    "The loss as a tensor; a Python number (loss.item()) is accepted as one."
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return torch.tensor(float(v), dtype=like.dtype)
    return v


# --- the exercises' scenarios --------------------------------------------------------------------


def relu_fresh(ns, x):
    "relu on a copy of x: its answer, and the copy as it is afterwards (relu must not change it)."
    (x0,) = _fresh(x)
    out = ns["relu"](x0)
    return {"out": out, "x_after": x0, "same_object": out is x0}


def lin_grad_from(ns, inp, w, b, out_g):
    "out = inp @ w + b with out.g given; the student's lin_grad sets inp.g, w.g and b.g."
    inp, w, b, out_g = _fresh(inp, w, b, out_g)
    out = inp @ w + b
    out.g = out_g
    ns["lin_grad"](inp, out, w, b)
    return {"out": out, "inp.g": g(inp), "w.g": g(w), "b.g": g(b)}


def forward_backward(ns, inp, targ, w1, b1, w2, b2):
    "The student's forward_and_backward (with our lin, relu, mse, lin_grad): the loss, every .g."
    inp, targ, w1, b1, w2, b2 = _fresh(inp, targ, w1, b1, w2, b2)
    with stand_ins(ns, "forward_and_backward"):
        loss = ns["forward_and_backward"](inp, targ, w1, b1, w2, b2)
    return dict(zip(("loss", *GRADS), (_loss(loss, inp), *map(g, (inp, w1, b1, w2, b2)))))


def relu_layer(ns, x, out_g):
    "Relu()(x), then out.g given and backward(): the output and x.g."
    x, out_g = _fresh(x, out_g)
    with stand_ins(ns, "layers"):
        layer = ns["Relu"]()
        out = layer(x)
        out.g = out_g
        layer.backward()
    return {"out": out, "inp.g": g(x)}


def lin_layer(ns, x, w, b, out_g):
    "Lin(w, b)(x), then out.g given and backward(): the output, x.g, w.g and b.g."
    x, w, b, out_g = _fresh(x, w, b, out_g)
    with stand_ins(ns, "layers"):
        layer = ns["Lin"](w, b)
        out = layer(x)
        out.g = out_g
        layer.backward()
    return {"out": out, "inp.g": g(x), "w.g": g(w), "b.g": g(b)}


def mse_layer(ns, pred, targ):
    "Mse()(pred, targ), then backward() (the start of the chain): the loss and pred.g."
    pred, targ = _fresh(pred, targ)
    with stand_ins(ns, "layers"):
        layer = ns["Mse"]()
        loss = layer(pred, targ)
        layer.backward()
    return {"loss": _loss(loss, pred), "inp.g": g(pred)}


def model_structure(ns, w1, b1, w2, b2):
    "What Model.__init__ built (with our layers): the layers' class names and the loss's."
    with stand_ins(ns, "model"):
        m = ns["Model"](*_fresh(w1, b1, w2, b2))
        return {
            "layers": attempt(lambda: [type(layer).__name__ for layer in m.layers]),
            "loss_fn": attempt(lambda: type(m.loss).__name__),
        }


def model_run(ns, inp, targ, w1, b1, w2, b2, batches=1):
    """Model(w1, b1, w2, b2) with our layers: model(x, targ) then model.backward(), `batches`
    times on the same model (the later ones on x + 1); the last loss and every .g it left."""
    inp, targ, w1, b1, w2, b2 = _fresh(inp, targ, w1, b1, w2, b2)
    with stand_ins(ns, "model"):
        m = ns["Model"](w1, b1, w2, b2)
        for k in range(batches):
            x = inp + k
            loss = m(x, targ)
            m.backward()
    grads = map(g, (x, w1, b1, w2, b2))
    return {"loss": _loss(loss, inp), **dict(zip(GRADS, grads))}


# --- their autograd twins: asked of the reference only, in the trusted parent --------------------


def _leaves(*tensors):
    return [t.detach().clone().double().requires_grad_() for t in tensors]


def _back(dtype, **named):
    "The values and the .grad of each leaf, in the inputs' dtype."
    return {k: (v.grad if k.endswith(".g") else v).detach().to(dtype) for k, v in named.items()}


def _checked(out, upstream):
    return (out * upstream).sum()


def autograd_lin(ns, inp, w, b, out_g):
    "out = inp @ w + b; autograd's inp.grad, w.grad, b.grad for the upstream gradient out_g."
    x, w_, b_ = _leaves(inp, w, b)
    out = x @ w_ + b_
    _checked(out, out_g.double()).backward()
    return _back(inp.dtype, out=out, **{"inp.g": x, "w.g": w_, "b.g": b_})


def autograd_relu(ns, x, out_g):
    "relu through autograd: the output and x.grad for the upstream gradient out_g."
    (x_,) = _leaves(x)
    out = torch.relu(x_)
    _checked(out, out_g.double()).backward()
    return _back(x.dtype, out=out, **{"inp.g": x_})


def autograd_mse(ns, pred, targ):
    "The mse loss and d loss / d pred by autograd."
    (p,) = _leaves(pred)
    loss = torch.nn.functional.mse_loss(p[:, 0], targ.double())
    loss.backward()
    return _back(pred.dtype, loss=loss, **{"inp.g": p})


def autograd_mlp(ns, inp, targ, w1, b1, w2, b2, batches=1):
    """lin -> relu -> lin -> mse by autograd (on the input the last of `batches` saw, x + k):
    the loss and the gradient of every input."""
    x, w1_, b1_, w2_, b2_ = _leaves(inp + (batches - 1), w1, b1, w2, b2)
    out = torch.relu(x @ w1_ + b1_) @ w2_ + b2_
    loss = torch.nn.functional.mse_loss(out[:, 0], targ.double())
    loss.backward()
    grads = dict(zip(GRADS, (x, w1_, b1_, w2_, b2_)))
    return _back(inp.dtype, loss=loss, **grads)


# --- the graded training run ---------------------------------------------------------------------

NH = 50  # hidden units of the lesson's 784-50-1 network


def _checked_grad(name, p):
    "p.g as Model.backward() left it, or a ValueError that names the weight."
    pg = getattr(p, "g", None)
    want = f"expected a tensor of shape {tuple(p.shape)}"
    if pg is None:
        raise ValueError(f"Model.backward() left no {name}.g, {want}")
    if not isinstance(pg, torch.Tensor):
        raise ValueError(f"Model.backward() left {name}.g as {type(pg).__name__}, {want}")
    if tuple(pg.shape) != tuple(p.shape):
        raise ValueError(
            f"Model.backward() left {name}.g with shape {tuple(pg.shape)}, "
            f"expected {tuple(p.shape)}"
        )
    return pg


def _valid_mse(x, y, w1, b1, w2, b2):
    "The network's mean squared error on (x, y), computed by us (not with the student's code)."
    with torch.no_grad():
        pred = (x @ w1 + b1).clamp_min(0.0) @ w2 + b2
        return float((pred[:, 0] - y).pow(2).mean())


def _number(loss):
    "The loss the student's Model returned, as a float, or nan where it is not one number."
    try:
        return float(loss.detach() if isinstance(loss, torch.Tensor) else loss)
    except Exception:  # None (no return), a tensor of many values, anything else
        return float("nan")


def train_model(ns, path, epochs, bs, lr, n_train, device="cpu"):
    """The graded run: the lesson's 784-50-1 regression network, trained with the student's
    Model (its forward and its hand-written backward) and plain SGD on the .g it leaves, on the
    first n_train training images with the digits as float targets. Returns the weights, the
    history [mean training loss the Model returned, validation MSE measured by us] per epoch,
    the seconds it took and the steps. The caller seeds torch's RNG: it draws the weights and
    each epoch's shuffle."""
    import time

    from safetensors.torch import load_file

    d = load_file(path)
    xt, yt = d["x_train"][:n_train].float(), d["y_train"][:n_train].float()
    xv, yv = d["x_valid"].float(), d["y_valid"].float()
    n, n_in = xt.shape
    # the lesson's init: 1/sqrt(fan_in) for the weights, zero biases
    w1 = torch.randn(n_in, NH) / n_in**0.5
    w2 = torch.randn(NH, 1) / NH**0.5
    b1, b2 = torch.zeros(NH), torch.zeros(1)
    xt, yt, xv, yv, w1, b1, w2, b2 = (t.to(device) for t in (xt, yt, xv, yv, w1, b1, w2, b2))
    weights = {"w1": w1, "b1": b1, "w2": w2, "b2": b2}
    model = ns["Model"](w1, b1, w2, b2)
    history, steps = [], 0
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n).to(device)
        losses = []
        for i in range(0, n, bs):
            idx = perm[i : i + bs]
            for p in weights.values():  # so a .g left from the last step cannot pass for this one's
                if hasattr(p, "g"):
                    del p.g
            losses.append(_number(model(xt[idx], yt[idx])))
            model.backward()
            grads = {k: _checked_grad(k, p) for k, p in weights.items()}
            with torch.no_grad():
                for k, p in weights.items():
                    p -= lr * grads[k].to(p.device, p.dtype)
            steps += 1
        history.append([sum(losses) / len(losses), _valid_mse(xv, yv, w1, b1, w2, b2)])
    return {
        "state": {k: p.detach().cpu().clone() for k, p in weights.items()},
        "history": history,
        "seconds": time.perf_counter() - t0,
        "steps": steps,
    }


PROBES = {
    f.__name__: f
    for f in [
        relu_fresh,
        lin_grad_from,
        forward_backward,
        relu_layer,
        lin_layer,
        mse_layer,
        model_structure,
        model_run,
        autograd_lin,
        autograd_relu,
        autograd_mse,
        autograd_mlp,
        train_model,
    ]
}
