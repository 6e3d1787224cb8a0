"""A private copy of chromedriver that leaves no `cdc_` globals in the pages it drives.

chromedriver registers a script for every new document that copies `Array`, `Object`, `Promise`, `Proxy`,
`Symbol`, `JSON` and `Window` to `window.cdc_adoQpoasnfa76pfcZLmcfl_*`: BotD's `selenium` verdict and
every gate that looks for `cdc_` globals. Its other scripts only read those names, falling back to the
real ones, so the block can be blanked out. As undetected-chromedriver and SeleniumBase's UC mode do,
we patch a copy (never the system's binary), cached per source binary, and blank it with spaces
(their `console.log(...)` replacement would itself be seen by a page that hooks the console).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

from ..errors import BrowserError

log = logging.getLogger("aura_browser.browser")

# The injected block, as it sits in the binary: {window.cdc_X_Array = window.Array;...;}
CDC_BLOCK = re.compile(rb"\{window\.cdc_[A-Za-z0-9]+_Array = window\.Array;.*?;\}", re.DOTALL)


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "aura-browser" / "chromedriver"


def blank_cdc_block(binary: bytes) -> bytes | None:
    """The binary with its cdc_ block turned into an empty one of the same length; None when not found."""
    match = CDC_BLOCK.search(binary)
    if match is None:
        return None
    block = match.group(0)
    return binary[: match.start()] + b"{" + b" " * (len(block) - 2) + b"}" + binary[match.end():]


def patched_chromedriver(source: str) -> str:
    """The path of a patched copy of `source`, made once per source binary (path, size and time).

    Falls back to `source` itself when its code has no cdc_ block to patch (a future chromedriver).
    """
    real = os.path.realpath(source)
    stat = os.stat(real)
    key = hashlib.sha256(f"{real}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    folder = cache_folder()
    target = folder / f"chromedriver-{key}"
    if os.access(target, os.X_OK):
        return str(target)
    patched = blank_cdc_block(Path(real).read_bytes())
    if patched is None:
        log.warning("%s has no cdc_ block to patch; pages can see its cdc_ globals", real)
        return source
    try:
        _write_executable(folder, target, patched)
    except OSError as exc:
        raise BrowserError(
            f"cannot write the patched chromedriver to {folder}: {exc.strerror or exc}; "
            "set XDG_CACHE_HOME to a writable folder"
        ) from None
    for stale in folder.glob("chromedriver-*"):  # copies of chromedrivers since upgraded (running ones keep going)
        if stale != target:
            with contextlib.suppress(OSError):
                stale.unlink()
    log.info("patched a copy of %s (no cdc_ globals) at %s", real, target)
    return str(target)



def _write_executable(folder: Path, target: Path, content: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written beside the target and renamed: a concurrent start sees no copy or the whole copy.
    descriptor, temporary = tempfile.mkstemp(prefix=".chromedriver-", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
        os.chmod(temporary, 0o700)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
