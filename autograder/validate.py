"""`autograder validate`: prove the checks right before students see them.

The solution must score full marks, the released stubs zero ("not implemented yet"), the lesson's
own code full marks, every alternative correct answer full marks, and every known bug must lose
points on its own exercise and only there. Hints, too, must match their mistakes: a bug shows
each hint it claims (`Bug.hints`) and no other, the correct answers show none, and every hint
the tests declare fires for some bug in the bank.
"""

from __future__ import annotations

import ast
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder import assignment
from autograder.batch import _Locked
from autograder.grade import Options, grade_notebook
from autograder.model import Report
from autograder.oracle import Oracle


def full_marks(r: Report, only: set[str] | None = None) -> list[str]:
    "Exercises (of only, or all) that lost points, with their first failing message."
    return [
        f"{g}: {next(c.message for c in e.checks if not c.passed)[:160]}"
        for g, e in r.exercises.items()
        if (only is None or g in only) and e.score < e.max_score
    ]


def bug_problems(
    r: Report, bug, gid: str, ids: list[str], spared: set[str] = frozenset()
) -> list[str]:
    """What is wrong with how a known bug was graded (empty when it was caught properly).
    `spared`: exercises whose points are not this bug's to keep (other bugs share the notebook)."""
    e = r.exercises[gid]
    if e.score >= e.max_score:
        return [f"{gid}/{bug.name}: not caught (full marks)"]
    msgs = " ".join(c.message.lower() for c in e.checks if not c.passed)
    out = (
        []
        if any(w in msgs for w in bug.words)
        else [f"{gid}/{bug.name}: caught, but no message mentions any of {bug.words}"]
    )
    others = set(ids) - {gid, *bug.also} - set(spared)
    return out + [f"{gid}/{bug.name} also cost {p}" for p in full_marks(r, others)]


HINT = "Hint: "


def hint_lines(ex) -> list[tuple[str, str]]:
    "(check name, hint text) for each `Hint:` line in an exercise's messages."
    return [
        (c.name, line[len(HINT) :])
        for c in ex.checks
        for line in c.message.splitlines()
        if line.startswith(HINT)
    ]


def _short(text: str, n: int = 100) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def shown_hints(r: Report, bug, gid: str) -> list[tuple[str, str, str]]:
    "(exercise, check, hint) for each hint a bug's report shows on its exercise and on `also`."
    return [
        (g, name, h)
        for g in (gid, *bug.also)
        if g in r.exercises
        for name, h in hint_lines(r.exercises[g])
    ]


def missing_hints(r: Report, bug, gid: str) -> list[str]:
    "The hints a known bug claims (`Bug.hints`) that no check of its exercise (or `also`) showed."
    shown = [h for *_, h in shown_hints(r, bug, gid)]
    return [
        f"{gid}/{bug.name}: claims the hint {s!r}, which no check of {gid} showed"
        for s in bug.hints
        if not any(s in h for h in shown)
    ]


def unclaimed_hints(r: Report, bug, gid: str) -> list[str]:
    "The hints a known bug was shown on its exercise (or `also`) that it does not claim."
    where: dict[str, list[str]] = {}
    for g, name, h in shown_hints(r, bug, gid):
        if not any(s in h for s in bug.hints):
            where.setdefault(h, []).append(f"{g}·{name}")
    return [
        f"{gid}/{bug.name}: the hint {_short(h)!r} on {', '.join(w)} is not one it claims"
        for h, w in where.items()
    ]


def hint_problems(r: Report, bug, gid: str) -> list[str]:
    """What is wrong with the hints a known bug was shown (empty when they are its own): a hint it
    claims that no check showed, a hint shown on its exercise (or `also`) that it does not claim."""
    return missing_hints(r, bug, gid) + unclaimed_hints(r, bug, gid)


def stray_hints(r: Report, only: set[str] | None = None) -> list[str]:
    "Hints shown on a correct answer (of only, or all exercises): it is told of no mistake."
    return [
        f"{g}·{name} showed the hint {_short(h)!r}"
        for g, e in r.exercises.items()
        if only is None or g in only
        for name, h in hint_lines(e)
    ]


