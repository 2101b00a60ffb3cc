"""What the backprop tests share: inputs, comparisons of answers with several gradients, and the
hints for the mistakes this lesson's students make. A helper beside the public tests (no tests of
its own), shipped with them to students.

An answer with gradients is a dict such as {"out": ..., "inp.g": ..., "w.g": ..., "b.g": ...}:
what a probe found on the tensors after the student's code ran (None where it set no `.g`).
"""

import math

import torch

from autograder import compare
from autograder.testing import gen, hint, raised, randn

GRADS = ("inp.g", "w1.g", "b1.g", "w2.g", "b2.g")

# --- inputs --------------------------------------------------------------------------------------


def dtype_of(i):
    "The dtype of the i-th random case: float32 and float64 in turn."
    return torch.float64 if i % 2 else torch.float32


def digits(seed, n, dtype=torch.float32):
    "Regression targets as the lesson has them: digit labels 0-9, as floats."
    return torch.randint(0, 10, (n,), generator=gen(seed)).to(dtype)


def mlp_args(seed, n, n_in, nh, dtype=torch.float32):
    """(inp, targ, w1, b1, w2, b2) for the lin -> relu -> lin -> mse network: weights scaled by
    1/sqrt(fan_in), and biases that are not zero, so that some hidden units are on and some off
    and a mistake in a bias gradient shows."""
    return (
        randn(seed, n, n_in, dtype=dtype),
        digits(seed + 1, n, dtype),
        randn(seed + 2, n_in, nh, scale=n_in**-0.5, dtype=dtype),
        randn(seed + 3, nh, scale=0.5, dtype=dtype),
        randn(seed + 4, nh, 1, scale=nh**-0.5, dtype=dtype),
        randn(seed + 5, 1, scale=0.5, dtype=dtype),
    )


def mlp_shapes(seed):
    """(N, n_in, nh) for hidden tests: a batch of one, a one-unit hidden layer, one input
    feature, a wide network, and two random ones."""
    g = gen(seed)
    rnd = lambda lo, hi: int(torch.randint(lo, hi, (1,), generator=g))  # noqa: E731
    return [
        (1, rnd(2, 30), rnd(2, 20)),
        (rnd(2, 40), rnd(2, 30), 1),
        (rnd(2, 40), 1, rnd(2, 20)),
        (rnd(20, 64), rnd(100, 300), rnd(50, 120)),
        *[(rnd(2, 64), rnd(1, 60), rnd(1, 40)) for _ in range(2)],
    ]


def mlp_out(inp, w1, b1, w2, b2):
    "The network's (N, 1) output, for hints that replay a mistake."
    return (inp @ w1 + b1).clamp_min(0.0) @ w2 + b2


# --- comparisons ---------------------------------------------------------------------------------


def parts(*keys, who=""):
    """Compare the named parts of a dict answer in turn, each named in the message (`w.g: ...`);
    a gradient that was never set is said so. `who` says which code set it."""

    def cmp(exp, got):
        if not isinstance(got, dict):
            return (
                f"the answer should be a dict of values and gradients, got {compare.describe(got)}"
            )
        for k in keys or tuple(exp):
            v = got.get(k)
            if v is None and k.endswith(".g"):
                by = f" by {who}" if who else ""
                return f"{k} was not set{by}: store the gradient as an attribute, {k} = ..."
            if v is None and k in ("loss", "out"):
                return f"{k}: expected a tensor, got None: the {k} must be returned"
            p = compare.values(exp[k], v, path=k)
            if p:
                return p
        return None

    return cmp


# --- hint predicates on dict answers ------------------------------------------------------------


def _got(a, key):
    v = a.got.get(key) if isinstance(a.got, dict) else None
    return v if isinstance(v, torch.Tensor) else None


def right(a, key) -> bool:
    "Whether the part `key` of the answer is right."
    v = _got(a, key)
    return v is not None and compare.values(a.expected[key], v) is None


def part_is(key, fn):
    """The part `key` is wrong, and it is what a known mistake, fn(*args), gives. (A mistake that
    happens to give the right answer there, as many do on a batch of one, explains nothing.)"""

    def when(a):
        v = _got(a, key)
        return (
            v is not None
            and not right(a, key)
            and compare.values(fn(*a.args), v, check_dtype=False) is None
        )

    return when


def transposed(key):
    "The part `key` is wrong, and it is the right gradient transposed."

    def when(a):
        v, e = _got(a, key), a.expected[key]
        return (
            v is not None
            and not right(a, key)
            and compare.values(e.t(), v, check_dtype=False) is None
        )

    return when


def not_reduced(key, upstream):
    "The part `key` kept the batch dimension: it has the upstream gradient's shape, not b's."

    def when(a):
        v = _got(a, key)
        return v is not None and tuple(v.shape) == tuple(upstream(a.args).shape) != tuple(
            a.expected[key].shape
        )

    return when


def scaled(factor, keys):
    "Every part in `keys` is the right gradient times factor(args) (a lost 2, a lost / N)."

    def when(a):
        f = factor(a.args)
        if f == 1 or all(right(a, k) for k in keys):
            return False
        return all(
            (v := _got(a, k)) is not None
            and compare.values(a.expected[k] * f, v, check_dtype=False) is None
            for k in keys
        )

    return when


def shaped(key, shape_of):
    "The part `key` has the shape shape_of(args) (an (N, N) broadcast, say)."

    def when(a):
        v = _got(a, key)
        return v is not None and tuple(v.shape) == tuple(shape_of(a.args))

    return when


