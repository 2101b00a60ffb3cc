"""The engine names no exercise: no file under autograder/ mentions an assignment's exercises.

The names are every exercise `id` and every name in its `defines`, and the id of every graded
`[[run]]` (an exercise without a cell), read from each `solutions/*/assignment.toml`. Each
engine file is read with `tokenize`, and a name is found in it when (case-sensitive):

- an identifier token (NAME) equals it: `def softmax(...)`, `student.softmax`, `ex == softmax`;
- a string literal (docstrings and f-strings included) or a comment holds it as a whole word
  (`\\bname\\b`): `"softmax(x) on a batch"`, `# getattr(torch, "softmax")`.

Ordinary English words. Some ids are plain English words as well (`WORDS`: `model`, `fit`,
`layers`, ...) that the engine's prose needs in their ordinary sense ("the data model", "three
layers", "a neutral dataset"). Those are held to the code rule only: an identifier equal to the
word, or a string literal whose whole value is the word (how code keys on an exercise:
`gid == "fit"`, `("dataset", "sampler")`). Prose, comments and f-strings are not searched for
them. A word belongs in `WORDS` only if a dictionary has it as written, in lowercase; jargon
(`softmax`, `relu`, `mse`, `nll`, `dataloader`), any name with an underscore and any CamelCase
class name (`Dataset`, `Model`) is checked everywhere.

One exemption, by position not by word: the identifier `model` in `autograder.model` (the
engine's own module of data classes, which predates and is unrelated to the backprop exercise
`model`). And one word: `training`, backprop's graded run id (the issue fixes the id), is also the
engine's own API word for every graded run: the `training` marker, `--no-training`, the report's
`meta.training`. The engine uses it in that sense only; nothing else is exempt, whichever file
it is in.

Non-Python files under autograder/ (none today) are read as prose: only the names outside
`WORDS` are searched, as whole words.

Datasets. Nor does the engine name a dataset: the names of the `[data.NAME]` tables in every
`solutions/*/assignment.toml` (the assignment declares its data; `autograder.data` acts on the
declaration). A dataset name is searched in every line of every engine file, code, strings and
comments alike, in any case, wherever it stands apart from letters and digits: `_`, `-` and `.`
count as separators, so `load_NAME`, `--with-NAME`, `NAME.pkl.gz` and "NAME" in capitals in
prose are all found. No exemptions; a dataset named with an ordinary English word would need the
code rule above, and none is.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "autograder"

# Exercise ids that are ordinary English words: code rule only (identifiers, exact literals).
WORDS = frozenset(
    {"accuracy", "collate", "dataset", "fit", "layers", "model", "optimizer", "sampler"}
)
# An id that is the engine's own API word for all graded runs (the marker, the option).
ENGINE_WORDS = frozenset({"training"})
# (previous NAME, previous OP, NAME): the engine's own module `autograder.model`.
MODULE_PATHS = {("autograder", ".", "model")}
FSTRING_MIDDLE = getattr(tokenize, "FSTRING_MIDDLE", None)  # Python 3.12+: f-string text


def exercise_names(root: Path = ROOT) -> dict[str, str]:
    "Every exercise id and defined name of every assignment -> what it is, for the message."
    import tomllib  # 3.11+, as in autograder.assignment

    names: dict[str, str] = {}
    for toml in sorted((root / "solutions").glob("*/assignment.toml")):
        a = tomllib.loads(toml.read_text(encoding="utf-8"))
        who = a.get("name", toml.parent.name)
        for ex in a.get("exercise", []):
            names.setdefault(ex["id"], f"exercise id of {who}")
            for name in ex.get("defines", []):
                names.setdefault(name, f"defined by {who}'s exercise {ex['id']}")
        for run in a.get("run", []):  # graded exercises without a cell of their own
            names.setdefault(run["id"], f"graded run id of {who}")
    return names


NAMES = exercise_names()
PATTERNS = {n: re.compile(rf"\b{re.escape(n)}\b") for n in NAMES}


def dataset_names(root: Path = ROOT) -> dict[str, str]:
    "Every dataset an assignment declares ([data.NAME]) -> who declares it, for the message."
    import tomllib

    names: dict[str, str] = {}
    for toml in sorted((root / "solutions").glob("*/assignment.toml")):
        a = tomllib.loads(toml.read_text(encoding="utf-8"))
        for name in a.get("data", {}):
            names.setdefault(name, f"dataset declared by {a.get('name', toml.parent.name)}")
    return names


DATASETS = dataset_names()


def dataset_hits(text: str, names=DATASETS) -> list[tuple[int, str]]:
    "(line, name) for every mention of a dataset, in any case, apart from letters and digits."
    found = []
    for name in names:
        pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", re.IGNORECASE)
        found += [(k, name) for k, line in enumerate(text.splitlines(), 1) if pattern.search(line)]
    return sorted(found)


def _literal(text: str):
    "The value of a string token, or None for an f-string (or anything not a plain literal)."
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


def hits_in_source(source: str, names=NAMES) -> list[tuple[int, str, str]]:
    "(line, name, where) for every mention of a name in Python source, by the module's rule."
    found = []
    names = [n for n in names if n not in ENGINE_WORDS]
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    for i, tok in enumerate(tokens):
        line = tok.start[0]
        if tok.type == tokenize.NAME:
            if tok.string in names:
                before = tuple(t.string for t in tokens[max(0, i - 2) : i])
                if (*before, tok.string) not in MODULE_PATHS:
                    found.append((line, tok.string, "identifier"))
        elif tok.type in (tokenize.STRING, tokenize.COMMENT, FSTRING_MIDDLE):
            where = "comment" if tok.type == tokenize.COMMENT else "string"
            value = _literal(tok.string) if tok.type == tokenize.STRING else None
            for name in names:
                if name in WORDS:
                    if value == name:
                        found.append((line, name, "string literal"))
                    continue
                pattern = PATTERNS.get(name) or re.compile(rf"\b{re.escape(name)}\b")
                lines = {
                    line + tok.string.count("\n", 0, m.start())
                    for m in pattern.finditer(tok.string)
                }
                found += [(k, name, where) for k in sorted(lines)]
    return sorted(found)


def hits_in_text(text: str, names=NAMES) -> list[tuple[int, str, str]]:
    "(line, name, where) for a file that is not Python: prose, so names outside WORDS only."
    names = [n for n in names if n not in ENGINE_WORDS]
    return [
        (k, name, "text")
        for k, line in enumerate(text.splitlines(), 1)
        for name in names
        if name not in WORDS and re.search(rf"\b{re.escape(name)}\b", line)
    ]


def engine_files() -> list[Path]:
    return sorted(p for p in ENGINE.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def test_the_names_come_from_every_assignment():
    import tomllib

    tomls = sorted((ROOT / "solutions").glob("*/assignment.toml"))
    assert len(tomls) >= 2, tomls
    for toml in tomls:
        ids = [ex["id"] for ex in tomllib.loads(toml.read_text())["exercise"]]
        assert ids and set(ids) <= set(NAMES), toml


def test_the_dataset_names_come_from_the_declarations():
    from autograder import assignment

    declared = {ds.name for a in assignment.ASSIGNMENTS.values() for ds in a.data}
    assert DATASETS and set(DATASETS) == declared, (DATASETS, declared)
    assert not set(DATASETS) & WORDS, "a dataset named with an English word needs the code rule"


def test_the_dataset_rule_finds_what_it_should():
    src = (
        '"""Loads the data."""\n'  # 1 nothing
        "from x import load_digits\n"  # 2 part of an identifier
        '"DIGITS in capitals"\n'  # 3 any case
        "p = root / 'digits.pkl.gz'  # --with-digits\n"  # 4 a file name, a flag
        "digitsum = handdigits = 1\n"  # 5 not apart from letters
    )
    assert dataset_hits(src, {"digits": ""}) == [(2, "digits"), (3, "digits"), (4, "digits")]


def test_every_english_word_is_still_an_exercise_name():
    "WORDS relaxes the rule only for names in use: a stale entry is an exemption to remove."
    assert WORDS <= set(NAMES), sorted(WORDS - set(NAMES))
    assert all(w.isalpha() and w.islower() for w in WORDS), sorted(WORDS)


def test_the_rule_finds_what_it_should():
    names = {"softmax": "", "fit": "", "model": "", "Model": ""}
    src = (
        '"""Uses softmax."""\n'  # 1 docstring, whole word
        "from autograder.model import Report\n"  # 2 the engine's module: exempt
        "model = 1\n"  # 3 an identifier, even an English word
        "x = student.softmax  # fit the model\n"  # 4 identifier; the comment's English is prose
        'y = "fit"\n'  # 5 an exact literal of an English word
        'z = "log_softmax and fitting a Model"\n'  # 6 not whole words; Model is CamelCase
        'w = f"{x}: call softmax"\n'  # 7 an f-string's text
    )
    got = sorted((line, name) for line, name, _ in hits_in_source(src, names))
    assert got == [
        (1, "softmax"),
        (3, "model"),
        (4, "softmax"),
        (5, "fit"),
        (6, "Model"),
        (7, "softmax"),
    ]
    assert hits_in_text("see softmax\nthe model fits\n", names) == [(1, "softmax", "text")]


@pytest.mark.parametrize("path", engine_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_file_names_no_exercise(path: Path):
    text = path.read_text(encoding="utf-8")
    hits = hits_in_source(text) if path.suffix == ".py" else hits_in_text(text)
    rel = path.relative_to(ROOT)
    lines = [f"{rel}:{line}: {name!r} ({NAMES[name]}) in a {where}" for line, name, where in hits]
    if hits:
        pytest.fail(f"{rel} names {len(hits)} exercise(s):\n" + "\n".join(lines), pytrace=False)


@pytest.mark.parametrize("path", engine_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_file_names_no_dataset(path: Path):
    hits = dataset_hits(path.read_text(encoding="utf-8"))
    rel = path.relative_to(ROOT)
    lines = [f"{rel}:{line}: {name!r} ({DATASETS[name]})" for line, name in hits]
    if hits:
        pytest.fail(f"{rel} names {len(hits)} dataset(s):\n" + "\n".join(lines), pytrace=False)
