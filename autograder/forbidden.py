"""Built-in shortcuts an exercise may not use, found in its source (AST, through aliases)."""

from __future__ import annotations

import ast

SOFTMAX = [
    "torch.softmax",
    "torch.nn.functional.softmax",
    "torch.Tensor.softmax",
    "torch.special.softmax",
    "torch.nn.Softmax",
]
LOGSUMEXP = ["torch.logsumexp", "torch.Tensor.logsumexp", "torch.special.logsumexp"]
LOG_SOFTMAX = [
    "torch.log_softmax",
    "torch.nn.functional.log_softmax",
    "torch.Tensor.log_softmax",
    "torch.special.log_softmax",
    "torch.nn.LogSoftmax",
]
LOSSES = [
    "torch.nn.functional.nll_loss",
    "torch.nn.functional.cross_entropy",
    "torch.nn.NLLLoss",
    "torch.nn.CrossEntropyLoss",
]
DATA = ["torch.utils.data"]
# the doors behind the public functions: aten ops, the C bindings, switching the monitor off
BACKDOORS = [
    "torch.ops",
    "torch._C",
    "torch._VF",
    "torch.nn.functional._VF",
    "torch._refs",
    "torch._decomp",
    "torch.overrides",
]

# exercise id -> dotted prefixes its cell must not reach
FORBIDDEN: dict[str, list[str]] = {
    "softmax": SOFTMAX + LOG_SOFTMAX + BACKDOORS,
    "logsumexp": LOGSUMEXP + BACKDOORS,
    "log_softmax": LOG_SOFTMAX + LOGSUMEXP + SOFTMAX + BACKDOORS,
    "nll": LOSSES + BACKDOORS,
    "optimizer": ["torch.optim"],
    "dataset": DATA,
    "sampler": DATA,
    "batch_sampler": DATA,
    "collate": ["torch.utils.data"],
    "dataloader": DATA,
}
FUNCS = {"softmax", "log_softmax", "logsumexp", "nll_loss", "cross_entropy", "SGD"}
# tensor methods that are shortcuts whatever the object: x.softmax(1), x.logsumexp(1)
METHODS = {
    "softmax": {"softmax", "log_softmax"},
    "logsumexp": {"logsumexp"},
    "log_softmax": {"log_softmax", "logsumexp", "softmax"},
}


# the aten operators those functions end in: watched below torch functions, so no alias, getattr
# or DisableTorchFunction hides them
ATEN = {
    "softmax": ["aten._softmax", "aten._log_softmax"],
    "logsumexp": ["aten.logsumexp"],
    "log_softmax": ["aten._log_softmax", "aten.logsumexp", "aten._softmax"],
    "nll": ["aten.nll_loss_forward", "aten.nll_loss2d_forward", "aten.nll_loss_nd"],
}


def runtime_names(exercise: str) -> list[str]:
    "The torch functions and aten operators the worker watches while this exercise's code runs."
    names = [n for n in FORBIDDEN.get(exercise, []) if n not in BACKDOORS and n.count(".") >= 1]
    return names + ATEN.get(exercise, [])


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
        tree = ast.parse(source)
        names = aliases(ast.parse(setup)) if setup else {"torch": "torch"}
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # the cell's own syntax error is reported where it is run
    return tree, aliases(tree, names)


def shortcuts(exercise: str, source: str, setup: str = "") -> list[str]:
    "The forbidden names this cell uses, with line numbers; empty when it does its own work."
    banned = FORBIDDEN.get(exercise, [])
    methods = METHODS.get(exercise, set())
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
        elif isinstance(node, ast.Call):  # getattr(torch, "softmax") and friends
            words = methods | (FUNCS & {b.rsplit(".", 1)[-1] for b in banned})
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
