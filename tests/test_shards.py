"""Shards of one batch: the same seed everywhere by default, and progress that names the shard."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.assignment import get
from autograder.batch import batch_seed, submission_names


def test_every_shard_derives_the_same_seed_from_the_whole_batch(tmp_path):
    for name in ("alice", "bob", "carol"):
        shutil.copy(get("minibatch").release, tmp_path / f"{name}.ipynb")
    names = submission_names([str(tmp_path)])
    seed = batch_seed(list(names), list(names.values()))
    assert seed == batch_seed(list(reversed(list(names))), list(reversed(list(names.values()))))
    (tmp_path / "bob.ipynb").write_text((tmp_path / "bob.ipynb").read_text() + " ")
    assert batch_seed(list(names), list(names.values())) != seed  # it follows the contents


def test_shards_share_the_seed_and_say_which_shard_they_are(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("alice", "bob"):
        shutil.copy(get("minibatch").release, subs / f"{name}.ipynb")
    seeds, outs = set(), []
    for k in (1, 2):
        out = tmp_path / f"s{k}"
        cmd = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out)]
        cmd += ["--shard", f"{k}/2", "--no-training", "--no-feedback"]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr[-2000:]
        outs.append(res.stdout + res.stderr)
        for rep in Path(out).glob("*/report.json"):
            seeds.add(json.loads(rep.read_text())["meta"]["seed"])
    assert len(seeds) == 1
    assert "shard 1/2: grading 1 of 1" in outs[0] and "shard 2/2: [1/1]" in outs[1]
