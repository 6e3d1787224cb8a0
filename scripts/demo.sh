#!/usr/bin/env bash
# Set up what the demo needs, then run it: login through a JS challenge, a direct answer, one over impersonate.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo
echo "demo: running aura-browser demo"
.venv/bin/aura-browser demo "$@"
