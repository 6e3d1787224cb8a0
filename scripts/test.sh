#!/usr/bin/env bash
# Set up (the test toolchain too), lint (ruff), type-check (mypy --strict, configured in pyproject.toml), build the
# docs strictly (MkDocs), then run the whole test suite against the embedded replica with real Chromium.
#   scripts/test.sh --fast [PYTEST ARGS]   no set-up and no docs build: ruff, mypy and only the tests that need no
#                                          browser and no subprocess (the tiers: tests/support/tiers.py); under a minute
#   scripts/test.sh [PYTEST ARGS]          everything (CI): the browser, subprocess and slow tiers too
set -euo pipefail
cd "$(dirname "$0")/.."
fast=0
if [[ "${1:-}" == "--fast" ]]; then
    fast=1
    shift
else
    bash scripts/setup.sh test
fi
export SE_OFFLINE=true
.venv/bin/python -m ruff check aura_browser tests scripts
.venv/bin/python -m mypy
if (( fast )); then
    .venv/bin/python -m pytest tests -m "not browser and not subprocess and not slow" "$@"
else
    # A broken link or a page left out of mkdocs.yml fails here (never with -q: it hides what --strict counts).
    NO_MKDOCS_2_WARNING=1 .venv/bin/python -m mkdocs build --strict --site-dir "$(mktemp -d)"
    .venv/bin/python -m pytest tests "$@"
fi
