#!/usr/bin/env bash
# Set up a fresh machine: a virtual environment with CPU torch, the kit, and the data the
# assignments declare (MNIST), fetched into the cache.
# TORCH_SPEC picks another torch (e.g. TORCH_SPEC=torch on a GPU machine for a CUDA build).
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" = 0 ] && ! command -v bwrap >/dev/null && command -v apt-get >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq bubblewrap) >/dev/null \
    || echo "note: bubblewrap not installed; workers run as plain processes" >&2
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
# Re-running on a set-up checkout leaves the environment alone (nothing is reinstalled under a
# running kit) unless pyproject.toml or TORCH_SPEC changed since the last install.
stamp=$( (cat pyproject.toml; echo "${TORCH_SPEC:-torch==2.13.0}") | sha256sum | cut -c1-16)
if [ "$(cat .venv/.installed 2>/dev/null)" != "$stamp" ] || ! .venv/bin/python -c 'import autograder, torch' 2>/dev/null; then
  # CPU torch first: a bare `torch` requirement would pull a multi-GB CUDA build. pip fetches
  # the torch file (the machine's pip settings pick it: a wheel on disk here), then uv installs
  # it and the rest in parallel (about 40 s, against pip's 2 minutes on these machines); where
  # uv cannot be had or fails, pip does it all.
  spec="${TORCH_SPEC:-torch==2.13.0}"
  rm -rf .venv/wheels
  { .venv/bin/pip install -q uv \
      && .venv/bin/pip download -q --no-deps -d .venv/wheels "$spec" \
      && .venv/bin/uv pip install -q --python .venv/bin/python --compile-bytecode \
           .venv/wheels/torch-*.whl -e '.[dev]'; } \
    || { echo "note: uv did not install the kit; pip does (slower)" >&2
         .venv/bin/pip install -q "$spec" && .venv/bin/pip install -q -e '.[dev]'; }
  rm -rf .venv/wheels
  echo "$stamp" > .venv/.installed
fi
.venv/bin/autograder data
