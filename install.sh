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
python3 -m venv .venv
# CPU torch first: a bare `torch` requirement would pull a multi-GB CUDA build
.venv/bin/pip install -q "${TORCH_SPEC:-torch==2.13.0}"
.venv/bin/pip install -q -e '.[dev]'
.venv/bin/autograder data
