"""Write the instructor notebook backprop.ipynb next to this script (or to the path given)."""

from __future__ import annotations

import sys
from pathlib import Path
from textwrap import dedent

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _src(text: str) -> str:
    return dedent(text).strip("\n")


def md(text: str):
    return new_markdown_cell(_src(text))


def code(text: str):
    return new_code_cell(_src(text))


def _nbgrader(grade_id: str, *, grade: bool, solution: bool, locked: bool, points=None) -> dict:
    meta = dict(grade=grade, grade_id=grade_id, locked=locked, schema_version=3)
    meta |= dict(solution=solution, task=False)
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def setup(text: str):
    "The locked imports cell the grader runs before the exercises."
    meta = _nbgrader("setup", grade=False, solution=False, locked=True)
    return new_code_cell(_src(text), metadata=meta)


def exercise(grade_id: str, text: str):
    "A solution cell: nbgrader replaces each BEGIN/END SOLUTION region with a stub."
    meta = _nbgrader(grade_id, grade=False, solution=True, locked=False)
    return new_code_cell(_src(text), metadata=meta)


def selfcheck(grade_id: str):
    """A locked, zero-point test cell the student can run: the exercise's public tests, the same
    ones `pytest` and `autograder check` run (autograder.selfcheck). Our grader does the scoring."""
    meta = _nbgrader(f"{grade_id}_selfcheck", grade=True, solution=False, locked=True, points=0)
    source = f'from autograder.selfcheck import check\ncheck("{grade_id}")'
    return new_code_cell(source, metadata=meta)


