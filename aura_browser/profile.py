"""`Profile`, what a browser learned about a site, and `ProfileStore`, where profiles live on disk.

A profile file is JSON. Its `storage_state` member is Playwright's storage-state format as is,
so `browser.new_context(storage_state=profile.storage_state)` loads it.
Files are written atomically, 0600, in a 0700 folder, and refreshed under a file lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import functools
import json
import math
import os
import re
import shlex
import stat
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterator, Mapping, NamedTuple, TypeVar
from urllib.parse import urlsplit

from .errors import InvalidRequest, ProfileBusy, ProfileError, named
from .origin import origin_of
from .profile_schema import SchemaError, check_profile_data
from .redaction import redact_url

FORMAT = "aura-browser-profile"
FORMAT_VERSION = 1
GATE_COOKIES = ("cf_clearance",)
# A cookie this close to expiry is treated as expired: a long stream should not outlive it.
EXPIRY_MARGIN = 30.0
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # fullmatch: "$" would let a final newline in


class Usability(NamedTuple):
    """Whether a profile can be used as it is, and if not, what is wrong: one line per part, "" when it is fine.

    Not usable means `ask` logs in again first, except for another site: that profile is never replaced.
    """

    site: str = ""
    proxy: str = ""
    gate: str = ""

    @property
    def ok(self) -> bool:
        return not (self.site or self.proxy or self.gate)

    @property
    def reason(self) -> str:
        return "; ".join(part for part in (self.site, self.proxy, self.gate) if part) or "usable"


USABLE = Usability()


@dataclass
class Profile:
    base_url: str
    user_agent: str
    headers: dict[str, str] = field(default_factory=dict)
    # The names of every header the browser sent (Host, Cookie... too), its case, in its wire order.
    # Empty in a profile saved before it was recorded: replays then use Chromium's order.
    header_order: list[str] = field(default_factory=list)
    storage_state: dict[str, Any] = field(default_factory=lambda: {"cookies": [], "origins": []})
    proxy: str | None = None
    driver: str = "playwright"
    browser_version: str = ""
    captured_at: float = field(default_factory=time.time)
    gate_expires_at: float | None = None
    direct_blocked_until: float | None = None
    models: list[dict[str, str]] | None = None  # the site's /api/models list, as of the last look
    # While direct is blocked: the tier of `auto` that got through ("impersonate" or "page"); None is "page",
    # what a profile from before the impersonate transport remembered.
    transport_tier: str | None = None

    @property
    def origin(self) -> str:
        return origin_of(self.base_url)

    @property
    def cookies(self) -> list[dict[str, Any]]:
        cookies: list[dict[str, Any]] = self.storage_state.get("cookies", [])
        return cookies

    def local_storage(self) -> dict[str, str]:
        for entry in self.storage_state.get("origins", []):
            if entry.get("origin") == self.origin:
                return {item["name"]: item["value"] for item in entry.get("localStorage", [])}
        return {}

    def keep_local_storage(self, previous: "Profile") -> None:
        """Carry this site's localStorage over from an earlier capture; the earlier values win.

        A new login starts from an empty browser context, but what the user keeps in the page (its
        apiKey, conversations, settings) is theirs, not the gate's, and must outlive a refresh.
        """
        if previous.origin != self.origin:
            return
        kept = previous.local_storage()
        if not kept:
            return
        origins = self.storage_state.setdefault("origins", [])
        entry = next((e for e in origins if e.get("origin") == self.origin), None)
        if entry is None:
            entry = {"origin": self.origin, "localStorage": []}
            origins.append(entry)
        fresh = {item["name"]: item["value"] for item in entry.get("localStorage", [])}
        entry["localStorage"] = [{"name": k, "value": v} for k, v in {**fresh, **kept}.items()]

    @property
    def api_key(self) -> str:
        """The page's `apiKey` from localStorage: what the page sends as the body's `key`."""
        if not self.storage_state.get("origins"):  # nothing kept (asked before every request)
            return ""
        value = self.local_storage().get("apiKey", "")
        if not value:  # the usual case; json.loads("") would raise
            return value
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):  # (a loaded profile's was checked: profile_schema)
            return value
        return decoded if isinstance(decoded, str) else value

    def cookies_for(self, url: str, now: float | None = None) -> dict[str, str]:
        """The cookies a browser would send to `url`; none at all for another origin."""
        cookies = self.cookies
        if not cookies or origin_of(url) != self.origin:
            return {}
        now = time.time() if now is None else now
        scheme, host, path = _cookie_target(url)
        chosen: dict[str, str] = {}
        for cookie in cookies:
            if not cookie_domain_matches(cookie, host):
                continue
            if not path.startswith(cookie.get("path", "/") or "/"):
                continue
            if cookie.get("secure") and scheme != "https":
                continue
            expires = cookie.get("expires", -1)
            if expires not in (-1, None) and expires <= now:
                continue
            chosen[cookie["name"]] = cookie["value"]
        return chosen

    def gate_cookie_names(self) -> list[str]:
        return [c["name"] for c in self.cookies if c["name"] in GATE_COOKIES]

    def is_expired(self, now: float | None = None) -> bool:
        if self.gate_expires_at is None:
            return False
        now = time.time() if now is None else now
        return self.expires_at() <= now

    def expires_at(self) -> float:
        """When the gate's cookie is to be treated as expired (time.time()); inf for a profile without one."""
        return math.inf if self.gate_expires_at is None else self.gate_expires_at - EXPIRY_MARGIN

    def usable_for(self, origin: str, proxy: str | None = None, now: float | None = None) -> Usability:
        """Whether this profile can be used as it is for `origin` (or any URL on it) through `proxy`, and if not, why.

        `proxy=None` takes the profile's own proxy. Another proxy makes it unusable: the gate's cookie
        is bound to the address it was issued to.
        """
        now = time.time() if now is None else now
        origin = origin_of(origin)
        same_site, wrong_proxy = self.origin == origin, proxy is not None and self.proxy != proxy
        if same_site and not wrong_proxy and not self.is_expired(now):
            return USABLE  # asked before every request: the answer that needs no words is made once
        site = "" if same_site else f"captured for {self.origin}, not {origin}"
        through = f"captured {_through(self.proxy)}, not {_through(proxy)}" if wrong_proxy else ""
        gate = ""
        if self.is_expired(now):
            assert self.gate_expires_at is not None
            name = ", ".join(self.gate_cookie_names()) or "gate cookie"
            when = "expired" if self.gate_expires_at <= now else f"expires within {EXPIRY_MARGIN:g} s,"
            gate = f"its gate cookie ({name}) {when} at {_iso(self.gate_expires_at)}"
        return Usability(site, through, gate)

    def direct_is_blocked(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.direct_blocked_until is not None and self.direct_blocked_until > now

    def start_tier(self, now: float | None = None) -> str:
        """Where `auto` starts: direct, unless it was blocked lately; then the tier that got through."""
        if not self.direct_is_blocked(now):
            return "direct"
        return self.transport_tier if self.transport_tier in ("impersonate", "page") else "page"

    def to_json(self) -> str:
        data = {"format": FORMAT, "version": FORMAT_VERSION, **asdict(self)}
        return json.dumps(data, indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, path: str = "<profile>") -> "Profile":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProfileError(path, f"not valid JSON ({exc.msg} at line {exc.lineno}); delete it and log in again") from None
        except RecursionError:
            raise ProfileError(path, "damaged (nested too deeply to read); log in again to replace it") from None
        except ValueError:  # the one ValueError json raises that is no JSONDecodeError: Python's int digit limit
            raise ProfileError(path, f"damaged (a number longer than {sys.get_int_max_str_digits()} digits); "
                                     "log in again to replace it") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ProfileError(path, "not an aura-browser profile")
        if data.get("version") != FORMAT_VERSION:
            raise ProfileError(path, f"profile format version {data.get('version')!r} is not supported; log in again")
        try:
            check_profile_data(data)
        except SchemaError as exc:
            raise ProfileError(path, f"damaged ({exc}); log in again to replace it") from None
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def summary(self, now: float | None = None) -> dict[str, Any]:
        """What `profiles show` prints: everything useful, no cookie value, token or password."""
        now = time.time() if now is None else now
        return {
            "base_url": redact_url(self.base_url),
            "user_agent": self.user_agent,
            "proxy": redact_url(self.proxy) if self.proxy else None,
            "driver": self.driver,
            "browser_version": self.browser_version,
            "captured_at": _iso(self.captured_at),
            "age_seconds": round(now - self.captured_at),
            "gate_cookie": ", ".join(self.gate_cookie_names()) or None,
            "gate_expires_at": _iso(self.gate_expires_at) if self.gate_expires_at else None,
            "expired": self.is_expired(now),
            "cookies": sorted(c["name"] for c in self.cookies),
            "headers": sorted(self.headers),
            "local_storage_keys": sorted(self.local_storage()),
            "direct_blocked_until": _iso(self.direct_blocked_until) if self.direct_is_blocked(now) else None,
            "starts_with": self.start_tier(now),
        }


def _through(proxy: str | None) -> str:
    return f"through {redact_url(proxy)}" if proxy else "without a proxy"


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def default_profile_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("aura-browser")) / "profiles"


