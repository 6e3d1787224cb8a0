#!/usr/bin/env bash
# Set up, then run the end-to-end demo: login through a JS challenge, a direct answer, an in-page answer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/aura-browser demo "$@"
