"""Choose the graded MNIST run's settings: the reference must clear the threshold on 10 seeds with
at least a point of margin, and typical pipeline bugs must fall below it.

    .venv/bin/python bench/calibrate_training.py

Runs in-process with the reference (our own code, not a student's), one torch thread.
"""

from __future__ import annotations

import contextlib
import io
import time

import torch
import torch.nn.functional as F
from mnist_run import cfg as CFG
from mnist_run import test_accuracy

from autograder.data import load
from reference import minibatch as ref


class NoZeroGrad(ref.Optimizer):
    "Forgets to clear gradients: they pile up across batches."

    def zero_grad(self):
        pass


class WrongSign(ref.Optimizer):
    @torch.no_grad()
    def step(self):
        for p in self.params:
            p += self.lr * p.grad


class FirstBatchOnly(ref.DataLoader):
    "Yields only the first batch of every pass."

    def __iter__(self):
        yield next(iter(super().__iter__()))


def run(seed: int, cfg, opt=ref.Optimizer, dl=ref.DataLoader):
    (xt, yt), (xv, yv), (xs, ys) = load("mnist")
    torch.manual_seed(seed)
    tds, vds = ref.Dataset(xt[: cfg.n_train], yt[: cfg.n_train]), ref.Dataset(xv, yv)
    tdl = dl(tds, ref.BatchSampler(ref.Sampler(tds, shuffle=True), cfg.bs), ref.collate)
    vdl = dl(vds, ref.BatchSampler(ref.Sampler(vds), cfg.bs), ref.collate)
    model = torch.nn.Sequential(torch.nn.Linear(784, 50), torch.nn.ReLU(), torch.nn.Linear(50, 10))
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        ref.fit(cfg.epochs, model, F.cross_entropy, opt(model.parameters(), lr=cfg.lr), tdl, vdl)
    return test_accuracy(model.state_dict(), xs, ys), time.perf_counter() - t0


def main():
    torch.set_num_threads(1)
    cfg = CFG
    print(f"config: epochs={cfg.epochs} bs={cfg.bs} lr={cfg.lr} threshold={cfg.threshold}")
    accs = []
    for seed in range(10):
        acc, secs = run(seed, cfg)
        accs.append(acc)
        print(f"reference seed {seed}: test accuracy {acc:.4f}  ({secs:.2f} s)")
    margin = min(accs) - cfg.threshold
    print(
        f"reference: min {min(accs):.4f} mean {sum(accs) / len(accs):.4f} max {max(accs):.4f}; "
        f"margin over threshold {100 * margin:.2f} points"
    )
    for name, kw in [
        ("optimizer without zero_grad", {"opt": NoZeroGrad}),
        ("optimizer with the wrong sign", {"opt": WrongSign}),
        ("loader yielding one batch per epoch", {"dl": FirstBatchOnly}),
    ]:
        acc, _ = run(0, cfg, **kw)
        print(f"bug: {name}: {acc:.4f} ({'caught' if acc < cfg.threshold else 'NOT caught'})")
    ok = margin >= 0.01
    print("OK: the reference clears the threshold by a point or more" if ok else "MARGIN TOO SMALL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
