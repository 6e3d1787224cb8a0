"""`aura-browser doctor`'s checks: the browser, the drivers, the profile, the site, and which transports work now.

Each check is one row: ok, warning, failed or skipped, with a fix where there is one. A failed
row carries the exit code `ask` would end with for the same problem; the first failed row's
code is doctor's exit code, so 0 means nothing that is needed is failing (warnings allowed).
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..drivers.base import LaunchOptions
from ..drivers.browser_path import find_chromium
from ..drivers.remote import REMOTE_KINDS
from ..errors import (
    AuraError,
    Blocked,
    BrowserError,
    NotThisApp,
    ProfileError,
    SiteError,
    exit_code_for,
)
from ..profile import Profile, ProfileStore
from ..redaction import redact_url
from ..wire.page import PageKind
from .probe import SiteProbe, SiteUnderTest
from .problems import describe, problem_of

OK, WARNING, FAILED, SKIPPED = "ok", "warning", "failed", "skipped"


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""
    exit_code: int = 0  # of a failed row: what `ask` would exit with for the same problem
    data: dict[str, Any] = field(default_factory=dict)  # machine-readable facts for --json; never a secret


def failed(name: str, error: AuraError, **data: Any) -> Check:
    problem = problem_of(error)
    return Check(name, FAILED, f"{problem.title}: {error}", problem.fix, exit_code_for(error),
                 {"problem": problem.name.lower(), **data})


@dataclass
class Diagnosis:
    base_url: str
    profile: str
    checks: list[Check]

    @property
    def exit_code(self) -> int:
        return next((check.exit_code for check in self.checks if check.status == FAILED), 0)

    def to_dict(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "profile": self.profile, "exit_code": self.exit_code,
                "checks": [asdict(check) for check in self.checks]}


# --- the machine: browser and drivers -----------------------------------------------------------


def program_version(path: str) -> str | None:
    """The first line a program prints for --version, or None when it does not answer."""
    try:
        result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        return None
    return re.sub(r"\s*\(.*\)$", "", lines[0].strip())  # "ChromeDriver 1.2.3.4 (hash-refs/...)": the build is noise


def _major(version: str | None) -> str | None:
    match = re.search(r"(\d+)\.\d+", version or "")
    return match.group(1) if match else None


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def remote_browser(options: LaunchOptions) -> tuple[str, str] | None:
    """(option, endpoint with any password hidden) of the remote browser in use, if one is."""
    for kind in REMOTE_KINDS:
        endpoint = getattr(options, kind.field)
        if endpoint:
            return kind.option, redact_url(endpoint)
    return None


def check_browser(options: LaunchOptions) -> tuple[Check, str | None]:
    """The browser row, and the browser's version line when it has one."""
    remote = remote_browser(options)
    if remote is not None:
        option, endpoint = remote
        return Check("browser", OK, f"a remote browser ({option} {endpoint}); the in-page row tries it",
                     data={"remote": option, "endpoint": endpoint}), None
    try:
        path = find_chromium(options.executable)
    except BrowserError as exc:
        return failed("browser", exc), None
    version = program_version(path)
    if version is None:
        return Check("browser", WARNING, f"{path}: '--version' did not answer", "check that it starts: "
                     f"{path} --headless=new --dump-dom about:blank", data={"path": path}), None
    return Check("browser", OK, f"{path} ({version})", data={"path": path, "version": version}), version


def check_drivers(driver: str, browser_version: str | None, remote: bool = False) -> list[Check]:
    """Rows for the Playwright and Selenium packages and chromedriver (which a remote browser does not need)."""
    rows = []
    for package, needed_by in (("playwright", "playwright"), ("selenium", "selenium")):
        version = _package_version(package)
        if version:
            rows.append(Check(package, OK, f"{package} {version}", data={"version": version}))
        elif driver == needed_by:
            rows.append(Check(package, FAILED, "not installed, and --driver needs it", f"pip install {package}",
                              exit_code_for(BrowserError())))
        else:
            rows.append(Check(package, WARNING, "not installed (only --driver " + needed_by + " needs it)",
                              f"pip install {package}"))
    rows.append(_check_chromedriver("" if remote else driver, browser_version))
    return rows