def declared_hints(folder: Path) -> tuple[dict[str, list[str]], list[str]]:
    """Every hint text the tests under folder declare, read without running them: the first
    argument of each `hint(...)` call, where it is a string literal, a module-level name bound to
    one (here or imported from a test module beside it), or a `+` or f-string of those. Returns
    ({text: ["tests/FILE.py:LINE", ...]}, ["tests/FILE.py:LINE: hint(...)" that cannot be read])."""
    folder = Path(folder)
    envs: dict[Path, dict[str, str | None]] = {}
    texts: dict[str, list[str]] = {}
    unread: list[str] = []
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        env = _strings(path, folder, envs)
        where = path.relative_to(folder.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not (isinstance(node, ast.Call) and _is_hint(node.func)):
                continue
            arg = (
                node.args[0]
                if node.args
                else next((k.value for k in node.keywords if k.arg == "say"), None)
            )
            text = _text(arg, env) if arg is not None else None
            if text is None:
                unread.append(f"{where}:{node.lineno}: {_short(ast.unparse(node), 80)}")
            else:
                texts.setdefault(text, []).append(f"{where}:{node.lineno}")
    return texts, unread


def _is_hint(func) -> bool:
    return (isinstance(func, ast.Name) and func.id == "hint") or (
        isinstance(func, ast.Attribute) and func.attr == "hint"
    )


def _strings(path: Path, folder: Path, envs: dict) -> dict[str, str | None]:
    "A test module's module-level names: their string value, or None (not a string we can read)."
    if path in envs:
        return envs[path]
    env: dict[str, str | None] = {}
    envs[path] = env  # an import cycle sees the names bound so far
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            # by bare name, from the tests folder (the runner's sys.path): the public files
            src = folder / f"{node.module}.py"
            names = _strings(src, folder, envs) if src.is_file() else {}
            for a in node.names:
                env[a.asname or a.name] = names.get(a.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = _text(node.value, env)
            for t in targets:
                if isinstance(t, ast.Name):
                    env[t.id] = value
    return env


def _text(node, env: dict[str, str | None]) -> str | None:
    "The string an expression evaluates to, where it is made of literals and known names."
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left, env), _text(node.right, env)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                if v.format_spec is not None or v.conversion not in (-1, ord("s")):
                    return None
                v = v.value
            part = _text(v, env)
            if part is None:
                return None
            parts.append(part)
        return "".join(parts)
    return None


def validate(name: str | None = None, training: bool = True, workers: int = 2, say=print) -> int:
    "Grade the solution, the stubs and the whole bank; exit status 0 iff every case behaves."
    from autograder.bank import cases, pack

    a = assignment.get(name)
    oracle = _Locked(lambda name: Oracle(None, name or a.name), threading.Lock())
    opts = Options(seed=0, assignment=a.name)
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(workers) as pool:
        # the solution and the stubs (with their training runs) first, the bank behind them
        sol_job = pool.submit(
            grade_notebook, a.solution, training=training, options=opts, oracle=oracle
        )
        stub_job = pool.submit(
            grade_notebook, a.release, training=training, options=opts, oracle=oracle
        )
        # the bugs go in packed notebooks (bank.bug_groups): one worker for many bugs
        jobs = [
            (kind, label, pool.submit(_grade, Path(tmp) / f"{i}.ipynb", src, oracle, a))
            for i, (kind, label, src) in enumerate(cases(a))
            if kind != "bug"
        ]
        jobs += [
            ("bugs", group, pool.submit(_grade, Path(tmp) / f"b{i}.ipynb", src, oracle, a))
            for i, group in enumerate(pack([lb for k, lb, _ in cases(a) if k == "bug"]))
            for src in [{gid: bug.source for gid, bug in group}]
        ]
        sol = sol_job.result()
        problems += [f"solution lost points: {p}" for p in full_marks(sol)]
        # the instructor's mistakes in the folder's tests (a test that raised, no points marker)
        problems += [f"in the tests: {e}" for e in sol.meta.get("instructor_errors", [])]
        from autograder.runner import collect

        public = {t.exercise for t, _ in collect(a.tests, hidden=False)}
        problems += [
            f"exercise {gid!r} has no public test: add {a.tests / f'test_{gid}.py'}"
            for gid in a.ids
            if gid not in public
        ]
        say(f"solution: {sol.score:g} / {sol.max_score:g}")
        stub = stub_job.result()
        problems += [f"stubs scored {stub.score:g}, expected 0"] if stub.score else []
        silent = [
            f"{g}·{c.name}"
            for g, e in stub.exercises.items()
            for c in e.checks
            if c.max_score and "not implemented yet" not in c.message
        ]
        problems += (
            [f"stub checks without 'not implemented yet': {', '.join(silent[:8])}"]
            if silent
            else []
        )
        say(f"stubs:    {stub.score:g} / {stub.max_score:g}")
        fired: set[str] = set()  # hints some bug showed and claims
        for kind, label, fut in jobs:
            r = fut.result()
            if kind == "bugs":
                here = {gid for gid, _ in label}
                for gid, bug in label:
                    found = bug_problems(r, bug, gid, a.ids, here - {gid})
                    found += hint_problems(r, bug, gid)
                    fired |= {
                        h for *_, h in shown_hints(r, bug, gid) if any(s in h for s in bug.hints)
                    }
                    problems += found
                    say(f"{'✗' if found else '✓'} {'bug':12} {gid}/{bug.name}")
                continue
            found = [f"{kind} {label}: {p}" for p in full_marks(r, set(a.ids))]
            found += [f"{kind} {label}: {p}" for p in stray_hints(r, set(a.ids))]
            problems += found
            say(f"{'✗' if found else '✓'} {kind:12} {label}")
    texts, unread = declared_hints(a.tests)
    problems += [
        f"the hint {_short(t)!r} ({', '.join(where)}) fires for no bug in the bank that claims it"
        for t, where in texts.items()
        if t not in fired
    ]
    problems += [f"a hint whose text cannot be read statically: {u}" for u in unread]
    say("\n".join(["", *problems]) if problems else "\nall cases behave as expected")
    return 1 if problems else 0


def _grade(path: Path, replace: dict[str, str], oracle, a) -> Report:
    from autograder.bank import make_submission

    make_submission(path, replace, base=a.solution)
    return grade_notebook(
        path, training=False, options=Options(seed=0, assignment=a.name), oracle=oracle
    )
