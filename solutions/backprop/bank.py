"""Cell sources that test the backprop tests: the lesson's own answers, other correct answers, and
the mistakes students make.

Each source replaces one exercise cell (keyed by its grade_id) of the solution notebook and runs
after the locked setup cell and the earlier exercise cells, in one shared namespace.
`autograder validate --assignment backprop` grades them all: correct ones must score full marks,
each bug must lose points on its own exercise only, with a message holding one of its words.
"""

from __future__ import annotations

from textwrap import dedent

from autograder.bank import Bug


def _cell(src: str) -> str:
    "Source written indented inside this file, as the notebook cell holds it."
    return dedent(src).strip() + "\n"


# The lesson's code, with the signatures the exercises keep (the weights come in as arguments
# instead of from the notebook's globals).
LESSON_FORWARD_AND_BACKWARD = _cell("""
    def forward_and_backward(inp, targ, w1, b1, w2, b2):
        # forward pass:
        l1 = lin(inp, w1, b1)
        l2 = relu(l1)
        out = lin(l2, w2, b2)
        diff = out[:,0]-targ
        loss = diff.pow(2).mean()

        # backward pass:
        out.g = 2.*diff[:,None] / inp.shape[0]
        lin_grad(l2, out, w2, b2)
        l1.g = (l1>0).float() * l2.g
        lin_grad(inp, l1, w1, b1)
        return loss
""")

LESSON_RELU = """
    class Relu():
        def __call__(self, inp):
            self.inp = inp
            self.out = inp.clamp_min(0.)
            return self.out

        def backward(self): self.inp.g = (self.inp>0).float() * self.out.g
"""
LESSON_LIN = """
    class Lin():
        def __init__(self, w, b): self.w,self.b = w,b

        def __call__(self, inp):
            self.inp = inp
            self.out = lin(inp, self.w, self.b)
            return self.out

        def backward(self):
            self.inp.g = self.out.g @ self.w.t()
            self.w.g = self.inp.t() @ self.out.g
            self.b.g = self.out.g.sum(0)
"""
LESSON_MSE = """
    class Mse():
        def __call__(self, inp, targ):
            self.inp,self.targ = inp,targ
            self.out = mse(inp, targ)
            return self.out

        def backward(self):
            self.inp.g = 2. * (self.inp.squeeze() - self.targ).unsqueeze(-1) / self.targ.shape[0]
"""
LESSON_MODEL = _cell("""
    class Model():
        def __init__(self, w1, b1, w2, b2):
            self.layers = [Lin(w1,b1), Relu(), Lin(w2,b2)]
            self.loss = Mse()

        def __call__(self, x, targ):
            for l in self.layers: x = l(x)
            return self.loss(x, targ)

        def backward(self):
            self.loss.backward()
            for l in reversed(self.layers): l.backward()
""")


def _layers(relu=LESSON_RELU, lin=LESSON_LIN, mse=LESSON_MSE) -> str:
    "The layers cell with one of its classes replaced."
    return "\n\n".join(_cell(c) for c in (relu, lin, mse))


LESSON: dict[str, str] = {
    "lin": "def lin(x, w, b): return x@w + b\n",
    "relu": "def relu(x): return x.clamp_min(0.)\n",
    "mse": "def mse(output, targ): return ((output.squeeze(-1)-targ)**2).mean()\n",
    "lin_grad": _cell("""
        def lin_grad(inp, out, w, b):
            # grad of matmul with respect to input
            inp.g = out.g @ w.t()
            w.g = (inp.unsqueeze(-1) * out.g.unsqueeze(1)).sum(0)
            b.g = out.g.sum(0)
    """),
    "forward_and_backward": LESSON_FORWARD_AND_BACKWARD,
    "layers": _layers(),
    "model": LESSON_MODEL,
}