def _check_chromedriver(driver: str, browser_version: str | None) -> Check:
    install = "apt-get install chromium-driver (the one that matches the browser)"
    path = shutil.which("chromedriver")
    if path is None:
        if driver == "selenium":
            return Check("chromedriver", FAILED, "not on PATH, and --driver selenium needs it", install,
                         exit_code_for(BrowserError()))
        return Check("chromedriver", WARNING, "not on PATH (only --driver selenium needs it)", install)
    version = program_version(path)
    data = {"path": path, "version": version}
    if version is None:
        return Check("chromedriver", WARNING, f"{path}: '--version' did not answer", install, data=data)
    if browser_version and _major(version) != _major(browser_version):
        return Check("chromedriver", WARNING, f"{path} ({version}) does not match the browser ({browser_version})",
                     install, data=data)
    return Check("chromedriver", OK, f"{path} ({version})", data=data)


# --- the profile ------------------------------------------------------------------------------


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def load_profile(store: ProfileStore, name: str) -> tuple[Profile | None, ProfileError | None]:
    try:
        return store.load(name), None
    except ProfileError as exc:
        return None, exc


def check_profile(site: SiteUnderTest, store: ProfileStore, since: float, now: float | None = None) -> list[Check]:
    """Rows for the profile as it is now: where, how old, its gate cookie, its user agent, its proxy."""
    now = time.time() if now is None else now
    path = str(store.path(site.profile))
    profile, error = load_profile(store, site.profile)
    if error is not None:
        return [failed("profile", error, path=path)]
    if profile is None:
        return [Check("profile", WARNING, f"no profile {site.profile!r} in {store.directory}",
                      f"aura-browser login --base-url {site.base_url} (ask also logs in by itself)", data={"path": path})]
    usability = site.usability(profile, now)
    if usability.site:
        return [Check("profile", FAILED, f"{path} was {usability.site}",
                      "choose another --profile, or log in with --profile NAME", 3, {"path": path})]
    summary = profile.summary(now)
    fresh = " (by this doctor run)" if profile.captured_at >= since else ""
    rows = [Check("profile", OK, f"{path}, captured {_span(now - profile.captured_at)} ago{fresh}",
                  data={"path": path, "captured_at": summary["captured_at"], "age_seconds": summary["age_seconds"],
                        "cookies": summary["cookies"]})]
    expires = profile.gate_expires_at
    gate_data = {"gate_cookie": summary["gate_cookie"], "gate_expires_at": summary["gate_expires_at"]}
    if expires is None:
        rows.append(Check("gate cookie", OK, "none: the site set no gate cookie", data=gate_data))
    elif usability.gate:
        rows.append(Check("gate cookie", WARNING, f"{summary['gate_cookie']} expired {_span(now - expires)} ago "
                          f"({summary['gate_expires_at']})", "the next ask logs in again by itself; or: aura-browser "
                          f"login --base-url {site.base_url}", data=gate_data))
    else:
        rows.append(Check("gate cookie", OK, f"{summary['gate_cookie']} expires in {_span(expires - now)} "
                          f"({summary['gate_expires_at']})", data=gate_data))
    agent_ok = "HeadlessChrome" not in profile.user_agent
    rows.append(Check("user agent", OK if agent_ok else WARNING, profile.user_agent,
                      "" if agent_ok else "log in again: gates block HeadlessChrome user agents",
                      data={"user_agent": profile.user_agent}))
    proxy = redact_url(profile.proxy) if profile.proxy else None
    if usability.proxy:  # ask would not use this profile: its gate cookie is bound to the other proxy's address
        rows.append(Check("proxy", WARNING, usability.proxy, "the next ask logs in again through this proxy by "
                          f"itself; or: aura-browser login --base-url {site.base_url} --proxy URL",
                          data={"proxy": proxy, "usable": False}))
    else:
        rows.append(Check("proxy", OK, proxy or "none", data={"proxy": proxy}))
    return rows


# --- the site ---------------------------------------------------------------------------------


