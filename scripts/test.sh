#!/usr/bin/env bash
# Set up, lint (ruff), type-check (mypy), then run the whole test suite against the embedded replica with real Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SE_OFFLINE=true
.venv/bin/python -m ruff check aura_browser tests scripts
.venv/bin/python -m mypy
.venv/bin/python -m pytest tests "$@"
