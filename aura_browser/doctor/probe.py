"""Checking a site: a plain-HTTP probe (reachable, gated, disabled, this app, /api/models), then live checks.

`aura-browser doctor` and the pytest plugin's live smoke suite both run these. The probe sends
what the direct transport sends (the profile's cookies, user agent and headers, through its
proxy), so a challenge it meets with a profile is one the direct transport meets too. The live
checks (`SiteUnderTest`) log in, load the page in a browser, list the models and ask over a
chosen transport.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, AsyncIterator

from .. import drivers
from ..client import AuraClient
from ..drivers.base import BrowserSession, normal_user_agent
from ..errors import AuraError, Blocked, LoginRequired, NotThisApp, Redirected, SiteError
from ..origin import join, normalise_base_url, origin_of
from ..profile import Profile, Usability
from ..settings import Settings, SettingsAttribute
from ..transports.base import StreamStats, Timeouts
from ..transports.direct import DirectTransport, PlainReply
from ..wire.api import MODELS_PATH, encode_body, parse_model_list
from ..wire.page import PageKind, classify_reply
from ..wire.replies import error_for_reply

SHORT_PROMPT = "Reply with one word: ok"


@dataclass
class SiteProbe:
    """What GET / and POST api/models answered; each failure is kept as the error it would raise."""

    base_url: str
    with_profile: bool  # sent with a profile's cookies, or as a stranger
    failure: AuraError | None = None  # the page could not be fetched at all (DNS, refused, TLS, timeout)
    page: PlainReply | None = None
    page_kind: PageKind | None = None
    page_ms: float | None = None
    models: list[dict[str, Any]] | None = None  # the model list, when /api/models answered one
    models_reply: PlainReply | None = None
    models_error: AuraError | None = None  # blocked, not this app, or an error reply

    @property
    def reachable(self) -> bool:
        return self.failure is None

    @property
    def gated(self) -> bool:
        """A challenge or block page stood in front of the page."""
        return self.page_kind in (PageKind.CHALLENGE, PageKind.BLOCKED)

    @property
    def disabled(self) -> AuraError | None:
        if self.page is None or self.page_kind is not PageKind.DISABLED:
            return None
        return _error_for(self.page)

    @property
    def not_this_app(self) -> NotThisApp | None:
        return self.models_error if isinstance(self.models_error, NotThisApp) else None

    def fatal(self) -> AuraError | None:
        """What fails every check on every transport: unreachable, disabled, or not this app."""
        return self.failure or self.disabled or self.not_this_app

    def model_ids(self) -> list[str]:
        return [m["id"] for m in self.models or []]


def _error_for(reply: PlainReply) -> AuraError:
    return error_for_reply(reply.url, reply.status, reply.reason, reply.headers, reply.text)


def read_models(reply: PlainReply) -> tuple[list[dict[str, Any]] | None, AuraError | None]:
    """The model list in an /api/models reply, or the error that reply stands for."""
    if reply.status == 200 and "text/html" not in reply.headers.get("content-type", ""):
        data = parse_model_list(reply.text)
        if data is not None:
            return data, (None if data else SiteError(200, "", f"{reply.url} lists no model"))
    error = _error_for(reply)
    if isinstance(error, NotThisApp) and not isinstance(error, Redirected):
        # 404, 405, an HTML page, or 200 with something that is not a model list
        error = NotThisApp(reply.status, "", f"{reply.url} is not OpenChat UI's model list")
    return None, error


async def probe_site(
    base_url: str,
    profile: Profile | None = None,
    *,
    proxy: str | None = None,
    insecure: bool = False,
    timeout: float = 20.0,
) -> SiteProbe:
    """GET / and POST api/models, with `profile` when it belongs to this site, else as a browser stranger."""
    base_url = normalise_base_url(base_url)
    own = profile is not None and profile.origin == origin_of(base_url)
    sender = profile if own and profile is not None else Profile(base_url, normal_user_agent(""), proxy=proxy)
    probe = SiteProbe(base_url, with_profile=own)
    transport = DirectTransport(timeouts=Timeouts(connect=timeout, first_byte=timeout), insecure=insecure)
    try:
        started = time.perf_counter()
        try:
            probe.page = await transport.fetch(sender, "GET", "")
        except AuraError as exc:
            probe.failure = exc
            return probe
        probe.page_ms = round((time.perf_counter() - started) * 1000, 1)
        probe.page_kind = classify_reply(probe.page.status, probe.page.headers, probe.page.text)
        if probe.page_kind is PageKind.DISABLED:
            return probe
        try:
            probe.models_reply = await transport.fetch(sender, "POST", MODELS_PATH, encode_body({"key": sender.api_key}))
        except AuraError as exc:
            probe.models_error = exc
            return probe
        probe.models, probe.models_error = read_models(probe.models_reply)
        return probe
    finally:
        await transport.aclose()


@dataclass(frozen=True)
class SiteUnderTest:
    """A site, a profile and the rest of the `Settings` that reach it, with the checks the smoke suite and doctor
    run. Each check opens and closes what it needs; only those that ask the site make a client."""

    settings: Settings
    base_url = SettingsAttribute[str]()
    profile = SettingsAttribute[str]("profile_name")

    def for_replica(self, profile_dir: Path) -> SiteUnderTest:
        """These settings for an embedded replica: its own profile folder, no proxy, its self-signed TLS accepted."""
        insecure = self.base_url.startswith("https:")
        return replace(self, settings=self.settings.replace(profile_dir=profile_dir, proxy=None, insecure=insecure))

    def client(self, **options: Any) -> AuraClient:
        """A client on these settings, changed by `options` (e.g. `transport="page"`). Close it."""
        return AuraClient(settings=self.settings.replace(**options))

    def usability(self, profile: Profile, now: float | None = None) -> Usability:
        """Whether `ask` with these settings would use `profile` as it is (else it logs in first), and why not."""
        return profile.usable_for(self.settings.origin, self.settings.proxy, now)

    async def logged_in_profile(self) -> Profile:
        """The saved profile when it is usable for this site, else a fresh headless login."""
        profile = self.settings.store().load(self.profile)
        if profile is not None:
            usability = self.usability(profile)
            if usability.site:
                raise LoginRequired(f"profile {self.profile!r} was {usability.site}; use another profile name")
            if usability.ok:
                return profile
        async with self.client() as client:
            return await client.login()

    async def probe(self, profile: Profile | None = None) -> SiteProbe:
        settings = self.settings
        return await probe_site(self.base_url, profile, proxy=settings.proxy, insecure=settings.insecure,
                                timeout=min(30.0, settings.timeouts.first_byte))

    @contextlib.asynccontextmanager
    async def browser_on(self, profile: Profile) -> AsyncIterator[BrowserSession]:
        """A fresh browser on the site with the profile, past its gate (or raising why not); closed after."""
        settings = self.settings
        session = drivers.new_session(settings.chosen_driver(), settings.base_url, settings.launch_options())
        try:
            await session.open(profile)
            yield session
        finally:
            await session.close()

    async def load_page(self, profile: Profile) -> None:
        """Open the site in a fresh browser with the profile; the gate must let it through to the app."""
        async with self.browser_on(profile):
            pass

    async def list_models(self, profile: Profile) -> list[str]:
        """The model ids /api/models lists: over plain HTTP, or from inside the page when that is blocked."""
        probe = await self.probe(profile)
        error = probe.fatal() or probe.models_error
        if isinstance(error, Blocked):
            async with self.browser_on(profile) as session:
                status, text = await session.fetch_models(profile.api_key)
            models, error = read_models(PlainReply(join(probe.base_url, MODELS_PATH), status, "", {}, text))
            probe.models = models
        if error is not None:
            raise error
        return probe.model_ids()

    async def fetch(self, profile: Profile, method: str, path: str, data: bytes | None = None) -> PlainReply:
        """One plain-HTTP request with the profile, as the direct transport sends it; the start of its reply."""
        transport = DirectTransport(timeouts=self.settings.timeouts, insecure=self.settings.insecure)
        try:
            return await transport.fetch(profile, method, path, data)
        finally:
            await transport.aclose()

    async def ask(self, transport: str) -> tuple[str, StreamStats]:
        """A short prompt's whole reply over one transport, with its stats."""
        async with self.client(transport=transport) as client:
            text = await client.ask(SHORT_PROMPT)
            if not text.strip():
                raise SiteError(200, "", "the reply was empty")
            return text, client.last_stats
