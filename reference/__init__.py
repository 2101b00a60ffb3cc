"""Our from-scratch answers, one module per assignment (`reference.minibatch`): what the grader
compares against. Trusted code: only the parent imports it; the worker cannot see it."""