# Other correct answers: alternative k of every exercise is graded together in one notebook.
ALTERNATIVES: dict[str, list[tuple[str, str]]] = {
    "lin": [
        ("einsum", "def lin(x, w, b):\n    return torch.einsum('ni,io->no', x, w) + b\n"),
        ("broadcast_sum", "def lin(x, w, b):\n    return (x[:, :, None] * w[None]).sum(1) + b\n"),
    ],
    "relu": [
        ("where", "def relu(x):\n    return torch.where(x > 0, x, torch.zeros_like(x))\n"),
        ("mask_multiply", "def relu(x):\n    return x * (x > 0)\n"),
    ],
    "mse": [
        (
            "index_column",
            "def mse(output, targ):\n    return ((output[:, 0] - targ) ** 2).mean()\n",
        ),
        (
            "sum_over_n",
            _cell("""
                def mse(output, targ):
                    diff = output.view(-1) - targ
                    return (diff * diff).sum() / len(targ)
            """),
        ),
    ],
    "lin_grad": [
        (
            "matmul_transposes",
            _cell("""
                def lin_grad(inp, out, w, b):
                    inp.g = out.g @ w.T
                    w.g = inp.T @ out.g
                    b.g = out.g.sum(dim=0)
            """),
        ),
        (
            "einsum",
            _cell("""
                def lin_grad(inp, out, w, b):
                    inp.g = torch.einsum('nj,ij->ni', out.g, w)
                    w.g = torch.einsum('ni,nj->ij', inp, out.g)
                    b.g = torch.einsum('nj->j', out.g)
            """),
        ),
    ],
    "forward_and_backward": [
        (
            "mse_for_the_loss",
            _cell("""
                def forward_and_backward(inp, targ, w1, b1, w2, b2):
                    l1 = lin(inp, w1, b1)
                    l2 = relu(l1)
                    out = lin(l2, w2, b2)
                    loss = mse(out, targ)
                    out.g = 2 * (out.squeeze(-1) - targ).unsqueeze(-1) / len(targ)
                    lin_grad(l2, out, w2, b2)
                    l1.g = l2.g * (l1 > 0)
                    lin_grad(inp, l1, w1, b1)
                    return loss
            """),
        ),
        (
            "inline_gradients",
            _cell("""
                def forward_and_backward(inp, targ, w1, b1, w2, b2):
                    l1 = inp @ w1 + b1
                    l2 = torch.where(l1 > 0, l1, torch.zeros_like(l1))
                    out = l2 @ w2 + b2
                    diff = out - targ[:, None]
                    out.g = 2 * diff / len(inp)
                    l2.g = out.g @ w2.T
                    w2.g, b2.g = l2.T @ out.g, out.g.sum(0)
                    l1.g = torch.where(l1 > 0, l2.g, torch.zeros_like(l2.g))
                    inp.g = l1.g @ w1.T
                    w1.g, b1.g = inp.T @ l1.g, l1.g.sum(0)
                    return (diff ** 2).mean()
            """),
        ),
    ],
    "layers": [
        (
            "own_gradients",
            _cell("""
                class Relu:
                    def __call__(self, inp):
                        self.inp, self.mask = inp, inp > 0
                        self.out = inp * self.mask
                        return self.out

                    def backward(self):
                        self.inp.g = self.out.g * self.mask


                class Lin:
                    def __init__(self, w, b):
                        self.w, self.b = w, b

                    def __call__(self, inp):
                        self.inp = inp
                        self.out = inp @ self.w + self.b
                        return self.out

                    def backward(self):
                        self.inp.g = self.out.g @ self.w.T
                        self.w.g = self.inp.T @ self.out.g
                        self.b.g = self.out.g.sum(0)


                class Mse:
                    def __call__(self, inp, targ):
                        self.inp, self.targ = inp, targ
                        self.diff = inp[:, 0] - targ
                        self.out = (self.diff ** 2).mean()
                        return self.out

                    def backward(self):
                        self.inp.g = (2 * self.diff / len(self.diff)).unsqueeze(1)
            """),
        ),
        (
            "shared_base_class",
            _cell("""
                class Layer:
                    def __call__(self, *args):
                        self.args = args
                        self.out = self.forward(*args)
                        return self.out


                class Relu(Layer):
                    def forward(self, inp):
                        return relu(inp)

                    def backward(self):
                        (inp,) = self.args
                        inp.g = (inp > 0) * self.out.g


                class Lin(Layer):
                    def __init__(self, w, b):
                        self.w, self.b = w, b

                    def forward(self, inp):
                        return lin(inp, self.w, self.b)

                    def backward(self):
                        lin_grad(self.args[0], self.out, self.w, self.b)


                class Mse(Layer):
                    def forward(self, inp, targ):
                        return mse(inp, targ)

                    def backward(self):
                        inp, targ = self.args
                        inp.g = 2 * (inp - targ.view(-1, 1)) / targ.numel()
            """),
        ),
    ],
    "model": [
        (
            "explicit_chain",
            _cell("""
                class Model:
                    def __init__(self, w1, b1, w2, b2):
                        self.layers = [Lin(w1, b1), Relu(), Lin(w2, b2)]
                        self.loss = Mse()

                    def __call__(self, x, targ):
                        l1, relu_layer, l2 = self.layers
                        return self.loss(l2(relu_layer(l1(x))), targ)

                    def backward(self):
                        self.loss.backward()
                        for layer in self.layers[::-1]:
                            layer.backward()
            """),
        ),
        (
            "reduce",
            _cell("""
                from functools import reduce


                class Model:
                    def __init__(self, w1, b1, w2, b2):
                        self.layers = [Lin(w1, b1), Relu(), Lin(w2, b2)]
                        self.loss = Mse()

                    def __call__(self, x, targ):
                        return self.loss(reduce(lambda t, layer: layer(t), self.layers, x), targ)

                    def backward(self):
                        for layer in [self.loss, *reversed(self.layers)]:
                            layer.backward()
            """),
        ),
    ],
}