def check_site(stranger: SiteProbe, insider: SiteProbe | None = None,
               in_page: list[str] | AuraError | None = None) -> list[Check]:
    """Rows for the site: reachable, gate, deployment, app, /api/models.

    `stranger` was probed without cookies; `insider`, when there is a profile, with the profile's;
    `in_page` is what /api/models answered inside the browser page, asked when plain HTTP is gated.
    """
    if stranger.failure is not None or stranger.page is None:
        assert stranger.failure is not None
        return [failed("site reachable", stranger.failure)]
    page = stranger.page
    rows = [Check("site reachable", OK, f"GET {page.url} answered {page.status} in {stranger.page_ms:g} ms",
                  data={"status": page.status, "ms": stranger.page_ms})]
    rows.append(_check_gate(stranger, insider))
    best = insider if insider is not None and insider.reachable and not insider.gated else stranger
    disabled = best.disabled
    if disabled is not None:
        rows.append(failed("site deployment", disabled))
        return rows
    rows.append(Check("site deployment", OK, "not disabled"))
    not_app = best.not_this_app or (in_page if isinstance(in_page, NotThisApp) else None)
    if not_app is not None:
        rows.append(failed("site app", not_app))
    elif best.models is not None or isinstance(in_page, list):
        rows.append(Check("site app", OK, "OpenChat UI: /api/models answers a model list"))
    elif _upstream_fails(best):
        rows.append(Check("site app", OK, "OpenChat UI: its page answers (its model upstream fails, see api/models)"))
    else:
        rows.append(Check("site app", SKIPPED, "not told over plain HTTP: the gate answered for it; "
                          "the transport rows try it with a browser's help"))
    rows.append(_check_models(best, in_page))
    return rows


def _check_gate(stranger: SiteProbe, insider: SiteProbe | None) -> Check:
    if not stranger.gated:
        return Check("site gate", OK, "no challenge for plain HTTP", data={"challenged": False})
    assert stranger.page_kind is not None
    seen = f"a {stranger.page_kind.value} page for clients without cookies"
    data = {"challenged": True}
    if insider is not None and insider.failure is not None:
        return Check("site gate", WARNING, f"{seen}; with the profile: {describe(insider.failure)}",
                     problem_of(insider.failure).fix, data=data)
    if insider is None:
        return Check("site gate", OK, f"{seen}: a browser login passes it", data=data)
    if insider.gated:
        return Check("site gate", WARNING, f"{seen}, and even with the profile's cookies: the gate checks "
                     "TLS fingerprints, or the cookie is stale",
                     "nothing to do: transport auto logs in again, then streams from inside the page", data=data)
    return Check("site gate", OK, f"{seen}; the profile's cookies pass it", data=data)


def _check_models(probe: SiteProbe, in_page: list[str] | AuraError | None) -> Check:
    if isinstance(in_page, list):
        return Check("api/models", OK, f"{', '.join(in_page)} (asked from inside the page: plain HTTP is gated)",
                     data={"models": in_page, "asked_in_page": True})
    if isinstance(in_page, AuraError):
        return failed("api/models", in_page)
    if probe.models:
        names = ", ".join(f"{m['id']} ({m.get('name', m['id'])})" for m in probe.models)
        return Check("api/models", OK, names, data={"models": probe.model_ids()})
    error = probe.models_error
    if error is None or probe.gated and isinstance(error, Blocked):
        return Check("api/models", SKIPPED, "behind the gate for plain HTTP")
    if _upstream_fails(probe):
        row = failed("api/models", error)
        row.detail = f"the app answers, but its model upstream fails: {error}"
        row.fix = "the site's owner must fix the app's model upstream (its API or key); asks fail until then"
        return row
    return failed("api/models", error)


def _upstream_fails(probe: SiteProbe) -> bool:
    """The app's own page answered, and /api/models a 5xx: the app is there, what is behind it is not."""
    error = probe.models_error
    return (probe.page_kind is PageKind.APP and isinstance(error, SiteError) and not isinstance(error, NotThisApp)
            and error.status >= 500)


# --- the transports ---------------------------------------------------------------------------


