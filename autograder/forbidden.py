"""Built-in shortcuts an exercise may not use, found in its source (AST, through aliases)."""

from __future__ import annotations

import ast

from autograder import parsing

# the doors behind the public functions: aten ops, the C bindings, switching the monitor off.
# An exercise with `backdoors = true` in its assignment.toml may not reach them either.
BACKDOORS = [
    "torch.ops",
    "torch._C",
    "torch._VF",
    "torch.nn.functional._VF",
    "torch._refs",
    "torch._decomp",
    "torch.overrides",
]


def _rules(exercise: str, a=None):
    "The exercise's entry in its assignment (forbidden names, methods, operators), or None."
    if a is None:
        from autograder.assignment import owner

        a = owner([exercise])
    return a.exercise(exercise) if a is not None else None


def runtime_names(exercise: str, a=None) -> list[str]:
    "The torch functions and aten operators the worker watches while this exercise's code runs."
    if _rules(exercise, a) is None:
        return []
    from autograder.assignment import owner

    return (a or owner([exercise])).runtime_names(exercise)  # not None: _rules found it


def function_names(banned) -> set[str]:
    """The last part of each banned name that is a torch function (`nll_loss`, not the module
    `data` of torch.utils.data): a constant with that name in a call may be a getattr on it."""
    import importlib

    out = set()
    for dotted in banned:
        mod, _, attr = dotted.rpartition(".")
        try:
            obj = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError, ValueError):
            continue
        if callable(obj) and not isinstance(obj, type) and not attr.startswith("_"):
            out.add(attr)
    return out


def aliases(tree: ast.AST, names: dict[str, str] | None = None) -> dict[str, str]:
    "Local names bound by imports and assignments: {'F': 'torch.nn.functional', 'G': ...}."
    names = dict(names or {"torch": "torch"})
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = (
                    a.name if a.asname else a.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, dotted = node.targets[0], _dotted(node.value, names)
            if isinstance(target, ast.Name) and dotted:
                names[target.id] = dotted
    return names


def _dotted(node: ast.AST, names: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in names:
        return ".".join([names[node.id], *reversed(parts)])
    return None


def parse(source: str, setup: str = "") -> tuple[ast.AST, dict[str, str]] | None:
    "A cell's tree and the names its imports and the setup cell's bind; None if it won't parse."
    try:
        tree = parsing.parse(source)
        names = aliases(parsing.parse(setup)) if setup else {"torch": "torch"}
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # the cell's own syntax error is reported where it is run
    return tree, aliases(tree, names)


def shortcuts(exercise: str, source: str, setup: str = "", a=None) -> list[str]:
    "The forbidden names this cell uses, with line numbers; empty when it does its own work."
    rules = _rules(exercise, a)
    banned = list(rules.forbidden) if rules else []
    methods = set(rules.methods) if rules else set()
    if (parsed := parse(source, setup)) is None:
        return []
    tree, names = parsed
    found = []
    for node in ast.walk(tree):
        hit = None
        if isinstance(node, (ast.Attribute, ast.Name)):
            dotted = _dotted(node, names)
            if dotted and any(dotted == b or dotted.startswith(b + ".") for b in banned):
                hit = dotted
            elif isinstance(node, ast.Attribute) and node.attr in methods:
                hit = f".{node.attr}()"
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            if mod and any(mod == b or mod.startswith(b + ".") for b in banned):
                hit = mod
        elif isinstance(node, ast.Call):  # getattr(torch, "matmul") and friends
            words = methods | function_names(banned)
            for a in node.args:
                if isinstance(a, ast.Constant) and a.value in words:
                    hit = f"the name {a.value!r} (getattr?)"
        if hit and not any(
            f.endswith(f"(line {node.lineno})")
            and f.startswith(hit.split(" ")[0])
            or hit.startswith(f.split(" ")[0])
            and f.endswith(f"(line {node.lineno})")
            for f in found
        ):
            found.append(f"{hit} (line {node.lineno})")
    return found
