"""Write the instructor notebook minibatch.ipynb next to this script (or to the path given)."""

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
    # Mini-batch training from scratch

    In this notebook we rebuild, piece by piece, the machinery PyTorch gives us for training a
    classifier: the softmax and its numerically safe logarithm, the cross-entropy loss, a training
    loop, parameter bookkeeping, an optimizer, and the `Dataset` / `Sampler` / `DataLoader`
    trio that feeds it mini-batches. Each piece is small; together they train a network on MNIST.

    **How the exercises work.** Cells containing `# YOUR CODE HERE` are yours: replace the
    `raise NotImplementedError()` line with your code and keep the `def` / `class` lines as they
    are. The cell after each exercise is its self-check, worth no points: it runs that
    exercise's public checks, the same ones `pytest` and `autograder check` run, on the code you
    have run in this notebook, prints a line per check (with a hint when it recognises a common
    mistake) and ends in an error if one fails. The grader runs the setup cell and your exercise
    cells (nothing else) on its own, with the same public checks, hidden checks on other inputs, a
    check that you did not call the built-in an exercise asks you to write, and finally a network
    trained on MNIST with your whole pipeline. So an exercise cell must define its names without
    relying on any other cell except the setup cell and earlier exercises.
    """),
    setup("""
    import math
    import random
    from functools import reduce
    from itertools import islice

    import fastcore.all as fc
    import torch
    import torch.nn.functional as F
    from torch import nn, tensor
    """),
    md("""
    MNIST comes from the course's data helper, which downloads the archive once, checks its
    SHA-256 and caches it. Images arrive flattened: each row of `x_train` holds 784 = 28 × 28
    pixel intensities in [0, 1), and `y_train` holds the digit (0–9) each image shows.
    """),
    code("""
    from autograder.data import load

    (x_train, y_train), (x_valid, y_valid), _ = load("mnist")
    """),
    md("""
    ## Where we start

    Last time we built a two-layer perceptron. Here it is again, written as an `nn.Module` that
    keeps its layers in an ordinary Python list. Its output is ten raw scores per image, one per
    digit, usually called *logits*. To keep the first experiments quick we use 512 images.
    """),
    code("""
    torch.manual_seed(42)
    torch.set_printoptions(precision=3, linewidth=120, sci_mode=False)
    xs, ys = x_train[:512], y_train[:512]
    n, n_in = xs.shape
    n_out, nh = int(ys.max()) + 1, 50


    class Model(nn.Module):
        def __init__(self, n_in, nh, n_out):
            super().__init__()
            self.layers = [nn.Linear(n_in, nh), nn.ReLU(), nn.Linear(nh, n_out)]

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x


    model = Model(n_in, nh, n_out)
    pred = model(xs)
    pred.shape
    """),
    md(r"""
    ## Softmax

    Logits can be any real numbers. Softmax turns a vector of them into a probability
    distribution: exponentiate every entry (now all positive) and divide by the total (now they
    sum to one):

    $$\operatorname{softmax}(x)_i = \frac{e^{x_i}}{\sum_{j} e^{x_j}}$$

    For a single vector that is one line of code:
    """),
    code("""
    def softmax_vector(v):
        return v.exp() / v.exp().sum()


    p0 = softmax_vector(pred[0])
    p0, p0.sum()
    """),
    md("""
    We want it for a whole batch at once: an `(N, C)` tensor, one row per sample, normalised row
    by row. Summing over `dim=1` gives one total per row, but with shape `(N,)`; to divide
    each row by its own total, broadcasting needs the totals as a column of shape `(N, 1)`.
    `keepdim=True` (or indexing with `[:, None]`) keeps that extra dimension.

    One more thing before you write it. `float32` overflows a little above $e^{88}$, so logits of
    a few hundred turn into `inf` and the division into `nan`:
    """),
    code("""
    print(pred.exp().sum(dim=1).shape, pred.exp().sum(dim=1, keepdim=True).shape)
    large = tensor([[300.0, 301.0, 302.0]])
    large.exp(), large.exp() / large.exp().sum(dim=1, keepdim=True)
    """),
    md(r"""
    The cure is that softmax does not change if we subtract the same constant $c$ from every
    entry of a row, because $e^{x_i - c} = e^{x_i} / e^{c}$ and the factor $e^{-c}$ cancels
    between numerator and denominator. Choosing $c$ as the row's maximum makes the largest
    exponent exactly $e^0 = 1$ and all the others smaller: nothing can overflow.

    ### Exercise 1: `softmax`

    Write `softmax(x)` for an `(N, C)` tensor. It returns a tensor of the same shape whose rows
    are positive and sum to one, and it must stay finite for large logits.
    """),
    exercise(
        "softmax",
        """
        def softmax(x):
            "Row-wise softmax of an (N, C) tensor, shifted by the row max so exp cannot overflow."
            ### BEGIN SOLUTION
            e = (x - x.max(dim=1, keepdim=True).values).exp()
            return e / e.sum(dim=1, keepdim=True)
            ### END SOLUTION
        """,
    ),
    selfcheck("softmax"),
    code("""
    softmax(pred)[:3], softmax(pred).sum(dim=1)[:3]
    """),
    md(r"""
    ## From softmax to log-softmax

    Training will not use the probabilities themselves but their logarithms. Logs turn the
    products of probabilities into sums, the cross-entropy loss is defined on them, and a
    probability that rounds to zero in `float32` would become $\log 0 = -\infty$.

    We could simply take the log of the softmax, but the log rule
    $\log(a / b) = \log a - \log b$, applied to the definition, gets rid of the division and
    of the exponential in the numerator:

    $$\log \operatorname{softmax}(x)_i = \log e^{x_i} - \log \sum_j e^{x_j}
      = x_i - \log \sum_j e^{x_j}$$

    The second term, the log of a sum of exponentials, is the same for every entry of a row. On
    our small logits both routes agree:
    """),
    code("""
    naive = softmax(pred).log()
    via_log_rule = pred - pred.exp().sum(dim=1, keepdim=True).log()
    torch.testing.assert_close(via_log_rule, naive)
    via_log_rule[:2]
    """),
    md(r"""
    ## The log-sum-exp trick

    The term $\log \sum_j e^{x_j}$ still exponentiates raw logits, so it overflows exactly as
    softmax did. The same shift fixes it. Let $a = \max_j x_j$ and factor $e^{a}$ out of the sum:

    $$\log \left( \sum_{j=1}^{n} e^{x_j} \right)
      = \log \left( e^{a} \sum_{j=1}^{n} e^{x_j - a} \right)
      = a + \log \left( \sum_{j=1}^{n} e^{x_j - a} \right)$$

    Every exponent $x_j - a$ is at most zero, so each $e^{x_j - a}$ lies in $(0, 1]$, and the
    largest one is exactly 1, so the sum is at least 1 and its log is finite.

    ### Exercise 2: `logsumexp`

    Write `logsumexp(x)` for an `(N, C)` tensor using this identity. Return one value per row,
    shaped `(N, 1)` so that it broadcasts against `x`. It must stay finite when the logits are
    very large or very negative.
    """),
    exercise(
        "logsumexp",
        """
        def logsumexp(x):
            "log(sum(exp(x))) over dim 1 of an (N, C) tensor, returned as (N, 1), computed stably."
            ### BEGIN SOLUTION
            a = x.max(dim=1, keepdim=True).values
            return a + (x - a).exp().sum(dim=1, keepdim=True).log()
            ### END SOLUTION
        """,
    ),
    selfcheck("logsumexp"),
    code("""
    extreme = tensor([[1000.0, 1000.0, 999.0], [-1000.0, -999.0, -1001.0]])
    naive_lse = extreme.exp().sum(dim=1, keepdim=True).log()
    logsumexp(pred).shape, naive_lse, logsumexp(extreme)
    """),
    md("""
    ### Exercise 3: `log_softmax`

    Put the two results together: the log-softmax is the logits minus their row's log-sum-exp.
    Write `log_softmax(x)` using your `logsumexp`.
    """),
    exercise(
        "log_softmax",
        """
        def log_softmax(x):
            "Row-wise log(softmax(x)) for an (N, C) tensor, computed as x - logsumexp(x)."
            ### BEGIN SOLUTION
            return x - logsumexp(x)
            ### END SOLUTION
        """,
    ),
    selfcheck("log_softmax"),
    code("""
    log_probs = log_softmax(pred)
    torch.testing.assert_close(log_probs, F.log_softmax(pred, dim=1))
    log_probs[:3]
    """),
    md(r"""
    ## Cross-entropy and negative log-likelihood

    For a target distribution $t$ and a predicted distribution $p$ over the classes, the
    cross-entropy is

    $$H(t, p) = -\sum_i t_i \log p_i .$$

    Our targets are single labels, i.e. one-hot vectors: $t_i = 1$ for the correct class $y$ and
    0 elsewhere. Every term but one vanishes and the loss of a sample is just $-\log p_y$, the
    negative log-probability the model gave to the right answer. Averaged over a batch, this is
    the *negative log-likelihood* (NLL).

    So for every row we need one entry of `log_probs`: row `i`, column `y[i]`. PyTorch (like NumPy)
    supports *integer array indexing*: indexing with two integer sequences of equal length picks
    the pairs `(rows[k], cols[k])`, one element per pair.
    """),
    code("""
    rows = torch.arange(3)
    log_probs[rows, ys[:3]], torch.stack([log_probs[i, ys[i]] for i in range(3)])
    """),
    md("""
    ### Exercise 4: `nll`

    Write `nll(pred, y)`: `pred` is an `(N, C)` tensor of log-probabilities, `y` an `(N,)` tensor
    of class indices. Return the mean over the batch of minus the log-probability at each target,
    as a scalar tensor. Use integer array indexing rather than a Python loop.
    """),
    exercise(
        "nll",
        """
        def nll(pred, y):
            "Mean negative log-likelihood of the targets y under log-probabilities pred."
            ### BEGIN SOLUTION
            return -pred[torch.arange(len(y)), y].mean()
            ### END SOLUTION
        """,
    ),
    selfcheck("nll"),
    code("""
    nll(log_probs, ys), F.nll_loss(F.log_softmax(pred, dim=1), ys), F.cross_entropy(pred, ys)
    """),
    md("""
    All three agree: `F.cross_entropy` takes raw logits and performs `log_softmax` followed by
    `nll_loss` in one call. That is why a PyTorch model's last layer usually has no softmax. Some
    other libraries' cross-entropy functions expect probabilities instead, so check which kind of
    input the function you call wants.

    ## A basic training loop

    Beside the loss, which the optimiser needs, we want a number people can read: the fraction
    of images classified correctly. The predicted class of a row is the index of its largest
    score (softmax preserves order, so logits or probabilities give the same answer).

    ### Exercise 5: `accuracy`

    Write `accuracy(ypred, ytrue)`: `ypred` is `(N, C)` scores, `ytrue` is `(N,)` class indices.
    Return the fraction of rows whose highest score sits at the target, as a float scalar tensor.
    """),
    exercise(
        "accuracy",
        """
        def accuracy(ypred, ytrue):
            "Fraction of rows of ypred whose largest score is at the index in ytrue."
            ### BEGIN SOLUTION
            return (ypred.argmax(dim=1) == ytrue).float().mean()
            ### END SOLUTION
        """,
    ),
    selfcheck("accuracy"),
    md("""
    Now the full training set. One *epoch* walks through it in mini-batches of `bs` images. For
    each batch: compute the predictions and the loss, let autograd fill in the gradients, move
    every weight a small step against its gradient, then reset the gradients (autograd adds to
    `.grad` rather than overwriting it). The update is wrapped in `torch.no_grad()` because it
    must not itself be recorded for differentiation.

    Our `Model` keeps its layers in a list, so for now we find the weights by hand.
    """),
    code("""
    def report(epoch, loss, xb, yb, model):
        print(f"epoch {epoch}: loss {loss:.3f}, accuracy {accuracy(model(xb), yb):.3f}")


    model = Model(n_in, nh, n_out)
    bs, lr = 512, 0.5
    for epoch in range(2):
        for i in range(0, len(x_train), bs):
            xb, yb = x_train[i : i + bs], y_train[i : i + bs]
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            with torch.no_grad():
                for layer in model.layers:
                    if isinstance(layer, nn.Linear):
                        for p in (layer.weight, layer.bias):
                            p -= lr * p.grad
                            p.grad.zero_()
        report(epoch, loss, xb, yb, model)
    """),
    md("""
    ## Letting the model find its parameters

    Digging through `model.layers` is clumsy, and it only works because we know how this
    particular model is built. `nn.Module` offers `parameters()`, which yields every trainable
    tensor of a module and of all the modules inside it. But our `Model` hides its layers in a
    list, and a module does not look inside lists: `Model` reports no parameters at all.

    Layers assigned directly as attributes, on the other hand, are found. They become the
    module's *children*, and `parameters()` collects their weights recursively:
    """),
    code("""
    print("parameters found in Model:", len(list(Model(n_in, nh, n_out).parameters())))


    class TwoLayers(nn.Module):
        def __init__(self, n_in, nh, n_out):
            super().__init__()
            self.hidden = nn.Linear(n_in, nh)
            self.out = nn.Linear(nh, n_out)

        def forward(self, x):
            return self.out(F.relu(self.hidden(x)))


    tl = TwoLayers(n_in, nh, n_out)
    [name for name, _ in tl.named_children()], [tuple(p.shape) for p in tl.parameters()]
    """),
    md("""
    With that, the training loop no longer needs to know anything about the model's layout, and
    `model.zero_grad()` resets all gradients in one call. We reuse this loop below.
    """),
    code("""
    def train_by_hand(model, epochs=1, bs=512, lr=0.5):
        "Mini-batch SGD that finds the weights through model.parameters()."
        for epoch in range(epochs):
            for i in range(0, len(x_train), bs):
                xb, yb = x_train[i : i + bs], y_train[i : i + bs]
                loss = F.cross_entropy(model(xb), yb)
                loss.backward()
                with torch.no_grad():
                    for p in model.parameters():
                        p -= lr * p.grad
                model.zero_grad()
            report(epoch, loss, xb, yb, model)


    train_by_hand(TwoLayers(n_in, nh, n_out))
    """),
    md("""
    ### How does a module notice its layers?

    Python turns every assignment `obj.name = value` into a call
    `type(obj).__setattr__(obj, "name", value)`. A class can override `__setattr__` to do extra
    work on every assignment and then call `super().__setattr__` to store the attribute as
    usual. Likewise `__repr__` decides what the notebook shows when the object is displayed; it
    must return a string. A small example that keeps a log of its attributes:
    """),
    code("""
    class Logbook:
        def __init__(self):
            self._log = []  # this assignment goes through __setattr__ too

        def __setattr__(self, name, value):
            if not name.startswith("_"):
                self._log.append(f"{name} = {value!r}")
            super().__setattr__(name, value)

        def __repr__(self):
            return "Logbook: " + "; ".join(self._log)


    book = Logbook()
    book.colour = "teal"
    book.size = 3
    book, book.size
    """),
    md("""
    The underscore test matters: inside `__init__`, `self._log = []` also calls `__setattr__`,
    at a moment when `_log` does not exist yet. Skipping private names avoids touching it before
    it is created. `nn.Module` uses the same mechanism: its `__setattr__` spots values that are
    modules (or parameters) and records them in an internal dictionary.

    ### Exercise 6: `MyModule`

    Build a small module class of your own, without inheriting from `nn.Module`:

    - `__init__(self, n_in, nh, n_out)` creates the registry, an empty dict named exactly
      `self._modules` (the name `nn.Module` uses too; the checks read `m._modules`, so a
      registry under another name fails them), and two layers,
      `self.l1 = nn.Linear(n_in, nh)` and `self.l2 = nn.Linear(nh, n_out)`;
    - `__setattr__` registers every attribute whose name does not start with `_` in that
      registry, in the order assigned, and then stores the attribute normally;
    - `__repr__` returns a string showing the registered modules;
    - `parameters()` yields the parameters of every registered module, in registration order
      (`yield from` is handy here).

    A module assigned after construction (`m.l3 = nn.Linear(...)`) must be registered too.
    """),
    exercise(
        "module_registration",
        """
        class MyModule:
            "Two linear layers, registered on assignment the way nn.Module registers children."

            def __init__(self, n_in, nh, n_out):
                ### BEGIN SOLUTION
                self._modules = {}
                self.l1 = nn.Linear(n_in, nh)
                self.l2 = nn.Linear(nh, n_out)
                ### END SOLUTION

            def __setattr__(self, k, v):
                ### BEGIN SOLUTION
                if not k.startswith("_"):
                    self._modules[k] = v
                super().__setattr__(k, v)
                ### END SOLUTION

            def __repr__(self):
                ### BEGIN SOLUTION
                return f"{type(self).__name__}({self._modules})"
                ### END SOLUTION

            def parameters(self):
                ### BEGIN SOLUTION
                for m in self._modules.values():
                    yield from m.parameters()
                ### END SOLUTION
        """,
    ),
    selfcheck("module_registration"),
    code("""
    mine = MyModule(n_in, nh, n_out)
    print(mine)
    [tuple(p.shape) for p in mine.parameters()]
    """),
    md("""
    ## Registering a list of layers

    Back to a model built from a list of layers. `nn.Module.add_module(name, module)` registers a
    child under an explicit name, which is what attribute assignment does behind the scenes, so
    we can register each layer of the list in a loop.

    For the forward pass, notice that feeding `x` through the layers one after the other is a
    *fold*: start from `x`, combine it with the first layer, combine the result with the next
    layer, and so on. `functools.reduce(f, items, start)` does exactly that, calling
    `f(running_value, item)` for each item from left to right. A tiny example that reads digits
    into a number:
    """),
    code("""
    def shift_in(acc, digit):
        print(f"{acc} -> {acc * 10 + digit}")
        return acc * 10 + digit


    reduce(shift_in, [4, 0, 9, 6], 0)
    """),
    code("""
    class FoldModel(nn.Module):
        def __init__(self, layers):
            super().__init__()
            self.layers = layers
            for i, layer in enumerate(layers):
                self.add_module(f"layer_{i}", layer)

        def forward(self, x):
            return reduce(lambda acc, layer: layer(acc), self.layers, x)


    fold = FoldModel([nn.Linear(n_in, nh), nn.ReLU(), nn.Linear(nh, n_out)])
    print(fold)
    fold(xs).shape, len(list(fold.parameters()))
    """),
    md("""
    ### `nn.ModuleList` and `nn.Sequential`

    Registering the items of a list is common enough that PyTorch provides `nn.ModuleList`: a
    list that is itself a module, so its items are registered as children automatically.
    """),
    code("""
    class ListModel(nn.Module):
        def __init__(self, layers):
            super().__init__()
            self.layers = nn.ModuleList(layers)

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x


    model = ListModel([nn.Linear(n_in, nh), nn.ReLU(), nn.Linear(nh, n_out)])
    print(model)
    train_by_hand(model)
    """),
    md("""
    And running the layers in order is common enough to have its own class too: `nn.Sequential`
    takes the layers as arguments and is the model we built by hand above.
    """),
    code("""
    model = nn.Sequential(nn.Linear(n_in, nh), nn.ReLU(), nn.Linear(nh, n_out))
    print(model)
    train_by_hand(model)
    with torch.no_grad():
        valid_pred = model(x_valid)
    F.cross_entropy(valid_pred, y_valid), accuracy(valid_pred, y_valid)
    """),
    md("""
    ## An optimizer

    Two steps of the loop, updating the weights and resetting their gradients, depend only on
    the list of parameters and the learning rate. Packaging them in an object shortens the loop
    to `opt.step()` and `opt.zero_grad()`, and lets us swap the update rule without touching the
    loop.

    ### Exercise 7: `Optimizer`

    Write plain stochastic gradient descent:

    - `__init__(self, params, lr=0.5)` stores the parameters and the learning rate. `params` is
      often a generator (`model.parameters()`), which can be consumed only once: turn it into a
      list.
    - `step()` updates each parameter in place, `p -= lr * p.grad`, without recording the
      update for autograd. Skip parameters whose `.grad` is `None` (they took no part in the
      loss).
    - `zero_grad()` resets every gradient to zero.
    """),
    exercise(
        "optimizer",
        """
        class Optimizer:
            "Plain SGD over a list of parameters: p <- p - lr * p.grad."

            def __init__(self, params, lr=0.5):
                ### BEGIN SOLUTION
                self.params, self.lr = list(params), lr
                ### END SOLUTION

            def step(self):
                ### BEGIN SOLUTION
                with torch.no_grad():
                    for p in self.params:
                        if p.grad is not None:
                            p -= self.lr * p.grad
                ### END SOLUTION

            def zero_grad(self):
                ### BEGIN SOLUTION
                for p in self.params:
                    if p.grad is not None:
                        p.grad.zero_()
                ### END SOLUTION
        """,
    ),
    selfcheck("optimizer"),
    md("""
    `torch.optim.SGD` has the same interface (plus options such as momentum and weight decay), so
    the loop below runs unchanged with either optimizer (one epoch each):
    """),
    code("""
    for make_opt in (Optimizer, torch.optim.SGD):
        model = nn.Sequential(nn.Linear(n_in, nh), nn.ReLU(), nn.Linear(nh, n_out))
        opt = make_opt(model.parameters(), lr=0.5)
        for i in range(0, len(x_train), bs):
            xb, yb = x_train[i : i + bs], y_train[i : i + bs]
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
        print(make_opt.__name__, end=", ")
        report(0, loss, xb, yb, model)
    """),
    md("""
    ## Datasets

    The loop still slices `x_train` and `y_train` separately and keeps track of the batch
    boundaries itself. We would rather write

    ```python
    for xb, yb in train_dl:
        ...
    ```

    and leave the rest to two objects. A *dataset* holds the samples and their labels and hands
    out `(input, target)` pairs by index; a *data loader* iterates over a dataset in batches.

    ### Exercise 8: `Dataset`

    Write `Dataset(x, y)`: `len(ds)` is the number of samples and `ds[i]` returns the pair
    `(x[i], y[i])`. Because tensors accept slices and lists of indices as well as integers,
    `ds[2:5]` and `ds[[7, 1]]` then return whole batches of pairs for free.
    """),
    exercise(
        "dataset",
        """
        class Dataset:
            "Inputs x paired with targets y; ds[i] is (x[i], y[i])."

            def __init__(self, x, y):
                ### BEGIN SOLUTION
                self.x, self.y = x, y
                ### END SOLUTION

            def __len__(self):
                ### BEGIN SOLUTION
                return len(self.x)
                ### END SOLUTION

            def __getitem__(self, i):
                ### BEGIN SOLUTION
                return self.x[i], self.y[i]
                ### END SOLUTION
        """,
    ),
    selfcheck("dataset"),
    code("""
    train_ds, valid_ds = Dataset(x_train, y_train), Dataset(x_valid, y_valid)
    assert len(train_ds) == len(x_train) and len(valid_ds) == len(x_valid)
    xb, yb = train_ds[0:5]
    xb.shape, yb
    """),
    md("""
    A first data loader only needs the dataset and a batch size. This one is a demonstration
    (the graded `DataLoader` comes later, built from smaller parts). Note that `__iter__` must
    use `self.bs`: reading a global `bs` instead would work by accident in a notebook and
    break as soon as the two differ.
    """),
    code("""
    class SliceLoader:
        def __init__(self, ds, bs):
            self.ds, self.bs = ds, bs

        def __iter__(self):
            for i in range(0, len(self.ds), self.bs):
                yield self.ds[i : i + self.bs]


    def train(model, opt, train_dl, epochs=1):
        "The mini-batch loop, now independent of where the batches come from."
        for epoch in range(epochs):
            for xb, yb in train_dl:
                loss = F.cross_entropy(model(xb), yb)
                loss.backward()
                opt.step()
                opt.zero_grad()
            report(epoch, loss, xb, yb, model)


    model = nn.Sequential(nn.Linear(n_in, nh), nn.ReLU(), nn.Linear(nh, n_out))
    train(model, Optimizer(model.parameters()), SliceLoader(train_ds, 512))
    """),
    md("""
    ## Sampling in random order

    `SliceLoader` serves the batches in the same order every epoch, and always groups the same
    images together. If the data file happened to be sorted (all the zeros first, say) every
    batch would be lopsided. Shuffling the training set anew each epoch gives the optimiser a
    fair, different mix every time. Validation data needs no shuffling.

    The first step is to separate *which* indices we visit, and in what order, from fetching the
    data. That is the job of a sampler.

    ### Exercise 9: `Sampler`

    Write `Sampler(ds, shuffle=False)`. Iterating over it yields every index `0, …, len(ds) - 1`
    exactly once: in order if `shuffle` is false, otherwise in a random order that is drawn
    afresh each time iteration starts (every epoch gets its own order). The sampler only needs
    `len(ds)`.
    """),
    exercise(
        "sampler",
        """
        class Sampler:
            "Iterates over the indices of ds, in a new random order per pass if shuffle."

            def __init__(self, ds, shuffle=False):
                ### BEGIN SOLUTION
                self.n, self.shuffle = len(ds), shuffle
                ### END SOLUTION

            def __iter__(self):
                ### BEGIN SOLUTION
                idxs = list(range(self.n))
                if self.shuffle:
                    random.shuffle(idxs)
                return iter(idxs)
                ### END SOLUTION
        """,
    ),
    selfcheck("sampler"),
    code("""
    # islice(iterable, n) takes the first n items of any iterable: a handy way to peek at one
    list(islice(Sampler(train_ds), 5)), list(islice(Sampler(train_ds, shuffle=True), 5))
    """),
    md("""
    ## Batches of indices

    A batch sampler wraps a sampler and groups its indices into lists of `bs`. The last group
    may come up short; `drop_last=True` discards it, which some models prefer because every
    batch then has the same size.

    fastcore has helpers for both halves of this class. `fc.chunked(iterable, n,
    drop_last=...)` cuts any iterable into lists of `n` items, and `fc.store_attr()`, called in
    `__init__`, stores every argument as an attribute of the same name (`self.sampler = sampler`
    and so on).

    ### Exercise 10: `BatchSampler`

    Write `BatchSampler(sampler, bs, drop_last=False)`. Iterating over it yields lists of `bs`
    indices drawn from `sampler`, in the sampler's order, with a shorter final list unless
    `drop_last` is true. Each new iteration must start a new pass over the sampler.
    """),
    exercise(
        "batch_sampler",
        """
        class BatchSampler:
            "Groups the indices from sampler into lists of bs, dropping a short last one if asked."

            def __init__(self, sampler, bs, drop_last=False):
                ### BEGIN SOLUTION
                fc.store_attr()
                ### END SOLUTION

            def __iter__(self):
                ### BEGIN SOLUTION
                yield from fc.chunked(iter(self.sampler), self.bs, drop_last=self.drop_last)
                ### END SOLUTION
        """,
    ),
    selfcheck("batch_sampler"),
    code("""
    list(islice(BatchSampler(Sampler(train_ds, shuffle=True), 4), 3))
    """),
    md("""
    ## Collating samples into a batch

    Given a list of indices, the loader fetches one `(x, y)` pair per index from the dataset. The
    model, however, wants one tensor of inputs and one of targets. The function that turns a list
    of samples into a batch is called a *collate* function.

    ### Exercise 11: `collate`

    Write `collate(b)`: `b` is a list of `(x, y)` pairs where all the `x` have the same shape (and
    so do all the `y`). Return `(xs, ys)`, the inputs stacked along a new first dimension and the
    targets likewise. `zip(*b)` separates the pairs; `torch.stack` does the rest.
    """),
    exercise(
        "collate",
        """
        def collate(b):
            "Stack a list of (x, y) samples into one (xs, ys) batch."
            ### BEGIN SOLUTION
            xs, ys = zip(*b)
            return torch.stack(xs), torch.stack(ys)
            ### END SOLUTION
        """,
    ),
    selfcheck("collate"),
    code("""
    xb, yb = collate([train_ds[i] for i in range(6)])
    xb.shape, yb
    """),
    md("""
    ## The data loader, assembled

    ### Exercise 12: `DataLoader`

    Write `DataLoader(ds, batchs, collate_fn=collate)`. `batchs` is any iterable of lists of
    indices, a `BatchSampler` for instance. Iterating over the loader yields, for each list of
    indices, `collate_fn` applied to the list of the dataset's samples at those indices. Like the
    samplers, a loader must be iterable again every epoch.
    """),
    exercise(
        "dataloader",
        """
        class DataLoader:
            "Yields collate_fn([ds[i] for i in b]) for each batch of indices b in batchs."

            def __init__(self, ds, batchs, collate_fn=collate):
                ### BEGIN SOLUTION
                fc.store_attr()
                ### END SOLUTION

            def __iter__(self):
                ### BEGIN SOLUTION
                for b in self.batchs:
                    yield self.collate_fn([self.ds[i] for i in b])
                ### END SOLUTION
        """,
    ),
    selfcheck("dataloader"),
    code("""
    bs = 512
    train_dl = DataLoader(train_ds, BatchSampler(Sampler(train_ds, shuffle=True), bs))
    valid_dl = DataLoader(valid_ds, BatchSampler(Sampler(valid_ds), bs))
    xb, yb = next(iter(valid_dl))
    xb.shape, yb.shape, yb[:10]
    """),
    code("""
    model = nn.Sequential(nn.Linear(n_in, nh), nn.ReLU(), nn.Linear(nh, n_out))
    train(model, Optimizer(model.parameters()), train_dl)
    """),
    md("""
    ## PyTorch's `DataLoader`

    `torch.utils.data` is built from the same parts: `SequentialSampler` and `RandomSampler`,
    a `BatchSampler`, a collate function and a `DataLoader`. It adds conveniences such as loading
    batches in parallel worker processes. We import the module under a short name so its classes
    do not shadow the ones you wrote.

    A batch sampler is passed as `batch_sampler=`. Passing it as `sampler=` is a classic slip:
    the loader then treats each *list* of indices as a single index, fetches a whole batch for
    it, and wraps it in a batch of one, adding a spurious leading dimension.

    Usually you do not build the samplers yourself: give the batch size and either a sampler or
    simply `shuffle=True`, and the loader creates the rest. `drop_last` and `num_workers` are
    options of the loader too.
    """),
    code("""
    import torch.utils.data as tud

    train_samp = tud.BatchSampler(tud.RandomSampler(train_ds), bs, drop_last=False)
    valid_samp = tud.BatchSampler(tud.SequentialSampler(valid_ds), bs, drop_last=False)
    torch_train_dl = tud.DataLoader(train_ds, batch_sampler=train_samp, collate_fn=collate)
    wrong = tud.DataLoader(train_ds, sampler=train_samp)
    print(next(iter(torch_train_dl))[0].shape, next(iter(wrong))[0].shape)

    torch_train_dl = tud.DataLoader(train_ds, bs, sampler=tud.RandomSampler(train_ds))
    torch_train_dl = tud.DataLoader(train_ds, bs, shuffle=True, drop_last=True)
    model = nn.Sequential(nn.Linear(n_in, nh), nn.ReLU(), nn.Linear(nh, n_out))
    train(model, torch.optim.SGD(model.parameters(), lr=0.5), torch_train_dl)
    """),
    md("""
    ## Training with validation

    The accuracy printed so far was measured on the last training batch, which the model has
    just learned from. To know whether the model *generalises* (and to notice when it starts to
    overfit) we measure it on a validation set it never trains on, after every epoch.

    Two details. First, call `model.train()` before training and `model.eval()` before
    evaluating: layers such as dropout and batch normalisation behave differently in the two
    modes. Second, the last validation batch may be smaller than the others, so the average of
    per-batch means would weigh its samples too heavily. Weight each batch's loss and accuracy
    by its size and divide by the total count.

    ### Exercise 13: `fit`

    Write `fit(epochs, model, loss_func, opt, train_dl, valid_dl)`. For each epoch, put the model
    in train mode and train on every batch of `train_dl` (forward, loss, backward, step, zero the
    gradients), then, in eval mode and without tracking gradients (`torch.no_grad()`), compute
    the loss and `accuracy` averaged over all validation samples. Print the epoch number, loss
    and accuracy, and return the last epoch's `(loss, accuracy)` as two Python floats.
    """),
    exercise(
        "fit",
        """
        def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
            "Train for epochs, validating after each; return the last (valid loss, valid accuracy)."
            ### BEGIN SOLUTION
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
                        tot_loss += loss_func(pred, yb).item() * n
                        tot_acc += accuracy(pred, yb).item() * n
                        count += n
                print(epoch, tot_loss / count, tot_acc / count)
            return tot_loss / count, tot_acc / count
            ### END SOLUTION
        """,
    ),
    selfcheck("fit"),
    md("""
    Everything together: our datasets, samplers, loaders and optimizer, validated every epoch
    on the validation loader.
    """),
    code("""
    train_dl = DataLoader(train_ds, BatchSampler(Sampler(train_ds, shuffle=True), bs))
    valid_dl = DataLoader(valid_ds, BatchSampler(Sampler(valid_ds), bs))
    model = nn.Sequential(nn.Linear(n_in, nh), nn.ReLU(), nn.Linear(nh, n_out))
    fit(2, model, F.cross_entropy, Optimizer(model.parameters(), lr=0.5), train_dl, valid_dl)
    """),
    md("""
    ## Further reading

    - The PyTorch documentation of
      [`torch.utils.data`](https://pytorch.org/docs/stable/data.html) describes the real
      `Dataset`, samplers, `DataLoader` and collate functions in detail.
    - [The log-sum-exp function](https://en.wikipedia.org/wiki/LogSumExp) on Wikipedia.
    - The PyTorch notes on [modules](https://pytorch.org/docs/stable/notes/modules.html) explain
      registration, `children()` and `parameters()`.
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


def main(out: Path = HERE / "minibatch.ipynb") -> None:
    nbformat.write(build(), out)
    print(f"wrote {out} ({len(CELLS)} cells)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "minibatch.ipynb")
