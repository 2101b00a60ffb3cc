"""The static policy: what an exercise cell may contain, checked in the parent before anything runs.

A cell may import only the modules its assignment allows, may not reach the APIs it forbids, and
may not use dynamic code: computed attribute names, eval/exec, frame and object introspection,
threads and processes, files, decoders, or data embedded in literals. A cell that breaks the policy
is not run at all; its exercise scores zero with the construct, the line and what is allowed, and
every other exercise keeps its points. Run-time monitoring in the worker is a second layer only.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from autograder.forbidden import _dotted, parse

# what every exercise cell may import (an assignment adds or removes modules)
DEFAULT_MODULES = (
    "torch",
    "fastcore",
    "math",
    "random",
    "itertools",
    "functools",
    "operator",
    "typing",
    "collections",
    "dataclasses",
    "tqdm",
    "numpy",
)
# modules that are never importable, nor reachable as an attribute of an allowed one (torch.os)
MODULE_NAMES = {
    "sys", "os", "io", "inspect", "gc", "ctypes", "threading", "_thread", "subprocess",
    "multiprocessing", "concurrent", "asyncio", "importlib", "builtins", "pickle", "base64",
    "zlib", "marshal", "shutil", "pathlib", "socket", "signal", "codecs", "types", "traceback",
    "tempfile", "glob", "safetensors", "struct", "binascii", "gzip", "lzma", "bz2", "zipfile",
    "tarfile", "urllib", "http", "runpy", "code", "codeop", "pdb", "weakref", "linecache",
    "dis", "copyreg", "shelve", "dbm", "mmap", "resource", "faulthandler", "atexit", "site",
}  # fmt: skip
# APIs refused in every cell: files, code loading, the doors under torch, tools that run code
FORBIDDEN_APIS = (
    "torch.load", "torch.save", "torch.from_file", "torch.frombuffer", "torch.hub",
    "torch.package", "torch.jit", "torch.compile", "torch.fx", "torch.library", "torch.ops",
    "torch.overrides", "torch.multiprocessing", "torch.distributed", "torch.serialization",
    "torch.utils.cpp_extension", "torch.utils.model_zoo", "torch.profiler",
    "torch.autograd.profiler", "torch.classes", "torch.storage", "torch.UntypedStorage",
    "operator.attrgetter", "operator.methodcaller", "functools.partial.__call__",
    "typing.get_type_hints", "typing.ForwardRef", "dataclasses.make_dataclass",
    "numpy.load", "numpy.save", "numpy.savez", "numpy.savez_compressed", "numpy.fromfile",
    "numpy.frombuffer", "numpy.loadtxt", "numpy.genfromtxt", "numpy.fromregex", "numpy.memmap",
    "numpy.lib", "numpy.ctypeslib", "numpy.f2py", "numpy.distutils", "numpy.testing",
    "numpy.DataSource", "tqdm.contrib", "tqdm.cli", "tqdm.tk", "tqdm.gui",
)  # fmt: skip
# fastcore names that run code, start threads or processes, read files or the network
FASTCORE_DENY = {
    "run", "exec_eval", "exec_local", "exec_new", "exec_import", "eval_type", "parallel",
    "parallel_gen", "threaded", "startthread", "startproc", "ProcessPoolExecutor",
    "ThreadPoolExecutor", "urlread", "urlopen", "urlsave", "urlretrieve", "urljson", "urlsend",
    "save_pickle", "load_pickle", "open_file", "untar_dir", "bunzip", "loads", "loads_multi",
    "nested_attr", "nested_setdefault", "getattrs", "get_source_link", "globtastic", "walk",
    "xtras", "net", "script", "shutil", "imports", "read_file", "write_file",
    "sys", "os", "inspect", "threading", "subprocess", "importlib", "pickle", "Path", "patch",
    "patch_to", "patch_property", "copy_func",
}  # fmt: skip
# a module reached as an attribute of another (F.torch.load) is refused: import it instead
REROOTS = {m for m in DEFAULT_MODULES if m != "random"}
# built-in names that evaluate code, look into frames and objects, or touch files
BUILTINS_DENY = {
    "eval", "exec", "compile", "__import__", "globals", "locals", "vars", "dir", "breakpoint",
    "open", "input", "help", "exit", "quit", "memoryview", "__builtins__", "__loader__",
    "__spec__", "classmethod_descriptor",
}  # fmt: skip
ATTR_FUNCS = {"getattr", "setattr", "hasattr", "delattr"}
# dunder attributes a cell may read: the protocol methods course code uses, and names for reprs
DUNDER_OK = {
    "__init__", "__setattr__", "__repr__", "__str__", "__len__", "__getitem__", "__setitem__",
    "__iter__", "__next__", "__call__", "__name__", "__qualname__", "__class__", "__enter__",
    "__exit__", "__contains__", "__eq__", "__hash__",
}  # fmt: skip
# attributes that lead from a value to the frames and code that made it
FRAME_ATTRS = {
    "tb_frame", "tb_next", "f_back", "f_locals", "f_globals", "f_builtins", "f_code",
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame",
    "ag_code", "co_code", "co_consts", "co_names", "func_globals",
}  # fmt: skip
MAX_LITERAL_CHARS = 1000  # a longer string or bytes constant is data, not code
MAX_NUMBERS = 2000  # more numeric constants than this in one cell is embedded data
FORMAT_INTROSPECTION = re.compile(r"\{[^{}]*(__|\.\s*_)")  # "{0.__globals__}".format(f)


@dataclass(frozen=True)
class Policy:
    "What an assignment's exercise cells may import and reach."

    modules: tuple[str, ...] = DEFAULT_MODULES
    forbidden: tuple[str, ...] = FORBIDDEN_APIS
    # exercise id -> classes its definitions may not derive from, however reached (nn.Module)
    no_bases: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def allowed_text(self) -> str:
        return ", ".join(self.modules)


@dataclass(frozen=True)
class Violation:
    "One construct the policy refuses, where it is, and why."

    line: int
    construct: str
    why: str

    def __str__(self):
        return f"line {self.line}: {self.construct} ({self.why})"


def _under(dotted: str, prefixes) -> bool:
    return any(dotted == p or dotted.startswith(p + ".") for p in prefixes)


def _code(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # unparse of a strange tree: the line number still says where
        text = type(node).__name__
    return text if len(text) <= 60 else text[:57] + "..."


class _Checker(ast.NodeVisitor):
    def __init__(self, policy: Policy, names: dict[str, str], bases: tuple[str, ...]):
        self.policy, self.names, self.bases, self.found = policy, names, bases, []
        self.selfs: list[str] = []  # the first parameter of each enclosing function
        self.local_classes: set[str] = set()
        self.numbers = 0

    def refuse(self, node: ast.AST, why: str, construct: str | None = None):
        self.found.append(Violation(getattr(node, "lineno", 0), construct or _code(node), why))

    def dotted(self, node: ast.AST) -> str | None:
        return _dotted(node, self.names)

    def module_ok(self, mod: str, node: ast.AST) -> bool:
        parts = mod.split(".")
        if not _under(mod, self.policy.modules):
            self.refuse(node, f"module {parts[0]!r} is not available in graded cells")
        elif any(p in MODULE_NAMES for p in parts) or any(p.startswith("_") for p in parts[1:]):
            self.refuse(node, "a module that reaches the system or torch's internals")
        elif _under(mod, self.policy.forbidden):
            self.refuse(node, "an API graded cells may not use")
        else:
            return True
        return False

    # imports
    def visit_Import(self, node: ast.Import):
        for a in node.names:
            self.module_ok(a.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom):
        if node.level or not node.module:
            return self.refuse(node, "relative imports are not available in graded cells")
        if not self.module_ok(node.module, node):
            return
        for a in node.names:
            if a.name == "*":
                self.refuse(node, "import the names you use instead of *")
            else:
                self.check_dotted(f"{node.module}.{a.name}", node)

    # names and attributes
    def check_dotted(self, dotted: str, node: ast.AST) -> bool:
        parts = dotted.split(".")
        if any(p in REROOTS for p in parts[1:]) and parts != [parts[0]] * 2:  # tqdm.tqdm is fine
            self.refuse(node, "a module reached through another module: import it", dotted)
        elif self.bases and _under(dotted, self.bases) and _class_attr(parts):
            self.refuse(
                node, f"this exercise is written without the methods of {parts[0]}'s classes"
            )
        elif any(p in MODULE_NAMES for p in parts[1:]):
            self.refuse(node, "a module that reaches the system", dotted)
        elif any(p.startswith("_") and not _dunder(p) for p in parts[1:]):
            self.refuse(node, "a private part of a library", dotted)
        elif _under(dotted, self.policy.forbidden):
            self.refuse(node, "an API graded cells may not use", dotted)
        elif parts[0] == "fastcore" and any(p in FASTCORE_DENY for p in parts[1:]):
            self.refuse(node, "a fastcore helper that runs code, threads, files or the network")
        else:
            return True
        return False

    def visit_Name(self, node: ast.Name):
        if node.id in BUILTINS_DENY or (_dunder(node.id) and node.id != "__name__"):
            self.refuse(node, "built-ins that run code or look into objects are not allowed")
        elif node.id in ATTR_FUNCS and not getattr(node, "_called_ok", False):
            self.refuse(node, "attribute access by a computed name is not allowed")
        elif node.id in self.names and isinstance(node.ctx, ast.Load):
            self.check_dotted(self.names[node.id], node)

    def visit_Attribute(self, node: ast.Attribute):
        attr = node.attr
        if attr in FRAME_ATTRS or attr in MODULE_NAMES:
            self.refuse(node, "frames, code objects and system modules are not reachable")
        elif _dunder(attr) and attr not in DUNDER_OK and not self.own_dict(node):
            self.refuse(node, f"the special attribute {attr} looks into objects")
        else:
            dotted = self.dotted(node)
            if dotted and not self.check_dotted(dotted, node):
                return  # one message per chain
            if dotted and isinstance(node.ctx, (ast.Store, ast.Del)):
                return self.refuse(node, "changing a library's attributes (monkeypatching)")
        self.generic_visit(node)

    def own_dict(self, node: ast.Attribute) -> bool:
        "self.__dict__ inside a method: the object's own attributes, as __setattr__ code uses."
        v = node.value
        return (
            node.attr == "__dict__" and isinstance(v, ast.Name) and bool(self.selfs)
        ) and v.id == self.selfs[-1]

    def visit_Call(self, node: ast.Call):
        f = node.func
        if isinstance(f, ast.Name) and f.id in ATTR_FUNCS and f.id not in self.names:
            name = node.args[1] if len(node.args) > 1 else None
            const = isinstance(name, ast.Constant) and isinstance(name.value, str)
            on_self = (
                bool(node.args) and isinstance(node.args[0], ast.Name) and bool(self.selfs)
            ) and node.args[0].id == self.selfs[-1]
            if const and _dunder(name.value) and name.value not in DUNDER_OK:
                self.refuse(node, f"the special attribute {name.value} looks into objects")
            elif const or (on_self and f.id in ("setattr", "delattr", "hasattr")):
                f._called_ok = True
                if const and node.args and self.dotted(node.args[0]):
                    self.refuse(node, "a library's attributes by name: write them out instead")
        if (
            isinstance(f, ast.Attribute)
            and f.attr in ("format", "format_map")
            and not (isinstance(f.value, ast.Constant) and isinstance(f.value.value, str))
        ):
            self.refuse(node, "str.format on a computed format string (use an f-string)")
        if isinstance(f, ast.Name) and f.id == "type" and len(node.args) == 3:
            self.refuse(node, "classes built at run time with type(name, bases, dict)")
        self.generic_visit(node)

    def visit_MatchClass(self, node: ast.MatchClass):
        "case C(attr=...) reads attributes by name, as getattr does."
        for attr in node.kwd_attrs:
            if (
                attr in FRAME_ATTRS
                or attr in MODULE_NAMES
                or (_dunder(attr) and attr not in DUNDER_OK)
            ):
                self.refuse(node, f"a pattern that reads the attribute {attr}", f"{attr}=")
        self.generic_visit(node)

    # definitions
    def visit_FunctionDef(self, node):
        args = node.args.posonlyargs + node.args.args
        self.selfs.append(args[0].arg if args else "")
        assigned = {
            t.id
            for n in ast.walk(node)
            if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.NamedExpr))
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
            if isinstance(t, ast.Name)
        }
        if self.selfs[-1] in assigned:
            self.selfs[-1] = ""  # a rebound `self` is not the object any more
        self.generic_visit(node)
        self.selfs.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef):
        for kw in node.keywords:
            self.refuse(node, "class keywords such as metaclass= are not allowed", f"{kw.arg}=")
        if self.bases:
            for b in node.bases:
                d = self.dotted(b)
                plain = isinstance(b, ast.Name) and b.id in self.local_classes | {"object"}
                if (d and _under(d, self.bases)) or not (plain or d):
                    self.refuse(b, f"this exercise is written without {', '.join(self.bases)}")
        self.local_classes.add(node.name)
        self.generic_visit(node)

    # data hidden in literals
    def visit_Constant(self, node: ast.Constant):
        v = node.value
        if isinstance(v, (str, bytes)) and len(v) > MAX_LITERAL_CHARS:
            self.refuse(node, f"a literal over {MAX_LITERAL_CHARS} characters is data", "literal")
        elif isinstance(v, str) and FORMAT_INTROSPECTION.search(v):
            self.refuse(node, "a format string that reaches into objects' attributes")
        elif isinstance(v, (int, float, complex)) and not isinstance(v, bool):
            self.numbers += 1


def _class_attr(parts: list[str]) -> bool:
    "torch.nn.Linear.parameters: an attribute of a library's class, not the class itself."
    k = next((i for i, p in enumerate(parts) if p[:1].isupper()), None)
    return k is not None and k < len(parts) - 1


def _dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def violations(
    source: str, setup: str = "", policy: Policy | None = None, exercise: str = ""
) -> list[Violation]:
    "What this cell does that the policy refuses; empty for a cell that may run."
    policy = policy or Policy()
    if (parsed := parse(source, setup)) is None:
        return []
    tree, names = parsed
    checker = _Checker(policy, names, dict(policy.no_bases).get(exercise, ()))
    try:
        checker.visit(tree)
    except RecursionError:
        checker.refuse(ast.Pass(lineno=1), "the cell is nested too deeply to check", "cell")
    if checker.numbers > MAX_NUMBERS:
        why = f"over {MAX_NUMBERS} numbers in one cell is data"
        checker.refuse(ast.Pass(lineno=1), why, "numbers")
    seen, out = set(), []
    for v in checker.found:
        if (v.line, v.why) not in seen:
            seen.add((v.line, v.why))
            out.append(v)
    return out


def message(gid: str, found: list[Violation], policy: Policy) -> str:
    "What the student reads: every refused construct with its line, and what is allowed."
    lines = "\n".join(f"  {v}" for v in found[:10])
    more = f"\n  ... and {len(found) - 10} more" if len(found) > 10 else ""
    return (
        f"cell {gid!r} was not run: it uses constructs graded cells may not use\n{lines}{more}\n"
        f"Graded cells may import {policy.allowed_text()}, and use plain attribute access "
        "(no getattr with computed names, eval/exec, introspection, threads, files or embedded "
        "data). Rewrite those lines; this exercise scores 0 until then, the others are not "
        "affected"
    )


def apply(sub, a) -> None:
    "Refuse the cells of a Submission that break its assignment's policy (before anything runs)."
    policy = getattr(a, "policy", None) or Policy()
    for gid, src in sub.cells.items():
        if gid in sub.cell_problems:
            continue
        found = violations(src, sub.setup, policy, gid)
        if found:
            sub.cell_problems[gid] = message(gid, found, policy)
