#!/usr/bin/env bash
# Set up (the test toolchain too), lint (ruff), type-check (mypy), build the docs strictly (MkDocs), then run the whole test suite against the embedded replica with real Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export SE_OFFLINE=true
.venv/bin/python -m ruff check aura_browser tests scripts
.venv/bin/python -m mypy
# A broken link or a page left out of mkdocs.yml fails here (never with -q: it hides what --strict counts).
NO_MKDOCS_2_WARNING=1 .venv/bin/python -m mkdocs build --strict --site-dir "$(mktemp -d)"
.venv/bin/python -m pytest tests "$@"
