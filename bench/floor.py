"""The physical floor of grading one submission: import torch, load MNIST from the cache, train the
graded model for the graded epochs with the reference pipeline. Nothing else.

    .venv/bin/python bench/floor.py [--threads N]
"""

import argparse
import contextlib
import io
import time

t0 = time.perf_counter()
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mnist_run import cfg  # noqa: E402

from autograder.data import load  # noqa: E402
from reference import minibatch as ref  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=1)
args = p.parse_args()
torch.set_num_threads(args.threads)
(xt, yt), (xv, yv), _ = load("mnist")
torch.manual_seed(0)
tds, vds = ref.Dataset(xt, yt), ref.Dataset(xv, yv)
tdl = ref.DataLoader(tds, ref.BatchSampler(ref.Sampler(tds, shuffle=True), cfg.bs), ref.collate)
vdl = ref.DataLoader(vds, ref.BatchSampler(ref.Sampler(vds), cfg.bs), ref.collate)
model = torch.nn.Sequential(torch.nn.Linear(784, 50), torch.nn.ReLU(), torch.nn.Linear(50, 10))
t1 = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    loss, acc = ref.fit(
        cfg.epochs, model, F.cross_entropy, ref.Optimizer(model.parameters(), cfg.lr), tdl, vdl
    )
train = time.perf_counter() - t1
print(f"threads={args.threads} setup={t1 - t0:.2f}s train={train:.2f}s acc={acc:.4f}")
