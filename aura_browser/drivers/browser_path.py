"""Finding a Chromium to drive: the same search order as scripts/setup.sh."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

from ..errors import BrowserError, named

SYSTEM_CHROMIUM = "/usr/lib/chromium/chromium"  # Debian's binary; /usr/bin/chromium is a slow wrapper
PATH_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = (
    "install one with 'apt-get install chromium chromium-driver' (or 'python -m playwright install chromium'), "
    f"or point {named('browser')} or AURA_BROWSER at a Chromium binary"
)


def playwright_managed_chromium() -> str | None:
    root = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or str(Path.home() / ".cache" / "ms-playwright")
    candidates = sorted(glob.glob(os.path.join(root, "chromium-*", "chrome-linux*", "chrome")), reverse=True)
    return next((c for c in candidates if os.access(c, os.X_OK)), None)


def find_chromium(explicit: str | None = None) -> str:
    """The browser binary to launch: --browser/AURA_BROWSER, Playwright's own, then the system's."""
    if explicit:
        resolved = shutil.which(explicit) or explicit
        if not os.access(resolved, os.X_OK):
            raise BrowserError(f"browser {explicit!r} is not an executable file; {INSTALL_HINT}")
        return resolved
    found = playwright_managed_chromium()
    if found:
        return found
    if os.access(SYSTEM_CHROMIUM, os.X_OK):
        return SYSTEM_CHROMIUM
    for name in PATH_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserError(f"no Chromium found; {INSTALL_HINT}")


_VERSIONS: dict[str, str] = {}


def installed_version(executable: str) -> str:
    """`executable --version`'s version number ("156.0.8078.114"), before any browser is started; "" if unknown."""
    if executable not in _VERSIONS:
        import re
        import subprocess

        try:
            out = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        found = re.search(r"\d+(?:\.\d+){1,3}", out)
        _VERSIONS[executable] = found.group(0) if found else ""
    return _VERSIONS[executable]
