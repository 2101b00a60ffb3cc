"""Hints that need the whole notebook: names a student defined outside the graded cells."""

from __future__ import annotations

import ast
import re

from autograder import parsing

NAME_ERROR = re.compile(r"NameError: name '(\w+)' is not defined")


def bound_names(source: str) -> set[str]:
    "The top-level names a cell binds: assignments, defs, classes, imports, for targets."
    try:
        tree = parsing.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    out = set()
    for node in tree.body:  # top level only: a method's locals are not the notebook's globals
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
        else:
            targets = {
                ast.Assign: lambda n: n.targets,
                ast.AnnAssign: lambda n: [n.target],
                ast.AugAssign: lambda n: [n.target],
                ast.For: lambda n: [n.target],
                ast.With: lambda n: [i.optional_vars for i in n.items if i.optional_vars],
            }.get(type(node), lambda n: [])(node)
            out |= {
                n.id
                for t in targets
                for n in ast.walk(t)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            }
    return out


def name_error(message: str, outside: set[str]) -> str:
    "For a NameError in a message: why grading cannot see that name, and what to do instead."
    m = NAME_ERROR.search(message)
    if not m or "\nHint: grading runs only" in message:
        return ""
    name = m.group(1)
    where = (
        f"`{name}` is defined in a cell of your notebook that is not graded"
        if name in outside
        else f"`{name}` is not defined in the setup cell or in this exercise's cell"
    )
    return (
        f"\nHint: grading runs only the setup cell and the exercise cells, and {where}. Use what "
        f"the exercise passes in (a parameter, or an attribute such as self.{name}), or import "
        "or define it inside the cell"
    )
