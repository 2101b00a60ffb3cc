"""One lock over every parse in the trusted parent.

CPython 3.11's `ast.parse` keeps its recursion-depth count in shared state: two threads parsing
at once (a batch grading notebooks side by side, pytest rewriting a test file's asserts) can fail
with "SystemError: AST constructor recursion depth mismatch". Every parse here, and every pytest
run (autograder.runner), takes this lock; a run lets go of it only while its thread waits on its
own worker (`released`), so a batch's gradings overlap their workers' time, not their Python.
"""

from __future__ import annotations

import ast
import threading
from contextlib import contextmanager

LOCK = threading.RLock()


def parse(source: str) -> ast.Module:
    with LOCK:
        return ast.parse(source)


@contextmanager
def released():
    "Let other threads take LOCK while this one waits (on a pipe, not on shared state)."
    held = 0
    while LOCK._is_owned():
        LOCK.release()
        held += 1
    try:
        yield
    finally:
        for _ in range(held):
            LOCK.acquire()
