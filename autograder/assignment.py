"""Where an assignment lives and which exercises it has: the contract notebooks and checks share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.policy import Policy

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Exercise:
    "One graded cell: its nbgrader grade_id and the names the student's cell must define."

    grade_id: str
    defines: tuple[str, ...]
    title: str
    forbidden: tuple[str, ...] = ()  # dotted names its cell may not reach (backdoors included)
    methods: tuple[str, ...] = ()  # method names that are shortcuts on any object
    aten: tuple[str, ...] = ()  # operators watched at run time


@dataclass(frozen=True)
class Run:
    """A graded exercise with no cell of its own (a training run over the student's pipeline):
    its tests are in tests/test_<id>.py like any other; `needs` are the cells it uses, and when
    one of them did not run its tests fail saying so."""

    grade_id: str
    title: str
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assignment:
    "A notebook of exercises: source in solutions/NAME/, release in assignments/NAME/."

    name: str
    exercises: tuple[Exercise, ...]
    setup_id: str = "setup"
    runs: tuple[Run, ...] = ()  # graded exercises without a cell (`[[run]]` in assignment.toml)
    default: bool = False  # the course's default: what a command means when none is named
    policy: Policy = Policy()  # what its exercise cells may import and reach (autograder.policy)
    data: tuple = ()  # the datasets its tests and notebook load (`[data.NAME]`, autograder.data)

    @property
    def notebook(self) -> str:
        return f"{self.name}.ipynb"

    @property
    def folder(self) -> Path:
        "The instructor's folder: the source notebook, assignment.toml, tests/."
        return ROOT / "solutions" / self.name

    @property
    def solution(self) -> Path:
        return ROOT / "solutions" / self.name / self.notebook

    @property
    def release(self) -> Path:
        return ROOT / "assignments" / self.name / self.notebook

    @property
    def tests(self) -> Path:
        """The assignment's pytest tests: public ones here, hidden ones in tests/hidden/. The
        student bundle has no solutions/: its public tests are in its own tests/NAME/."""
        kit = ROOT / "solutions" / self.name / "tests"
        return kit if kit.is_dir() else ROOT / "tests" / self.name

    @property
    def probes_file(self) -> Path | None:
        """The assignment's own probes (scenarios its tests run on both sides), if it has any:
        solutions/NAME/probes.py in the kit, assignments/NAME/probes.py in a bundle or zip."""
        for p in (self.folder / "probes.py", ROOT / "assignments" / self.name / "probes.py"):
            if p.is_file():
                return p
        return None

    def probes(self) -> dict:
        "Every probe its tests may ask for: the kit's generic ones and its own, by name."
        import importlib.util
        import sys

        from autograder import probes

        if self.probes_file is None:
            return dict(probes.PROBES)
        key = f"_ag_probes_{self.name}"
        if key not in sys.modules:
            spec = importlib.util.spec_from_file_location(key, self.probes_file)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            sys.modules[key] = mod
        return probes.assignment_probes(sys.modules[key])

    @property
    def ids(self) -> list[str]:
        return [e.grade_id for e in self.exercises]

    @property
    def report_ids(self) -> list[str]:
        "Every exercise a report has a row for: the cells', then the runs'."
        return [*self.ids, *(r.grade_id for r in self.runs)]

    def title(self, grade_id: str) -> str:
        e = self.exercise(grade_id) or next((r for r in self.runs if r.grade_id == grade_id), None)
        return e.title if e else grade_id

    def needs(self, grade_id: str) -> tuple[str, ...]:
        "The cells an exercise's tests use: its own, or a run's `needs`."
        run = next((r for r in self.runs if r.grade_id == grade_id), None)
        return run.needs if run else (grade_id,)

    def exercise(self, grade_id: str) -> Exercise | None:
        return next((e for e in self.exercises if e.grade_id == grade_id), None)

    @property
    def gated(self) -> list[str]:
        "The exercises with shortcuts they may not use: each gets an own_implementation check."
        no_bases = dict(self.policy.no_bases)
        return [e.grade_id for e in self.exercises if e.forbidden or e.grade_id in no_bases]

    def runtime_names(self, grade_id: str) -> list[str]:
        "The torch functions and aten operators the worker watches while this exercise runs."
        from autograder.forbidden import BACKDOORS

        e = self.exercise(grade_id)
        if e is None:
            return []
        names = [n for n in e.forbidden if n not in BACKDOORS and n.count(".") >= 1]
        return names + list(e.aten)


def load(toml: Path) -> Assignment:
    "An assignment from its folder's assignment.toml; a mistake there names the file and key."
    import tomllib

    from autograder.forbidden import BACKDOORS

    try:
        d = tomllib.loads(toml.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise AssignmentError(f"{toml}: {e}") from None
    try:
        exercises = tuple(
            Exercise(
                x["id"],
                tuple(x["defines"]),
                x.get("title", x["id"]),
                tuple(x.get("forbidden", ())) + tuple(BACKDOORS if x.get("backdoors") else ()),
                tuple(x.get("methods", ())),
                tuple(x.get("aten", ())),
            )
            for x in d["exercise"]
        )
        no_bases = tuple((x["id"], tuple(x["no_bases"])) for x in d["exercise"] if "no_bases" in x)
        runs = tuple(
            Run(x["id"], x.get("title", x["id"]), tuple(x.get("needs", ())))
            for x in d.get("run", ())
        )
        a = Assignment(
            d["name"],
            exercises,
            setup_id=d.get("setup", "setup"),
            runs=runs,
            default=bool(d.get("default", False)),
            policy=Policy(no_bases=no_bases),
            data=_datasets(d.get("data", {}), toml),
        )
    except (KeyError, TypeError) as e:
        raise AssignmentError(f"{toml}: missing or malformed key {e}") from None
    if a.name != toml.parent.name:
        raise AssignmentError(f"{toml}: name {a.name!r} is not its folder's {toml.parent.name!r}")
    return a


def _datasets(tables, toml: Path) -> tuple:
    "The `[data.NAME]` declarations; a mistake there names the file and the key."
    if not tables:
        return ()
    from autograder.data import DeclarationError, parse

    if not isinstance(tables, dict):
        raise AssignmentError(f"{toml}: data: expected [data.NAME] tables, got {tables!r}")
    try:
        return tuple(parse(name, t, str(toml)) for name, t in tables.items())
    except DeclarationError as e:
        raise AssignmentError(f"{toml}: {e}") from None


class AssignmentError(Exception):
    "A mistake in an assignment's folder (the instructor's), with the file."


def _discover() -> dict[str, Assignment]:
    "Every assignment with a folder: solutions/NAME/ in the kit, assignments/NAME/ in a bundle."
    found: dict[str, Assignment] = {}
    for where in ("assignments", "solutions"):  # the instructor's folder wins
        for toml in sorted((ROOT / where).glob("*/assignment.toml")):
            found[toml.parent.name] = load(toml)
    return found


ASSIGNMENTS = _discover()


def get(name: str | None = None) -> Assignment:
    "The assignment called name (default: the only one), or a clear error listing the known ones."
    name = name or default_name()
    if name not in ASSIGNMENTS:  # a folder added since (autograder new): look again
        ASSIGNMENTS.update(_discover())
    if name not in ASSIGNMENTS:
        raise AssignmentError(f"unknown assignment {name!r}; known: {', '.join(ASSIGNMENTS)}")
    return ASSIGNMENTS[name]


STAMP = "autograder"  # the notebook metadata key release writes: {"assignment": NAME}


def stamp(nb, name: str):
    "Say in a notebook's metadata which assignment it is (release does it for every notebook)."
    nb.metadata[STAMP] = {"assignment": name}
    return nb


def owner(ids) -> Assignment | None:
    "The assignment whose exercises include all these grade_ids (the only such), or None."
    ids = set(ids)
    found = [a for a in ASSIGNMENTS.values() if ids and ids <= set(a.ids)]
    if len(found) == 1:
        return found[0]
    try:
        return get(default_name()) if not found else None
    except AssignmentError:
        return None


def default_name() -> str:
    "The assignment a command means when none is named: the only one, or a clear error."
    names = sorted(ASSIGNMENTS) or sorted(_discover())
    if len(names) == 1:
        return names[0]
    marked = [n for n in names if ASSIGNMENTS[n].default]  # `default = true` in assignment.toml
    if len(marked) == 1:
        return marked[0]
    if not names:
        raise AssignmentError("no assignment found: solutions/NAME/assignment.toml is missing")
    raise AssignmentError(
        f"several assignments are known ({', '.join(names)}): pass --assignment NAME"
    )


def names(given: str | None = None) -> list[str]:
    "The assignments a command acts on: the one named, else every one there is."
    if given:
        return [get(given).name]
    return sorted(ASSIGNMENTS)


def _any() -> str:
    "Some assignment, for a zero report on a notebook that cannot even say which one it is."
    try:
        return default_name()
    except AssignmentError:
        return sorted(ASSIGNMENTS)[0]


def infer(path, given: str | None = None) -> tuple[str, str]:
    """Which assignment a notebook belongs to, and a problem ('' if none): its metadata stamp,
    else the one whose exercise ids its cells carry, else the only one. `given` (--assignment)
    overrides, but a notebook stamped as another assignment is a problem that names both."""
    from autograder.extract import grade_id, read_notebook

    try:
        nb = read_notebook(Path(path))
    except (OSError, ValueError):
        return given or _any(), ""  # extract reports what is wrong with the file
    meta = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    mark = meta.get(STAMP) if isinstance(meta.get(STAMP), dict) else {}
    stamped = mark.get("assignment") if isinstance(mark.get("assignment"), str) else None
    if stamped is not None and stamped not in ASSIGNMENTS:
        ASSIGNMENTS.update(_discover())
    if given:
        if stamped and stamped != given:
            return given, (
                f"{Path(path).name} is a notebook of assignment {stamped!r} (its metadata says "
                f"so), not of {given!r}: grade it with --assignment {stamped}, or leave "
                "--assignment out to route each notebook to its own assignment"
            )
        return given, ""
    if stamped:
        if stamped in ASSIGNMENTS:
            return stamped, ""
        known = ", ".join(sorted(ASSIGNMENTS))
        return _any(), (
            f"{Path(path).name} says it is a notebook of assignment {stamped!r}, which this "
            f"grader does not have (known: {known}); check that it is the right notebook"
        )
    ids = {grade_id(c) for c in nb["cells"] if isinstance(c, dict)}
    matches = [a.name for a in ASSIGNMENTS.values() if set(a.ids) & ids]
    best = max(matches, key=lambda n: len(set(ASSIGNMENTS[n].ids) & ids), default=None)
    return best or _any(), ""