@functools.lru_cache(maxsize=64)  # asked before every request, of the same few URLs
def _cookie_target(url: str) -> tuple[str, str, str]:
    """(scheme, host in lower case, path) of a URL, as a cookie's rules read them."""
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.path or "/"


def cookie_domain_matches(cookie: Mapping[str, Any], host: str) -> bool:
    """Whether a browser sends `cookie` to `host`: its domain is the host or one of the host's parents."""
    domain = str(cookie.get("domain", "")).lower().lstrip(".")
    host = host.lower()
    return host == domain or host.endswith("." + domain)


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A new private (0600) file beside `path` to write; renamed over `path` once written, removed on failure.

    The rename replaces whatever is at `path`, a symbolic link included, instead of writing through it.
    """
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        os.close(fd)
        yield Path(temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def check_private(path: Path, status: os.stat_result, fix: str) -> None:
    """Refuse a profile file or folder that another user owns, or that group or others may write.

    Whoever can write it can point the profile's proxy or base URL at their own server, and read every prompt.
    """
    if status.st_uid not in (os.geteuid(), 0):
        raise ProfileError(str(path), f"is owned by another user (uid {status.st_uid}); only your own profiles are "
                                      f"used: delete it, or use another {named('profile_dir')}")
    writers = " and ".join(who for who, bit in (("group", stat.S_IWGRP), ("others", stat.S_IWOTH))
                           if status.st_mode & bit)
    if writers:
        raise ProfileError(str(path), f"is writable by {writers}, so anyone there could change it; "
                                      f"if it is as you left it, run: {fix} {shlex.quote(str(path))}")


def check_closed(path: Path, status: os.stat_result) -> None:
    """Refuse a folder that group or others may open: its profiles would be saved where others can list them."""
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077:
        raise ProfileError(str(path), f"is open to other users (mode {mode:04o}), and profiles hold the session's "
                                      "cookies; it is left as it is: choose a folder only you can open "
                                      f"(chmod 700 {shlex.quote(str(path))}), or a --profile-dir that does not exist yet")


DEFAULT_NAME = "default"  # before profiles were per site, the one profile every site shared


def site_profile_name(origin: str) -> str:
    """The profile of a site when no --profile is given: `default-HOST[-PORT][-http]`, one file per origin.

    `https://openchat.team` -> `default-openchat.team`; `http://127.0.0.1:8765` -> `default-127.0.0.1-8765-http`.
    """
    parts = urlsplit(origin)
    name = f"{DEFAULT_NAME}-{(parts.hostname or 'site').strip('[]')}"
    if parts.port is not None:
        name += f"-{parts.port}"
    if parts.scheme != "https":
        name += f"-{parts.scheme}"
    name = re.sub(r"[^A-Za-z0-9._-]", "-", name)
    if len(name) > 64:  # a very long host name: keep it recognisable, and unique by a digest of the origin
        import hashlib

        name = f"{name[:55]}-{hashlib.sha256(origin.encode()).hexdigest()[:8]}"
    return name


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidRequest(f"profile name {name!r} must be letters, digits, '.', '_' or '-' (at most 64)")
    return name


Method = TypeVar("Method", bound=Callable[..., Any])


def _reports_unwritable_folder(method: Method) -> Method:
    """An OSError from writing in the profile folder (read-only, full) is a ProfileError that names the folder."""

    @functools.wraps(method)
    def wrapper(self: ProfileStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except OSError as exc:
            raise ProfileError(str(self.directory), f"cannot write in this folder ({exc.strerror or exc}); "
                               f"free some space, make it writable, or choose another {named('profile_dir')}") from None

    return wrapper  # type: ignore[return-value]


class ProfileStore:
    """Named profiles in one folder: `<dir>/<name>.json`."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory else default_profile_dir()

    def path(self, name: str) -> Path:
        return self.directory / f"{check_name(name)}.json"

    def screenshot_path(self, name: str) -> Path:
        return self.directory / f"{check_name(name)}.failed-login.png"

    @_reports_unwritable_folder
    def ensure_directory(self) -> Path:
        """The folder, made 0700 when it does not exist. A folder that exists is never changed (`--profile-dir
        /tmp` or `.` must not lock others out of it): one that is not private is refused, as ssh does."""
        try:
            self.directory.mkdir(mode=0o700)
            created = True
        except FileNotFoundError:
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            self.directory.mkdir(mode=0o700)
            created = True
        except FileExistsError:
            created = False
        # Through a descriptor of the folder itself: a check or chmod on a path could be sent elsewhere by a link.
        directory_fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            status = os.fstat(directory_fd)
            if created and status.st_uid == os.geteuid():
                os.fchmod(directory_fd, 0o700)  # whatever the umask took away or left
            else:
                check_private(self.directory, status, "chmod 700")
                check_closed(self.directory, status)
        finally:
            os.close(directory_fd)
        return self.directory

    def load(self, name: str) -> Profile | None:
        """The saved profile, or None. Like ssh, it refuses a folder or file that someone else could have written."""
        path = self.path(name)
        try:
            with open(path, "rb") as handle:
                check_private(self.directory, os.stat(self.directory), "chmod 700")
                check_private(path, os.fstat(handle.fileno()), "chmod 600")
                text = handle.read().decode("utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(str(path), f"cannot be read ({exc.__class__.__name__})") from None
        return Profile.from_json(text, str(path))

    @_reports_unwritable_folder
    def save(self, name: str, profile: Profile) -> Path:
        """Write atomically: a crash leaves the old file or the new one, never half of one."""
        path = self.path(name)
        self.ensure_directory()
        with replacing(path) as temp:
            with open(temp, "w", encoding="utf-8") as handle:
                handle.write(profile.to_json())
                handle.flush()
                os.fsync(handle.fileno())
        directory_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)
        return path

    @_reports_unwritable_folder
    def delete(self, name: str) -> bool:
        """Delete a profile and its lock file, under that lock: never while a login or refresh holds it."""
        path = self.path(name)
        if not os.path.lexists(path):
            return False
        fd = self._take_lock(name)
        if fd is None:
            raise ProfileBusy(str(path), "is in use: another aura-browser process (a login or a refresh) holds "
                                          "its lock; delete it once that has finished")
        try:
            try:
                path.unlink()
            except FileNotFoundError:
                return False
            # Safe while we hold it: whoever opened this file before waits for it, then sees it gone (_take_lock).
            with contextlib.suppress(FileNotFoundError):
                self._lock_path(name).unlink()
            return True
        finally:
            os.close(fd)

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json") if _NAME.fullmatch(p.stem))

    def _lock_path(self, name: str) -> Path:
        return self.directory / f"{check_name(name)}.lock"

    @_reports_unwritable_folder
    def _take_lock(self, name: str) -> int | None:
        """The descriptor of `<name>.lock`, locked; None while another process holds it.

        The lock is on the file that is at the path now: one deleted (with its profile) while we waited
        for it would no longer keep anyone else out, so it is given up and the new one taken.
        """
        self.ensure_directory()
        lock_path = self._lock_path(name)
        while True:
            try:
                # O_NOFOLLOW: a link planted at NAME.lock must not make us create or open its target.
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                if exc.errno != errno.ELOOP:
                    raise  # the decorator reports a folder that cannot be written
                raise ProfileError(str(lock_path), "is a symbolic link; remove it") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            try:
                current = os.stat(lock_path, follow_symlinks=False).st_ino
            except FileNotFoundError:
                current = None
            if current == os.fstat(fd).st_ino:
                return fd
            os.close(fd)

    @contextlib.asynccontextmanager
    async def lock(self, name: str, timeout: float = 300.0) -> AsyncIterator[None]:
        """Hold `<name>.lock` so that only one process refreshes a profile at a time."""
        deadline = time.monotonic() + timeout
        delay = 0.01
        while (fd := self._take_lock(name)) is None:
            if time.monotonic() > deadline:
                raise ProfileBusy(str(self.path(name)), "another process held its lock too long")
            # flock has no async form, and a blocked flock in a thread cannot be cancelled.
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)
        try:
            yield
        finally:
            os.close(fd)