# --- the hints: one per known mistake ------------------------------------------------------------

TRANSPOSE = (
    "out = inp @ w + b, so by the chain rule inp.g = out.g @ w.t() and w.g = inp.t() @ out.g: a "
    "gradient has the shape of its tensor, and the transposes are what make the shapes fit"
)
BIAS_SUM = (
    "b is added to every row of the batch, so its gradient adds up every row's share: "
    "b.g = out.g.sum(0), a sum over the batch, not a mean"
)
BIAS_SHAPE = (
    "b.g has b's shape, one entry per output column: sum out.g over the batch (dim 0) to get it"
)
TWO = (
    "the derivative of (pred - targ)**2 is 2 * (pred - targ): the gradient is missing the factor "
    "of 2"
)
OVER_N = (
    "mse is a mean over the N rows, so its gradient is divided by N as well: 2 * (pred - targ) / N"
)
MASK = (
    "relu passes the gradient on only where its input was positive: the input's gradient is "
    "(inp > 0) * out.g, a mask that is zero wherever the input was negative"
)
BETWEEN_LAYERS = (
    "w2.g and b2.g are right but w1.g is not, so the chain goes wrong between the two layers, at "
    "relu: l1.g = (l1 > 0).float() * l2.g, a mask, and then lin_grad(inp, l1, w1, b1)"
)
BROADCAST = (
    "the output is (N, 1) and the target (N,): subtracting them broadcasts to an (N, N) matrix of "
    "every pair; take out[:, 0] (or out.squeeze(-1)) first, and make the gradient (N, 1) again"
)
RETURN_LOSS = "forward_and_backward computes the loss on the way and must return it"
SHAPES = "cannot be multiplied"  # torch's words when the shapes of a matrix product do not fit
N = lambda args: args[0].shape[0]  # noqa: E731  the batch size: the first argument's rows

LIN_GRAD_HINTS = [  # for an answer {"out", "inp.g", "w.g", "b.g"}; args (inp, w, b, out.g)
    hint(TRANSPOSE, when=raised(SHAPES)),
    hint(TRANSPOSE, when=transposed("w.g")),
    hint(BIAS_SUM, when=part_is("b.g", lambda inp, w, b, og: og.mean(0))),
    hint(BIAS_SHAPE, when=not_reduced("b.g", lambda args: args[3])),
]
MSE_GRAD_HINTS = [  # for an answer {"loss", "inp.g"}; args (pred, targ)
    hint(BROADCAST, when=shaped("inp.g", lambda args: (N(args), N(args)))),
    hint(BROADCAST, when=part_is("loss", lambda p, t: (p - t).pow(2).mean())),
    hint(TWO, when=scaled(lambda args: 0.5, ["inp.g"])),
    hint(OVER_N, when=scaled(N, ["inp.g"])),
]
MLP_HINTS = [  # for an answer {"loss", "inp.g", "w1.g", ...}; args (inp, targ, w1, b1, w2, b2)
    hint(RETURN_LOSS, when=lambda a: a.got.get("loss", 0) is None),
    hint(
        BROADCAST,
        when=part_is(
            "loss", lambda inp, t, w1, b1, w2, b2: (mlp_out(inp, w1, b1, w2, b2) - t).pow(2).mean()
        ),
    ),
    hint(TWO, when=scaled(lambda args: 0.5, GRADS)),
    hint(OVER_N, when=scaled(N, GRADS)),
    hint(
        BETWEEN_LAYERS,
        when=lambda a: right(a, "w2.g") and right(a, "b2.g") and not right(a, "w1.g"),
    ),
    hint(BROADCAST, when=raised(SHAPES, "size of tensor", "must match")),
]


# --- the graded training run ---------------------------------------------------------------------

# Chosen with bench/calibrate_backprop.py: the reference clears the threshold on 10 seeds.
TRAINING = {
    "epochs": 8,
    "bs": 128,
    "lr": 0.04,
    "n_train": 50_000,
    "threshold": 2.1,
    "timeout": 180.0,
}
WEIGHT_SHAPES = {"w1": (784, 50), "b1": (50,), "w2": (50, 1), "b2": (1,)}


def test_mse(state, x_test, y_test) -> float:
    """The test-split MSE of the weights the run returned, relu(x @ w1 + b1) @ w2 + b2 against
    the digits as floats; anything of the wrong shape is refused, and nan or inf gives inf."""
    from autograder.protocol import Opaque

    if not isinstance(state, dict):
        raise ValueError(f"expected the model's weights, got {compare.describe(state)}")
    w = {}
    for k, shape in WEIGHT_SHAPES.items():
        t = state.get(k)
        if isinstance(t, Opaque) or not isinstance(t, torch.Tensor):
            raise ValueError(f"weight {k!r} missing or not a tensor")
        if tuple(t.shape) != shape or not t.dtype.is_floating_point:
            raise ValueError(
                f"weight {k!r} has shape {tuple(t.shape)} and dtype {t.dtype}, "
                f"expected {shape} floats"
            )
        w[k] = t.detach().float().cpu()
    with torch.no_grad():
        pred = mlp_out(x_test.float(), w["w1"], w["b1"], w["w2"], w["b2"])
        mse = float((pred[:, 0] - y_test.float()).pow(2).mean())
    return mse if math.isfinite(mse) else math.inf


test_mse.__test__ = False  # a helper, not a test: pytest must not collect it where it is imported
