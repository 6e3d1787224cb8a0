#!/usr/bin/env bash
# Set up, then run the whole test suite against the embedded replica with real headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SE_OFFLINE=true
.venv/bin/python -m pytest tests "$@"
