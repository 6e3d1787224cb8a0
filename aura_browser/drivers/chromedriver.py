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
import stat
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

    The copy is used only where nobody else could have put it: the cache folder and every folder above it
    must be ours (or root's) and writable by nobody else (a folder with the sticky bit, like /tmp, may be),
    as a planted chromedriver would run as us. A copy that is not our own private regular file, or that no
    longer matches the size and SHA-256 recorded beside it (truncated, changed), is made anew.
    Falls back to `source` itself when its code has no cdc_ block to patch (a future chromedriver).
    """
    real = os.path.realpath(source)
    source_status = os.stat(real)
    key = hashlib.sha256(f"{real}\0{source_status.st_size}\0{source_status.st_mtime_ns}".encode()).hexdigest()[:16]
    folder = cache_folder()
    target, digest_file = folder / f"chromedriver-{key}", folder / f"sha256-{key}"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        check_private_chain(folder)
        if _is_intact(target, digest_file):
            return str(target)
        patched = blank_cdc_block(Path(real).read_bytes())
        if patched is None:
            log.warning("%s has no cdc_ block to patch; pages can see its cdc_ globals", real)
            return source
        _write_private(folder, target, patched, 0o700)
        _write_private(folder, digest_file, f"{len(patched)} {hashlib.sha256(patched).hexdigest()}\n".encode(), 0o600)
    except OSError as exc:
        raise BrowserError(
            f"cannot write the patched chromedriver to {folder}: {exc.strerror or exc}; "
            "set XDG_CACHE_HOME to a writable folder"
        ) from None
    for stale in [*folder.glob("chromedriver-*"), *folder.glob("sha256-*")]:  # of chromedrivers since upgraded
        if stale not in (target, digest_file):  # (running ones keep going)
            with contextlib.suppress(OSError):
                stale.unlink()
    log.info("patched a copy of %s (no cdc_ globals) at %s", real, target)
    return str(target)


def check_private_chain(folder: Path) -> None:
    """Refuse a cache folder that another user could put a file in, or swap for one of their own."""
    me = os.geteuid()
    real = Path(os.path.realpath(folder))
    for current in (real, *real.parents):
        status = os.stat(current)
        if status.st_uid not in (me, 0):
            problem = f"is owned by another user (uid {status.st_uid})"
        elif status.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and (current == real or not status.st_mode & stat.S_ISVTX):
            problem = "is writable by " + " and ".join(
                who for who, bit in (("group", stat.S_IWGRP), ("others", stat.S_IWOTH)) if status.st_mode & bit)
        else:
            continue
        raise BrowserError(f"the chromedriver cache {folder} is not private: {current} {problem}, so a chromedriver "
                           "planted there would run as you; set XDG_CACHE_HOME to a folder only you can write")


def _is_intact(target: Path, digest_file: Path) -> bool:
    """The copy is our own private regular file, of the size and SHA-256 recorded when it was made."""
    try:
        status = os.lstat(target)
        with open(digest_file, "rb") as file:
            if not _ours_and_private(os.fstat(file.fileno())):
                return False
            size, _, digest = file.read(200).decode("ascii").strip().partition(" ")
        if not (_ours_and_private(status) and stat.S_ISREG(status.st_mode) and status.st_size == int(size)):
            return False
        with open(target, "rb", opener=_no_follow) as file:
            return hashlib.file_digest(file, "sha256").hexdigest() == digest
    except (OSError, ValueError):
        return False


def _ours_and_private(status: os.stat_result) -> bool:
    return status.st_uid == os.geteuid() and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)


def _write_private(folder: Path, target: Path, content: bytes, mode: int) -> None:
    # A private temp file beside the target, flushed to disk and renamed: a concurrent start (or a crash)
    # sees the old copy or the whole new one, never part of it.
    descriptor, temporary = tempfile.mkstemp(prefix=".chromedriver-", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
            os.fchmod(file.fileno(), mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