CELLS = [
    md("""
    # Backpropagation by hand

    A neural network learns by nudging each of its weights against the gradient of the loss. In
    this notebook we compute those gradients ourselves, for a small network on MNIST, with
    nothing but matrix products, sums and comparisons. We build the forward pass from three
    pieces (a linear layer, a ReLU and a mean squared error), derive and write the backward pass
    with the chain rule, check every gradient against PyTorch's autograd, and finally reorganise
    the code into layer objects that each know their own backward step, which is how PyTorch
    itself is organised.

    **How the exercises work.** Cells containing `# YOUR CODE HERE` are yours: replace the
    `raise NotImplementedError()` line with your code and keep the `def` / `class` lines as they
    are. The cell after each exercise is its self-check, worth no points: it runs that
    exercise's public checks on the code you have run in this notebook, prints a line per check
    (with a hint when it recognises a common mistake) and ends in an error if one fails. The
    grader runs the setup cell and your exercise cells (nothing else) on its own, with the same
    public checks, hidden checks on other shapes, and a check that you wrote the exercise
    yourself: from `lin_grad` on, autograd (`.backward()`, `torch.autograd`, `.grad`,
    `requires_grad`) is not allowed in the exercise cells, nor are the built-in layers and losses
    that would do an exercise's job. So an exercise cell must define its names without relying on
    any other cell except the setup cell and earlier exercises; pass everything else in as
    arguments.
    """),
    setup("""
    import math

    import torch
    from torch import tensor
    """),
    md("""
    ## The data

    MNIST comes from the course's data helper, which downloads the archive once, checks its
    SHA-256 and caches it. Each row of `x_train` is one image flattened into 784 = 28 × 28 pixel
    intensities in [0, 1); `y_train` holds the digit each image shows.
    """),
    code("""
    from autograder.data import load

    torch.manual_seed(42)
    torch.set_printoptions(precision=3, linewidth=120, sci_mode=False)
    (x_train, y_train), (x_valid, y_valid), _ = load("mnist")
    x_train.shape, y_train[:10]
    """),
    md("""
    ## A regression network

    To keep the calculus short we treat the problem as *regression*: the network outputs a single
    number per image and is trained to make it close to the digit itself, read as a float (a
    picture of a 7 should give 7.0). That is a poor way to classify digits (it pretends a 3 is
    "between" a 2 and a 4), but its loss, the mean squared error, has the simplest gradient
    there is, and everything we learn carries over to classification unchanged.

    The network has 784 inputs, one hidden layer of 50 units and one output:

    $$\\text{out} = \\operatorname{relu}(x W_1 + b_1)\\, W_2 + b_2, \\qquad
      W_1 \\in \\mathbb{R}^{784 \\times 50},\\; b_1 \\in \\mathbb{R}^{50},\\;
      W_2 \\in \\mathbb{R}^{50 \\times 1},\\; b_2 \\in \\mathbb{R}^{1}.$$

    We draw the weights at random and divide them by the square root of the number of inputs a
    unit sums over, so the activations neither blow up nor vanish as they go through the layers
    (a unit that sums 784 terms of variance 1 would otherwise have variance 784). The biases
    start at zero.
    """),
    code("""
    n, m = x_train.shape
    nh = 50
    y_train_f, y_valid_f = y_train.float(), y_valid.float()  # the regression targets

    w1 = torch.randn(m, nh) / math.sqrt(m)
    b1 = torch.zeros(nh)
    w2 = torch.randn(nh, 1) / math.sqrt(nh)
    b2 = torch.zeros(1)
    w1.shape, b1.shape, w2.shape, b2.shape
    """),
    md("""
    ## The forward pass

    ### Exercise 1: `lin`

    A linear layer maps a batch `x` of shape `(N, n_in)` to `x @ w + b` of shape `(N, n_out)`:
    every row is multiplied by the same weight matrix `w` (shape `(n_in, n_out)`), and the
    bias `b` (shape `(n_out,)`) is broadcast, added to every row. Write `lin(x, w, b)`.
    """),
    exercise(
        "lin",
        """
        def lin(x, w, b):
            "A linear layer: (N, n_in) @ (n_in, n_out), plus the bias b (n_out,) on every row."
            ### BEGIN SOLUTION
            return x @ w + b
            ### END SOLUTION
        """,
    ),
    selfcheck("lin"),
    code("""
    t = lin(x_valid, w1, b1)
    t.shape, t.mean(), t.std()
    """),
    md("""
    ### Exercise 2: `relu`

    The rectified linear unit keeps the positive entries of its input and replaces the negative
    ones with zero: $\\operatorname{relu}(z) = \\max(z, 0)$, elementwise. Without it, two linear
    layers in a row would collapse into a single linear map.

    Write `relu(x)`. It must return a **new tensor** and leave `x` as it was: the backward pass
    will need the values the ReLU received (to know where they were positive), so overwriting
    them in place (`x[x < 0] = 0`) would destroy exactly what we need later. `x.clamp_min(0.0)`
    or `x * (x > 0)` both build a new tensor; the built-in `torch.relu` and `F.relu` are not
    allowed here.
    """),
    exercise(
        "relu",
        """
        def relu(x):
            "max(x, 0) elementwise, as a new tensor (x itself is left unchanged)."
            ### BEGIN SOLUTION
            return x.clamp_min(0.0)
            ### END SOLUTION
        """,
    ),
    selfcheck("relu"),
    code("""
    t = relu(lin(x_valid, w1, b1))
    t.shape, t.mean(), t.std(), (t == 0).float().mean()  # about half the units are off
    """),
    md("""
    With those two functions the whole forward pass of the network is three lines. Its output
    has one column: one prediction per image.
    """),
    code("""
    def model(xb):
        l1 = lin(xb, w1, b1)
        l2 = relu(l1)
        return lin(l2, w2, b2)


    res = model(x_valid)
    res.shape
    """),
    md("""
    ## The loss

    The mean squared error between predictions $p_n$ and targets $t_n$ is

    $$L = \\frac{1}{N} \\sum_{n=1}^{N} (p_n - t_n)^2 .$$

    There is a trap in the shapes. The predictions are a column, `(N, 1)`, while the targets are a
    plain vector, `(N,)`. Broadcasting lines shapes up from the right: `(N, 1)` against `(N,)`
    becomes `(N, 1)` against `(1, N)`, and the difference is an `(N, N)` matrix holding every
    prediction minus every target. Nothing raises an error; the mean of that matrix is simply a
    different, meaningless number (and on all 10,000 validation images, a matrix of 10⁸ entries).
    On five rows:
    """),
    code("""
    (res[:5] - y_valid_f[:5]).shape, (res[:5, 0] - y_valid_f[:5]).shape
    """),
    md("""
    Dropping the output's last axis first, with `out[:, 0]` or `out.squeeze(-1)`, gives the `(N,)`
    vector of differences we want. (Plain `squeeze()` removes *every* axis of size one, the batch
    axis too when a batch has a single row; `squeeze(-1)` says exactly which one to drop.)

    ### Exercise 3: `mse`

    Write `mse(output, targ)`: the mean squared error of an `(N, 1)` output against an `(N,)`
    target, returned as a scalar tensor. `F.mse_loss` is not allowed here.
    """),
    exercise(
        "mse",
        """
        def mse(output, targ):
            "Mean squared error of an (N, 1) output against an (N,) target."
            ### BEGIN SOLUTION
            return (output[:, 0] - targ).pow(2).mean()
            ### END SOLUTION
        """,
    ),
    selfcheck("mse"),
    code("""
    mse(res, y_valid_f)  # the untrained network predicts about 0, the digits average about 4.5
    """),
    md(r"""
    ## Gradients and the chain rule

    Training needs the gradient of the loss with respect to every weight and bias. Our loss is a
    chain of functions,

    $$x \xrightarrow{\ \text{lin}\ } l_1 \xrightarrow{\ \text{relu}\ } l_2
      \xrightarrow{\ \text{lin}\ } \text{out} \xrightarrow{\ \text{mse}\ } L,$$

    and the **chain rule** says that the derivative of a composition is the product of the
    derivatives of its steps. With $y = f(u)$ and $u = g(x)$,
    $\frac{dy}{dx} = \frac{dy}{du}\frac{du}{dx}$. So we start at the loss and walk the chain
    backwards: once we know how $L$ changes with a step's output, we multiply by that step's own
    (local) derivative to learn how $L$ changes with the step's inputs, and hand the result on to
    the step before. That walk is the *backward pass*, and the algorithm is *backpropagation*.

    We store each gradient as an attribute `.g` of the tensor it belongs to: `out.g` holds
    $\partial L / \partial \text{out}$, with the shape of `out`. (Python lets us attach attributes
    to tensors. We avoid `.grad`, which belongs to PyTorch's autograd.) Each step needs three
    derivatives.

    **The loss.** $L = \frac1N \sum_n (\text{out}_{n} - t_n)^2$, so

    $$\frac{\partial L}{\partial \text{out}_n} = \frac{2\,(\text{out}_n - t_n)}{N}:$$

    the 2 comes from the square and the $1/N$ from the mean. As `out` is `(N, 1)`, so is
    `out.g`: compute it from the `(N,)` differences and add the axis back (`[:, None]`).

    **ReLU.** Its derivative is 1 where its input was positive and 0 elsewhere, so the gradient
    passes through unchanged where the unit was on and is blocked where it was off:
    `l1.g = (l1 > 0).float() * l2.g`, a *mask* built from the ReLU's input.

    **A linear layer.** Write $\text{out} = \text{inp}\,W + b$ entry by entry:
    $\text{out}_{nj} = \sum_i \text{inp}_{ni} W_{ij} + b_j$. Each input entry, weight and bias
    influences the loss through every output entry it appears in, so its gradient sums over those:

    $$\frac{\partial L}{\partial \text{inp}_{ni}} = \sum_j \text{out.g}_{nj}\, W_{ij}
      \;\Rightarrow\; \text{inp.g} = \text{out.g}\, W^\top, \qquad
      \frac{\partial L}{\partial W_{ij}} = \sum_n \text{inp}_{ni}\, \text{out.g}_{nj}
      \;\Rightarrow\; W\text{.g} = \text{inp}^\top\, \text{out.g},$$

    $$\frac{\partial L}{\partial b_j} = \sum_n \text{out.g}_{nj}
      \;\Rightarrow\; b\text{.g} = \text{out.g summed over the batch}.$$

    A good way to remember where the transposes go: a gradient always has the shape of its
    tensor. `w` is `(n_in, n_out)` and `out.g` is `(N, n_out)`, so `w.g` must be
    `inp.T @ out.g`, `(n_in, N) @ (N, n_out)`; and since the bias was added to every row, its
    gradient *adds up* every row's share (a sum, not a mean).

    ### Exercise 4: `lin_grad`

    Write `lin_grad(inp, out, w, b)`: given a linear layer's input, its output `out = inp @ w + b`
    (with `out.g` already set), and its weights, set `inp.g`, `w.g` and `b.g`. It returns nothing.
    """),
    exercise(
        "lin_grad",
        """
        def lin_grad(inp, out, w, b):
            "From out.g, the gradient at out = inp @ w + b, set inp.g, w.g and b.g."
            ### BEGIN SOLUTION
            inp.g = out.g @ w.t()
            w.g = inp.t() @ out.g
            b.g = out.g.sum(0)
            ### END SOLUTION
        """,
    ),
    selfcheck("lin_grad"),
    md("""
    ### Exercise 5: `forward_and_backward`

    Put it together. `forward_and_backward(inp, targ, w1, b1, w2, b2)` runs the forward pass
    `lin → relu → lin → mse`, keeping every intermediate result, then the backward pass from the
    loss back to the input: set `out.g` from the mse's derivative, call `lin_grad` for the second
    layer, apply the ReLU's mask, and call `lin_grad` for the first layer. It returns the loss and
    leaves `.g` on `inp`, `w1`, `b1`, `w2` and `b2`. Use your `lin`, `relu` and `lin_grad`
    (and `mse`, if you like, for the loss); the weights come in as arguments, not from the
    notebook's globals.
    """),
    exercise(
        "forward_and_backward",
        """
        def forward_and_backward(inp, targ, w1, b1, w2, b2):
            "The forward pass lin -> relu -> lin -> mse, then every gradient by hand; the loss."
            ### BEGIN SOLUTION
            l1 = lin(inp, w1, b1)
            l2 = relu(l1)
            out = lin(l2, w2, b2)
            diff = out[:, 0] - targ
            loss = diff.pow(2).mean()
            out.g = 2.0 * diff[:, None] / inp.shape[0]
            lin_grad(l2, out, w2, b2)
            l1.g = (l1 > 0).float() * l2.g
            lin_grad(inp, l1, w1, b1)
            return loss
            ### END SOLUTION
        """,
    ),
    selfcheck("forward_and_backward"),
    md("""
    ### Checking against autograd

    PyTorch can compute the same gradients automatically: mark the tensors with
    `requires_grad_()`, run the forward pass with ordinary tensor operations, and call
    `.backward()` on the loss; the gradients land in `.grad`. We do that here, outside the
    exercises, on copies of the weights and a thousand training images, and compare.
    """),
    code("""
    xb, yb = x_train[:1000], y_train_f[:1000]
    loss = forward_and_backward(xb, yb, w1, b1, w2, b2)
    ours = [t.g for t in (xb, w1, b1, w2, b2)]

    leaves = [t.clone().requires_grad_() for t in (xb, w1, b1, w2, b2)]
    xt, w1t, b1t, w2t, b2t = leaves
    out = (xt @ w1t + b1t).clamp_min(0.0) @ w2t + b2t
    loss_t = (out[:, 0] - yb).pow(2).mean()
    loss_t.backward()

    torch.testing.assert_close(loss, loss_t.detach())
    for name, g, leaf in zip(["inp", "w1", "b1", "w2", "b2"], ours, leaves):
        torch.testing.assert_close(g, leaf.grad, rtol=1e-4, atol=1e-6)
        print(f"{name}.g matches autograd, shape {tuple(g.shape)}")
    """),
    md("""
    ## Layers as objects

    `forward_and_backward` works, but it is one long function that knows every step of the
    network. Notice what the backward pass of each step needs: the ReLU needs its input (for the
    mask), a linear layer its input and weights, and every step the gradient at its output. So
    let each step be an object that remembers those things when it is called, and that has a
    `backward()` method for its own part of the chain:

    - calling the layer (`__call__`) computes its output and keeps its input and output as
      attributes (say `self.inp` and `self.out`) before returning the output;
    - `backward()` reads `self.out.g`, which the next layer's `backward()` has set by then, and
      sets `.g` on its input (and, for a linear layer, on its weights and bias).

    Because a layer's output tensor *is* the next layer's input tensor, setting `inp.g` in one
    layer's backward is the same as setting `out.g` for the layer before it: the chain links up
    by itself. The loss is a layer too, the last one; its `backward()` starts the chain, as
    nothing comes after it.

    ### Exercise 6: `Relu`, `Lin` and `Mse`

    Write the three classes:

    - `Relu()`: `layer(inp)` returns `relu(inp)`; `backward()` sets `inp.g` from `out.g`;
    - `Lin(w, b)`: `layer(inp)` returns `lin(inp, w, b)`; `backward()` sets `inp.g`, `w.g` and
      `b.g` from `out.g` (your `lin_grad` does exactly that);
    - `Mse()`: `layer(inp, targ)` returns `mse(inp, targ)`; `backward()` sets `inp.g`, the
      gradient of the loss with respect to the `(N, 1)` predictions.
    """),
    exercise(
        "layers",
        """
        class Relu:
            "relu as a layer that remembers its input and output for backward()."

            def __call__(self, inp):
                ### BEGIN SOLUTION
                self.inp = inp
                self.out = relu(inp)
                return self.out
                ### END SOLUTION

            def backward(self):
                ### BEGIN SOLUTION
                self.inp.g = (self.inp > 0).float() * self.out.g
                ### END SOLUTION


        class Lin:
            "A linear layer holding its weights; backward() sets inp.g, w.g and b.g."

            def __init__(self, w, b):
                ### BEGIN SOLUTION
                self.w, self.b = w, b
                ### END SOLUTION

            def __call__(self, inp):
                ### BEGIN SOLUTION
                self.inp = inp
                self.out = lin(inp, self.w, self.b)
                return self.out
                ### END SOLUTION

            def backward(self):
                ### BEGIN SOLUTION
                lin_grad(self.inp, self.out, self.w, self.b)
                ### END SOLUTION


        class Mse:
            "The loss as the last layer: its backward() starts the chain."

            def __call__(self, inp, targ):
                ### BEGIN SOLUTION
                self.inp, self.targ = inp, targ
                self.out = mse(inp, targ)
                return self.out
                ### END SOLUTION

            def backward(self):
                ### BEGIN SOLUTION
                diff = self.inp[:, 0] - self.targ
                self.inp.g = 2.0 * diff[:, None] / self.targ.shape[0]
                ### END SOLUTION
        """,
    ),
    selfcheck("layers"),
    md("""
    ### Exercise 7: `Model`

    A model is now a list of layers and a loss. Write `Model(w1, b1, w2, b2)`:

    - `__init__` builds `self.layers = [Lin(w1, b1), Relu(), Lin(w2, b2)]` and `self.loss = Mse()`;
    - `model(x, targ)` runs `x` through the layers in order and returns the loss of the result
      against `targ`;
    - `model.backward()` runs the chain backwards: the loss's `backward()` first, then each
      layer's, **in reverse order** (`reversed(self.layers)`), so that every layer finds its
      output's `.g` already set.
    """),
    exercise(
        "model",
        """
        class Model:
            "Lin -> Relu -> Lin with an Mse loss; backward() fills every .g."

            def __init__(self, w1, b1, w2, b2):
                ### BEGIN SOLUTION
                self.layers = [Lin(w1, b1), Relu(), Lin(w2, b2)]
                self.loss = Mse()
                ### END SOLUTION

            def __call__(self, x, targ):
                ### BEGIN SOLUTION
                for layer in self.layers:
                    x = layer(x)
                return self.loss(x, targ)
                ### END SOLUTION

            def backward(self):
                ### BEGIN SOLUTION
                self.loss.backward()
                for layer in reversed(self.layers):
                    layer.backward()
                ### END SOLUTION
        """,
    ),
    selfcheck("model"),
    md("""
    The refactored model gives the same loss and the same gradients as autograd did above:
    """),
    code("""
    model = Model(w1, b1, w2, b2)
    loss = model(xb, yb)
    model.backward()
    torch.testing.assert_close(loss, loss_t.detach())
    for name, t, leaf in zip(["inp", "w1", "b1", "w2", "b2"], (xb, w1, b1, w2, b2), leaves):
        torch.testing.assert_close(t.g, leaf.grad, rtol=1e-4, atol=1e-6)
    print("Model.backward() matches autograd")
    """),
    md("""
    ## Training with our own gradients

    Nothing more is needed to train. Each step runs a mini-batch forward, fills the `.g` values
    with `backward()`, and moves every weight a little against its gradient (plain stochastic
    gradient descent). The validation loss should fall well below the ≈ 30 the untrained network
    scored.
    """),
    code("""
    def train(model, params, epochs=2, bs=64, lr=0.05):
        for epoch in range(epochs):
            for i in range(0, n, bs):
                model(x_train[i : i + bs], y_train_f[i : i + bs])
                model.backward()
                for p in params:
                    p -= lr * p.g
            print(f"epoch {epoch}: validation mse {model(x_valid, y_valid_f).item():.3f}")


    torch.manual_seed(0)
    params = [
        torch.randn(m, nh) / math.sqrt(m),
        torch.zeros(nh),
        torch.randn(nh, 1) / math.sqrt(nh),
        torch.zeros(1),
    ]
    train(Model(*params), params)
    """),
    md("""
    ## What PyTorch does

    This is, in outline, how PyTorch works. Every operation on a tensor that requires a gradient
    records itself, with what its backward step will need, in a graph; `loss.backward()` walks
    that graph in reverse order, calls each operation's backward step and accumulates the
    results in `.grad`. `torch.autograd.Function` lets you write such an operation yourself, with
    a `forward` and a `backward` much like our layers', and `nn.Module` is the container that
    keeps a model's layers and parameters together, as our `Model` does.

    ## Further reading

    - [Calculus on computational graphs: backpropagation](https://colah.github.io/posts/2015-08-Backprop/),
      a short, visual explanation of the backward pass.
    - The PyTorch tutorial
      [A gentle introduction to torch.autograd](https://pytorch.org/tutorials/beginner/blitz/autograd_tutorial.html)
      and the notes on
      [extending torch.autograd](https://pytorch.org/docs/stable/notes/extending.html).
    """),
]


def build() -> nbformat.NotebookNode:
    "The instructor notebook, with stable cell ids so rebuilding gives the same bytes."
    nb = new_notebook(cells=CELLS, metadata={"kernelspec": KERNELSPEC})
    for i, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.id = grade_id or f"cell-{i:02d}"
    nbformat.validate(nb)
    return nb


def main(out: Path = HERE / "backprop.ipynb") -> None:
    nbformat.write(build(), out)
    print(f"wrote {out} ({len(CELLS)} cells)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "backprop.ipynb")
