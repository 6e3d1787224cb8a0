#!/usr/bin/env bash
# Set up, lint (ruff), type-check (mypy --strict, configured in pyproject.toml), then run the whole test suite against
# the embedded replica with real Chromium.
#   scripts/test.sh --fast [PYTEST ARGS]   no set-up, and only the tests that need no browser and no subprocess
#                                          (the tiers: tests/support/tiers.py); under a minute
#   scripts/test.sh [PYTEST ARGS]          everything (CI): the browser, subprocess and slow tiers too
set -euo pipefail
cd "$(dirname "$0")/.."
fast=0
if [[ "${1:-}" == "--fast" ]]; then
    fast=1
    shift
else
    bash scripts/setup.sh
fi
export SE_OFFLINE=true
.venv/bin/python -m ruff check aura_browser tests scripts
.venv/bin/python -m mypy
if (( fast )); then
    .venv/bin/python -m pytest tests -m "not browser and not subprocess and not slow" "$@"
else
    .venv/bin/python -m pytest tests "$@"
fi