def _fb(mask="(l1>0).float() * l2.g", out_g="2.*diff[:,None] / inp.shape[0]", diff="out[:,0]-targ"):
    "The lesson's forward_and_backward with one of its lines replaced."
    return (
        LESSON_FORWARD_AND_BACKWARD.replace("(l1>0).float() * l2.g", mask)
        .replace("2.*diff[:,None] / inp.shape[0]", out_g)
        .replace("out[:,0]-targ", diff)
    )


# Mistakes students make. Each must lose points on its own exercise only, and a failing message
# must hold one of its words (whole words, lowercase): write the hint first, then the bug.
BUGS: dict[str, list[Bug]] = {
    "lin": [
        Bug("no_bias", "def lin(x, w, b): return x @ w\n", ("bias",), hints=("add the bias",)),
        Bug(
            "elementwise",
            "def lin(x, w, b): return x * w + b\n",
            ("matrix product",),
            hints=("x @ w is a matrix product",),
        ),
        Bug(
            "transposed_weight",
            "def lin(x, w, b): return x @ w.t() + b\n",
            ("transpose",),
            hints=("no transpose is needed in the forward pass",),
        ),
        Bug(
            "weight_first",
            "def lin(x, w, b): return w @ x + b\n",
            ("order",),
            hints=("no transpose is needed in the forward pass",),
        ),
    ],
    "relu": [
        Bug(
            "in_place",
            _cell("""
                def relu(x):
                    x[x < 0] = 0.
                    return x
            """),
            ("in place", "new tensor"),
        ),
        Bug(
            "min_not_max",
            "def relu(x): return x.clamp_max(0.)\n",
            ("max",),
            hints=("that is min(x, 0)",),
        ),
        Bug(
            "absolute_value",
            "def relu(x): return x.abs()\n",
            ("absolute value",),
            hints=("not their absolute value",),
        ),
        Bug(
            "returns_the_mask",
            "def relu(x): return x > 0\n",
            ("mask",),
            hints=("x > 0 is the mask",),
        ),
    ],
    "mse": [
        Bug(
            "no_squeeze",
            "def mse(output, targ): return ((output - targ)**2).mean()\n",
            ("broadcasts", "squeeze"),
            hints=("broadcasts to an (N, N) matrix",),
        ),
        Bug(
            "sum_not_mean",
            "def mse(output, targ): return ((output[:,0] - targ)**2).sum()\n",
            ("mean",),
            hints=("mse is the mean of the squared differences",),
        ),
        Bug(
            "absolute_error",
            "def mse(output, targ): return (output[:,0] - targ).abs().mean()\n",
            ("square",),
            hints=("square each difference",),
        ),
        Bug(
            "root_of_mse",
            "def mse(output, targ): return ((output[:,0] - targ)**2).mean().sqrt()\n",
            ("root",),
            hints=("that is the root of the mean squared error",),
        ),
    ],
    "lin_grad": [
        Bug(
            "input_grad_not_transposed",
            LESSON["lin_grad"].replace("out.g @ w.t()", "out.g @ w"),
            ("transposes",),
            hints=("the transposes are what make the shapes fit",),
        ),
        Bug(
            "weight_grad_transposed",
            _cell("""
                def lin_grad(inp, out, w, b):
                    inp.g = out.g @ w.t()
                    w.g = out.g.t() @ inp
                    b.g = out.g.sum(0)
            """),
            ("transposes",),
            hints=("the transposes are what make the shapes fit",),
        ),
        Bug(
            "bias_grad_mean",
            LESSON["lin_grad"].replace("b.g = out.g.sum(0)", "b.g = out.g.mean(0)"),
            ("sum", "mean"),
            hints=("a sum over the batch, not a mean",),
        ),
        Bug(
            "bias_grad_not_reduced",
            LESSON["lin_grad"].replace("b.g = out.g.sum(0)", "b.g = out.g"),
            ("dim 0", "shape"),
            hints=("b.g has b's shape",),
        ),
        Bug(
            "returns_instead_of_setting",
            _cell("""
                def lin_grad(inp, out, w, b):
                    return out.g @ w.t(), inp.t() @ out.g, out.g.sum(0)
            """),
            ("not set",),
        ),
    ],
    "forward_and_backward": [
        Bug(
            "no_factor_two",
            _fb(out_g="diff[:,None] / inp.shape[0]"),
            ("factor of 2",),
            hints=("missing the factor of 2",),
        ),
        Bug(
            "no_division_by_n",
            _fb(out_g="2.*diff[:,None]"),
            ("divided by n",),
            hints=("divided by N as well",),
        ),
        Bug(
            "relu_mask_missing",
            _fb(mask="l2.g"),
            ("mask",),
            hints=("the chain goes wrong between the two layers",),
        ),
        Bug(
            "relu_mask_reversed",
            _fb(mask="(l1<0).float() * l2.g"),
            ("mask",),
            hints=("the chain goes wrong between the two layers",),
        ),
        Bug(
            "no_squeeze",
            _fb(diff="out-targ[None]", out_g="2.*diff / inp.shape[0]"),
            ("broadcasts",),
            hints=("broadcasts to an (N, N) matrix",),
        ),
        Bug(
            "no_return",
            LESSON_FORWARD_AND_BACKWARD.replace("    return loss\n", ""),
            ("return",),
            hints=("must return it",),
        ),
    ],
    "layers": [
        Bug(
            "relu_without_mask",
            _layers(relu=LESSON_RELU.replace("(self.inp>0).float() * self.out.g", "self.out.g")),
            ("mask",),
            hints=("relu passes the gradient on only where its input was positive",),
        ),
        Bug(
            "lin_weight_grad_transposed",
            _layers(
                lin=LESSON_LIN.replace("self.inp.t() @ self.out.g", "self.out.g.t() @ self.inp")
            ),
            ("transposes",),
            hints=("the transposes are what make the shapes fit",),
        ),
        Bug(
            "lin_bias_grad_mean",
            _layers(lin=LESSON_LIN.replace("self.out.g.sum(0)", "self.out.g.mean(0)")),
            ("sum",),
            hints=("a sum over the batch, not a mean",),
        ),
        Bug(
            "mse_grad_not_squeezed",
            _layers(
                mse=LESSON_MSE.replace(
                    "(self.inp.squeeze() - self.targ).unsqueeze(-1)", "(self.inp - self.targ)"
                )
            ),
            ("broadcasts",),
            hints=("broadcasts to an (N, N) matrix",),
        ),
        Bug(
            "mse_grad_no_division",
            _layers(mse=LESSON_MSE.replace(" / self.targ.shape[0]", "")),
            ("divided by n",),
            hints=("divided by N as well",),
        ),
    ],
    "model": [
        Bug(
            "backward_runs_forwards",
            LESSON_MODEL.replace("for l in reversed(self.layers)", "for l in self.layers"),
            ("reversed", "reverse"),
            hints=("in reversed(self.layers)",),
        ),
        Bug(
            "no_loss_backward",
            LESSON_MODEL.replace("        self.loss.backward()\n", ""),
            ("self.loss.backward",),
            hints=("in reversed(self.layers)",),
        ),
        Bug(
            "no_relu_layer",
            LESSON_MODEL.replace("[Lin(w1,b1), Relu(), Lin(w2,b2)]", "[Lin(w1,b1), Lin(w2,b2)]"),
            ("relu",),
            hints=("Model.__init__ builds self.layers",),
        ),
        Bug(
            "call_returns_nothing",
            LESSON_MODEL.replace("return self.loss(x, targ)", "self.loss(x, targ)"),
            ("return",),
            hints=("return self.loss(x, targ)",),
        ),
    ],
}
