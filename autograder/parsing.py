"""One lock over every parse in the trusted parent.

CPython 3.11's `ast.parse` keeps its recursion-depth count in shared state: two threads parsing
at once (a batch grading notebooks side by side, pytest rewriting a test file's asserts) can fail
with "SystemError: AST constructor recursion depth mismatch". Every parse here, and every pytest
run (autograder.runner), takes this lock.
"""

from __future__ import annotations

import ast
import threading

LOCK = threading.RLock()


def parse(source: str) -> ast.Module:
    with LOCK:
        return ast.parse(source)
