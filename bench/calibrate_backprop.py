"""Choose the backprop assignment's graded training run: the reference's Model must clear the
test-MSE threshold on 10 seeds with margin, and the bank's bugs in what Model uses must fail it
(by a higher MSE, or by an error the run reports).

    .venv/bin/python bench/calibrate_backprop.py [--seeds 10] [--device cpu]

Runs in-process with our own code only (the reference and the bank's cells, exec'd in plain
dicts), one torch thread. The settings it checks are TRAINING in backprop_helpers.py.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

from autograder import assignment, bank
from autograder.data import load, visible_file

A = assignment.get("backprop")
sys.path.insert(0, str(A.folder / "tests"))
import backprop_helpers as H  # noqa: E402  (the helpers beside the assignment's tests)

SETUP = "import math\n\nimport torch\nfrom torch import tensor\n"  # the notebook's setup cell
REFERENCE = (Path(__file__).resolve().parents[1] / "reference" / "backprop.py").read_text()
# the exercises Model runs (forward_and_backward is not one of them)
USED = ("lin", "relu", "mse", "lin_grad", "layers", "model")
# mistakes the bank lacks, for this run only: the loss's gradient without its factor of 2
EXTRA = {
    "layers": [
        (
            "mse_grad_no_factor_two",
            bank.load(A).LESSON["layers"].replace("self.inp.g = 2. * ", "self.inp.g = "),
        )
    ],
}


def namespace(cells: dict[str, str]) -> dict:
    "The reference's names, then each cell's source run over them, in one plain dict."
    ns = {"__name__": "calibrate_backprop"}
    for src in (SETUP, REFERENCE, *cells.values()):
        exec(src, ns)
    return ns


def run(ns: dict, seed: int, cfg: dict, path: str, test, device: str = "cpu"):
    "Train with ns's Model; (test MSE or None, valid history, CPU seconds, error or '')."
    train = A.probes()["train_model"]
    torch.manual_seed(seed)
    t0 = time.process_time()
    try:
        r = train(ns, path, cfg["epochs"], cfg["bs"], cfg["lr"], cfg["n_train"], device)
    except Exception as e:
        msg = " ".join(f"{type(e).__name__}: {e}".split())
        return None, [], time.process_time() - t0, msg[:110]
    secs = time.process_time() - t0
    return H.test_mse(r["state"], *test), r["history"], secs, ""


def fmt(history) -> str:
    "The validation MSE of each epoch (the second of each [train loss, valid MSE] pair)."
    return " ".join(f"{v:.2f}" if math.isfinite(v) else "nan" for _, v in history)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    torch.set_num_threads(1)
    cfg = H.TRAINING
    path = str(visible_file("mnist"))
    _, _, (x_test, y_test) = load("mnist")
    test = (x_test, y_test)
    base = float((y_test.float() - load("mnist")[0][1].float().mean()).pow(2).mean())
    print(
        f"config: epochs={cfg['epochs']} bs={cfg['bs']} lr={cfg['lr']} n_train={cfg['n_train']} "
        f"threshold={cfg['threshold']} (test MSE at most) timeout={cfg['timeout']} s"
    )
    print(f"baseline: predicting the mean training digit gives test MSE {base:.3f}")

    mses, secs = [], []
    ref = namespace({})
    for seed in range(args.seeds):
        mse, hist, s, err = run(ref, seed, cfg, path, test, args.device)
        if err:
            raise SystemExit(f"the reference failed on seed {seed}: {err}")
        mses.append(mse)
        secs.append(s)
        print(f"reference seed {seed}: test MSE {mse:.3f}  valid by epoch [{fmt(hist)}]  {s:.2f} s")
    worst = max(mses)
    print(
        f"reference: min {min(mses):.3f} mean {sum(mses) / len(mses):.3f} max {worst:.3f}; "
        f"threshold / worst = {cfg['threshold'] / worst:.2f}; CPU s per run: max {max(secs):.2f}"
    )

    b = bank.load(A)
    print("\ncorrect answers (seed 0): must pass")
    correct = [("the lesson's code", dict(b.LESSON))]
    width = max(len(v) for v in b.ALTERNATIVES.values())
    for k in range(width):
        alts = {g: v[k][1] for g, v in b.ALTERNATIVES.items() if k < len(v)}
        correct.append((f"alternatives #{k + 1}", alts))
    correct.append(("the lesson's lin_grad under our Lin", {"lin_grad": b.LESSON["lin_grad"]}))
    bad_correct = 0
    for label, cells in correct:
        mse, _, s, err = run(namespace(cells), 0, cfg, path, test, args.device)
        ok = not err and mse <= cfg["threshold"]
        bad_correct += not ok
        what = err or f"test MSE {mse:.3f}"
        print(f"  {label:<38} {what}  {s:.2f} s  {'passes' if ok else 'FAILS'}")

    print("\nbugs (seed 0): should fail")
    caught, missed = [], []
    for gid in USED:
        bugs = [(bug.name, bug.source) for bug in b.BUGS.get(gid, [])] + EXTRA.get(gid, [])
        for name, src in bugs:
            mse, hist, s, err = run(namespace({gid: src}), 0, cfg, path, test, args.device)
            fails = bool(err) or mse > cfg["threshold"]
            (caught if fails else missed).append(f"{gid}/{name}")
            what = f"raises {err}" if err else f"test MSE {mse:.3f} [{fmt(hist)}]"
            print(f"  {gid}/{name:<30} {'caught' if fails else 'NOT caught'}: {what}  {s:.2f} s")
    print(f"\ncaught {len(caught)}, not caught {len(missed)}: {', '.join(missed) or 'none'}")
    ok = worst <= cfg["threshold"] / 1.5 and not bad_correct
    print(
        "OK: the worst reference seed is under 2/3 of the threshold; every correct answer passes"
        if ok
        else "MARGIN TOO SMALL, or a correct answer fails"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