async def check_transport(site: SiteUnderTest, store: ProfileStore, transport: str) -> Check:
    """A real short ask over one transport (the profile is logged in first when it is not usable)."""
    name = f"transport {'in-page' if transport == 'page' else transport}"
    before = usable_profile(site, store)
    try:
        text, stats = await site.ask(transport)
    except AuraError as exc:
        return failed(name, exc)
    after = usable_profile(site, store)
    logged_in = after is not None and (before is None or after.captured_at != before.captured_at)
    ttfb = round(stats.ttfb * 1000) if stats.ttfb is not None else None
    elapsed = round(stats.elapsed * 1000) if stats.elapsed is not None else None
    shown = text.strip().replace("\n", " ")
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    login = ", a login included" if logged_in else ""
    return Check(name, OK, f"replied {shown!r} (first byte {ttfb} ms, total {elapsed} ms{login})",
                 data={"ttfb_ms": ttfb, "elapsed_ms": elapsed, "chars": len(text), "logged_in": logged_in})


def _settle_transports(direct: Check, impersonate: Check, page: Check) -> None:
    """One working transport is enough for `auto`: the failure of another one is then a warning."""
    rows = (direct, impersonate, page)
    working = next((row for row in rows if row.status == OK), None)
    if working is None:
        return
    for row in rows:
        if row.status != FAILED:
            continue
        row.status, row.exit_code = WARNING, 0
        if row is direct and working is impersonate:
            row.fix = "nothing to do: transport auto goes on with impersonate (Chrome's TLS fingerprint, no browser)"
        elif row is direct:
            row.fix = "nothing to do: transport auto streams from inside the page (slower to start)"
        else:
            row.fix = f"auto does not need it while {working.name.removeprefix('transport ')} works; " + row.fix


def usable_profile(site: SiteUnderTest, store: ProfileStore) -> Profile | None:
    profile, _ = load_profile(store, site.profile)
    return profile if profile is not None and site.usability(profile).ok else None


async def check_transports(site: SiteUnderTest, store: ProfileStore, stranger: SiteProbe, browser: Check,
                           in_page: bool) -> list[Check]:
    """The direct, impersonate and in-page rows: a real short ask each, unless the site probe already failed."""
    if stranger.fatal() is not None:
        return [Check(f"transport {name}", SKIPPED, "not tried: the site probe failed")
                for name in ("direct", "impersonate", "in-page")]
    direct = await check_transport(site, store, "direct")
    if direct.status == FAILED and usable_profile(site, store) is None:
        impersonate = Check("transport impersonate", FAILED, "not tried: it needs the login that failed for direct: "
                            + direct.detail, direct.fix, direct.exit_code, direct.data)
    else:
        impersonate = await check_transport(site, store, "impersonate")
    if not in_page:
        page = Check("transport in-page", SKIPPED, "skipped (--skip-in-page)")
    elif browser.status == FAILED:
        page = Check("transport in-page", SKIPPED, "not tried: no browser")
    elif direct.status == FAILED and usable_profile(site, store) is None:
        page = Check("transport in-page", FAILED, "not tried: it needs the login that failed for direct: "
                     + direct.detail, direct.fix, direct.exit_code, direct.data)
    else:
        page = await check_transport(site, store, "page")
    _settle_transports(direct, impersonate, page)
    return [direct, impersonate, page]


async def _models_in_page(site: SiteUnderTest, profile: Profile) -> list[str] | AuraError:
    try:
        return await site.list_models(profile)
    except AuraError as exc:
        return exc


async def diagnose(site: SiteUnderTest, *, in_page: bool = True) -> Diagnosis:
    """Every check, in table order. `in_page=False` skips what needs a browser page after login."""
    started = time.time()
    store = site.settings.store()
    launch_options = site.settings.launch_options()
    browser, browser_version = check_browser(launch_options)
    stranger = await site.probe(None)
    transports = await check_transports(site, store, stranger, browser, in_page)
    # Probed again with the profile as it is now (the transport checks may have logged in); when plain
    # HTTP is still gated, /api/models is asked from inside the page.
    profile = usable_profile(site, store)
    insider = await site.probe(profile) if profile is not None and stranger.fatal() is None else None
    in_page_models = None
    if profile is not None and insider is not None and insider.gated and in_page and browser.status != FAILED:
        in_page_models = await _models_in_page(site, profile)
    checks = [browser, *check_drivers(site.settings.chosen_driver(), browser_version, remote_browser(launch_options) is not None), *check_profile(site, store, started),
              *check_site(stranger, insider, in_page_models), *transports]
    return Diagnosis(site.base_url, site.profile, checks)
