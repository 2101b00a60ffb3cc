"""Our answers to the backprop lesson's exercises: what its tests compare against.

A two-layer regression network, `lin -> relu -> lin -> mse`, with every gradient written by hand
and stored on the tensors as `.g` (never `.grad`: no autograd here). Trusted code: it runs only in
the grader's parent process and is never shipped to students.
"""

import torch


def lin(x, w, b):
    "A linear layer: (N, n_in) @ (n_in, n_out) plus a bias of shape (n_out,) on every row."
    return x @ w + b


def relu(x):
    "max(x, 0) elementwise, as a new tensor of the same shape and dtype (x is left alone)."
    return x.clamp_min(0.0)


def mse(output, targ):
    """Mean squared error of an (N, 1) output against an (N,) target. The output's last axis is
    dropped first: (N, 1) minus (N,) would broadcast to an (N, N) matrix of every pair."""
    return (output[:, 0] - targ).pow(2).mean()


def lin_grad(inp, out, w, b):
    """From out.g (the loss's gradient with respect to out = inp @ w + b), set inp.g, w.g, b.g.

    out[n, j] = sum_i inp[n, i] w[i, j] + b[j], so by the chain rule
      inp.g[n, i] = sum_j out.g[n, j] w[i, j]     -> out.g @ w.T
      w.g[i, j]   = sum_n inp[n, i] out.g[n, j]   -> inp.T @ out.g
      b.g[j]      = sum_n out.g[n, j]             -> out.g.sum(0)
    """
    inp.g = out.g @ w.t()
    w.g = inp.t() @ out.g
    b.g = out.g.sum(0)


def forward_and_backward(inp, targ, w1, b1, w2, b2):
    """The forward pass lin -> relu -> lin -> mse, then the backward pass by hand. Returns the
    loss; leaves .g on inp, w1, b1, w2 and b2 (and on the intermediate activations)."""
    l1 = lin(inp, w1, b1)
    l2 = relu(l1)
    out = lin(l2, w2, b2)
    diff = out[:, 0] - targ
    loss = diff.pow(2).mean()
    # d loss / d out: the derivative of a mean of squares, 2 (out - targ) / N, back as (N, 1)
    out.g = (2.0 * diff / targ.shape[0])[:, None]
    lin_grad(l2, out, w2, b2)
    l1.g = l2.g * (l1 > 0)  # relu lets the gradient through only where its input was positive
    lin_grad(inp, l1, w1, b1)
    return loss


class Relu:
    "relu as a layer: __call__ keeps its input and output, backward() sets inp.g from out.g."

    def __call__(self, inp):
        self.inp = inp
        self.out = relu(inp)
        return self.out

    def backward(self):
        self.inp.g = self.out.g * (self.inp > 0)


class Lin:
    "A linear layer holding its weights; backward() sets inp.g, w.g and b.g from out.g."

    def __init__(self, w, b):
        self.w, self.b = w, b

    def __call__(self, inp):
        self.inp = inp
        self.out = lin(inp, self.w, self.b)
        return self.out

    def backward(self):
        lin_grad(self.inp, self.out, self.w, self.b)


class Mse:
    "The loss as a layer: its backward() starts the chain, setting inp.g with no out.g needed."

    def __call__(self, inp, targ):
        self.inp, self.targ = inp, targ
        self.out = mse(inp, targ)
        return self.out

    def backward(self):
        diff = self.inp[:, 0] - self.targ
        self.inp.g = (2.0 * diff / self.targ.shape[0])[:, None]


class Model:
    "Lin -> Relu -> Lin with an Mse loss: model(x, targ) is the loss, model.backward() every .g."

    def __init__(self, w1, b1, w2, b2):
        self.layers = [Lin(w1, b1), Relu(), Lin(w2, b2)]
        self.loss = Mse()

    def __call__(self, x, targ):
        for layer in self.layers:
            x = layer(x)
        return self.loss(x, targ)

    def backward(self):
        self.loss.backward()
        for layer in reversed(self.layers):
            layer.backward()


def init_weights(n_in, nh, generator=None, dtype=torch.float32):
    "Weights for the 784-50-1 network: scaled by 1/sqrt(fan_in) so activations stay near unit size."
    w1 = torch.randn(n_in, nh, generator=generator, dtype=dtype) / n_in**0.5
    w2 = torch.randn(nh, 1, generator=generator, dtype=dtype) / nh**0.5
    return w1, torch.zeros(nh, dtype=dtype), w2, torch.zeros(1, dtype=dtype)
