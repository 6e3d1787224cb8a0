"""`AuraClient`: profile in, text out, over whichever transport gets through.

auto: log in when there is no usable profile; go direct; when blocked, try impersonate (Chrome's TLS
fingerprint, still no browser); when that is blocked too, refresh the profile once and climb again;
when still blocked, stream from inside the browser page. The profile remembers for a while which
tier got through, so the next calls start there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Literal, Mapping

from .wire.api import (
    APP_SYSTEM_PROMPT, DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_TEMPERATURE, MODELS_PATH, as_messages, build_body,
    encode_body, model_ids, parse_model_list,
)
from .drivers.adopt import adopt_browser
from .drivers.base import BrowserSession, LaunchOptions
from .drivers.display import choose_mode
from .drivers.remote import driver_for
from .environment import DEFAULT_BASE_URL
from .errors import AuraError, Blocked, ClientClosed, InvalidRequest, LoginRequired, WrongEventLoop
from .origin import origin_of, redact_url
from .profile import Profile
from .settings import Settings, default_options
from .wire.tokens import check_fits
from .transports.base import StreamStats, Timeouts
from .transports.direct import DirectTransport
from .transports.impersonate import ImpersonateTransport
from .transports.page import PageTransport

log = logging.getLogger("aura_browser")

# How long a profile remembers that direct requests were blocked.
DIRECT_BLOCKED_FOR = 15 * 60.0

TransportName = Literal["auto", "direct", "impersonate", "page"]
# The tiers `auto` climbs, cheapest first; the last one needs a browser.
TIERS = ("direct", "impersonate", "page")
DriverName = Literal["playwright", "selenium"]


def open_browser_session(driver: str, base_url: str, options: LaunchOptions) -> BrowserSession:
    if driver == "playwright":
        from .drivers.playwright import PlaywrightSession

        return PlaywrightSession(base_url, options)
    if driver == "selenium":
        if options.remote_webdriver:
            from .drivers.selenium import SeleniumSession

            return SeleniumSession(base_url, options)
        from .drivers.selenium_local import LocalSeleniumSession

        return LocalSeleniumSession(base_url, options)
    raise InvalidRequest(f"unknown driver {driver!r}; use playwright or selenium")


class AuraClient:
    """Chat with one OpenChat UI deployment through a saved browser profile.

    ```python
    async with AuraClient(base_url="https://openchat.team") as client:
        async for chunk in client.stream([{"role": "user", "content": "Hi"}]):
            print(chunk, end="")
    ```
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        profile: str = "default",
        profile_dir: str | Path | None = None,
        transport: TransportName = "auto",
        driver: DriverName = "playwright",
        browser: str | None = None,
        proxy: str | None = None,
        insecure: bool = False,
        headless: bool | None = None,
        timeouts: Timeouts | None = None,
        login_timeout: float = 120.0,
        webdriver: Any = None,
        browser_ws: str | None = None,
        cdp_url: str | None = None,
        remote_webdriver: str | None = None,
        settings: Settings | None = None,
    ) -> None:
        """The options are `Settings`' (see there). With `settings=`, the options given here change those settings;
        an option left at its default keeps the settings' value."""
        given: dict[str, Any] = {
            "base_url": base_url, "profile": profile, "profile_dir": profile_dir, "transport": transport,
            "driver": driver, "browser": browser, "proxy": proxy, "insecure": insecure, "headless": headless,
            "timeouts": timeouts, "login_timeout": login_timeout, "browser_ws": browser_ws, "cdp_url": cdp_url,
            "remote_webdriver": remote_webdriver,
        }
        defaults = default_options()
        changes = {name: value for name, value in given.items() if value is not None and value != defaults[name]}
        self.settings = settings.replace(**changes) if settings is not None else Settings(**changes)
        settings = self.settings
        self.base_url = settings.base_url
        self.profile_name = settings.profile
        self.store = settings.store()
        self.transport = settings.transport
        self.proxy = settings.proxy
        self.insecure = settings.insecure
        self.timeouts = settings.timeouts
        self.launch_options = settings.launch_options()
        driver = settings.driver
        self.driver = driver_for(driver, self.launch_options)  # a remote browser decides which driver speaks to it
        self.last_stats = StreamStats()
        self._profile: Profile | None = None
        self._direct: DirectTransport | None = None
        self._impersonate: ImpersonateTransport | None = None
        # `webdriver`: a browser the caller already has open (Playwright Page, Selenium WebDriver).
        # Logins and the in-page fallback then run in it, and closing the client leaves it open.
        self._browser: BrowserSession | None = (
            adopt_browser(webdriver, self.base_url, self.launch_options) if webdriver is not None else None
        )
        self._browser_has_profile = False
        self._refresh_lock = asyncio.Lock()
        self._browser_lock = asyncio.Lock()
        # The profile a block made us switch to, until a direct reply with it succeeds. If direct is blocked
        # with it too, the block is not about the cookie (a TLS fingerprint gate): another login would not help.
        self._refreshed_for_block: Profile | None = None
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None  # the one its sessions, locks and browser belong to

    def _check_loop(self) -> None:
        """Bind the client to the event loop of its first use, and refuse any other (another thread has another)."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise WrongEventLoop("this AuraClient is bound to the event loop (and thread) it first ran in; "
                                 "make one client per event loop, e.g. inside the asyncio.run() that uses it")

    async def __aenter__(self) -> "AuraClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- profile ---------------------------------------------------------------------------

    @property
    def profile(self) -> Profile | None:
        """The profile in use, once one has been loaded or captured."""
        return self._profile

    def _usable(self, profile: Profile | None) -> bool:
        if profile is None:
            return False
        usability = profile.usable_for(origin_of(self.base_url), self.proxy)
        if not usability.ok:
            log.info("profile %r is not usable as it is: %s", self.profile_name, usability.reason)
        return usability.ok

    def _load(self) -> Profile | None:
        profile = self.store.load(self.profile_name)
        wrong_site = profile.usable_for(origin_of(self.base_url)).site if profile is not None else ""
        if wrong_site:
            raise LoginRequired(f"profile {self.profile_name!r} was {wrong_site}; "
                                f"run: aura-browser login --base-url {self.base_url} --profile NAME")
        if profile is not None:
            # One origin, another path (a sub-path deployment): requests go where the user said.
            # The cookies still follow their own paths (Profile.cookies_for).
            profile.base_url = self.base_url
        return profile

    async def _current_profile(self) -> Profile:
        if self._profile is None:
            self._profile = self._load()
        if not self._usable(self._profile):
            return await self._refresh(self._profile)
        assert self._profile is not None
        return self._profile

    async def login(self) -> Profile:
        """Open the site in a fresh browser context, pass its gate, and save what it learned."""
        self._check_loop()
        async with self._refresh_lock:
            async with self.store.lock(self.profile_name, timeout=self.launch_options.timeout + 60):
                return await self._capture_and_save()

    async def _refresh(self, stale: Profile | None) -> Profile:
        """Replace a stale profile once, however many callers (tasks or processes) found it stale."""
        async with self._refresh_lock:
            if self._profile is not stale and self._usable(self._profile):
                assert self._profile is not None
                return self._profile
            async with self.store.lock(self.profile_name, timeout=self.launch_options.timeout + 60):
                on_disk = self._load()
                newer = on_disk is not None and (stale is None or on_disk.captured_at > stale.captured_at)
                if newer and self._usable(on_disk):
                    log.info("using the profile another process just refreshed")
                    self._profile = on_disk
                    return on_disk  # type: ignore[return-value]
                return await self._capture_and_save()

    async def _capture_and_save(self) -> Profile:
        log.info("logging in to %s (%s, %s)", self.base_url, self.driver, choose_mode(self.launch_options.headless).describe())
        async with self._browser_lock:
            session = self._browser_session()
            await session.open(None)
            profile = await session.capture()
        previous = self._profile or self._saved_or_none()
        if previous is not None:
            profile.keep_local_storage(previous)  # the page's apiKey and conversations outlive a new login
        if previous is not None and previous.direct_blocked_until and previous.user_agent == profile.user_agent:
            profile.direct_blocked_until = previous.direct_blocked_until
            profile.transport_tier = previous.transport_tier
        path = self.store.save(self.profile_name, profile)
        log.info("saved profile %r to %s (proxy %s)", self.profile_name, path, redact_url(profile.proxy) if profile.proxy else "none")
        self._profile = profile
        self._browser_has_profile = True
        for replay in (self._direct, self._impersonate):
            if replay is not None:
                replay.profile = profile
        return profile

    def _saved_or_none(self) -> Profile | None:
        """The profile on disk, if there is a readable one for this site (a login replaces a broken one)."""
        try:
            return self._load()
        except LoginRequired:
            return None

    def _browser_session(self) -> BrowserSession:
        if self._browser is None:
            self._browser = open_browser_session(self.driver, self.base_url, self.launch_options)
        return self._browser

    async def _page_transport(self, profile: Profile) -> PageTransport:
        async with self._browser_lock:
            session = self._browser_session()
            await session.version()  # starts the browser: its version decides whether the profile fits it
            fits = self._browser_has_profile or session.fits(profile)
        if not fits:
            log.info("the profile was captured with browser %s, this one is %s; logging in fresh",
                     profile.browser_version or "?", session.browser_version)
            profile = await self._refresh(profile)
        async with self._browser_lock:  # concurrent streams share one browser, opened once
            session = self._browser_session()
            if not self._browser_has_profile:
                await session.open(profile)
                self._browser_has_profile = True
        return PageTransport(session, timeouts=self.timeouts)

    def _remember_tier(self, profile: Profile, tier: str) -> None:
        """Direct was blocked and `tier` got through: the next calls start there, for a while."""
        if tier == "direct" or (profile.direct_is_blocked() and profile.transport_tier == tier):
            return
        profile.direct_blocked_until = time.time() + DIRECT_BLOCKED_FOR
        profile.transport_tier = tier
        self.store.save(self.profile_name, profile)

    # --- chat ------------------------------------------------------------------------------

    async def stream(
        self,
        messages: Iterable[Mapping[str, Any]],
        *,
        model: str = DEFAULT_MODEL,
        temperature: float | None = DEFAULT_TEMPERATURE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        stats: StreamStats | None = None,
    ) -> AsyncIterator[str]:
        """Yield the reply's text as it arrives.

        The transport and timings go to `stats` when given (one object per call, for concurrent
        streams on one client), and to `last_stats` either way.
        """
        if self._closed:
            raise ClientClosed("this AuraClient is closed")
        self._check_loop()
        # Built (and so checked) before any login: bad input must not cost a browser start.
        body = build_body(messages, model=model, temperature=temperature, max_tokens=max_tokens)
        fit = check_fits(body, APP_SYSTEM_PROMPT)  # the app would drop a question that does not fit, silently
        stats = self.last_stats = stats if stats is not None else StreamStats()
        stats.trimmed_messages, stats.estimated_tokens = fit.dropped, fit.used_tokens
        if fit.dropped:
            log.warning("the app will leave out the %d oldest message(s): the conversation does not fit its "
                        "tokenLimit %d (--max-tokens)", fit.dropped, fit.token_limit)
        started = time.perf_counter()
        profile = await self._current_profile()

        def body_for(current: Profile) -> dict[str, Any]:
            return {**body, "key": current.api_key}

        tiers = [self.transport] if self.transport != "auto" else list(TIERS[TIERS.index(profile.start_tier()):])
        refreshed = False
        index = 0
        while tiers[index] != "page":
            tier = tiers[index]
            replay = self._replay_transport(tier, profile)
            # A replay transport is shared by concurrent streams, so remember which profile this attempt sent:
            # a stream blocked with an old profile must not refresh the one another stream just captured.
            sent = replay.profile
            try:
                async for text in self._timed(replay.stream(body_for(sent)), stats, tier, started):
                    yield text
                if sent is self._refreshed_for_block:
                    self._refreshed_for_block = None
                if self.transport == "auto":
                    self._remember_tier(sent, tier)
                return
            except Blocked as blocked:  # raised before any text, never after
                reason = blocked
            profile = sent
            if index + 1 < len(tiers) and tiers[index + 1] != "page":
                log.info("%s request blocked (%s); trying %s", tier, reason, tiers[index + 1])
                index += 1  # a cheaper step than a login: the block may be about the TLS fingerprint only
            elif not refreshed and sent is not self._refreshed_for_block:
                log.info("%s request blocked (%s); refreshing the profile once", tier, reason)
                profile = self._refreshed_for_block = await self._refresh(sent)
                refreshed, index = True, 0
            elif self.transport != "auto":
                raise Blocked(f"{reason} even with a fresh profile; try --transport page") from None
            else:
                log.info("still blocked; streaming from inside the browser page")
                index += 1
        page = await self._page_transport(profile)
        async for text in self._timed(page.stream(body_for(profile), stats), stats, "page", started):
            yield text
        if self.transport == "auto":
            self._remember_tier(profile, "page")

    def _replay_transport(self, tier: str, profile: Profile) -> DirectTransport | ImpersonateTransport:
        if tier == "impersonate":
            if self._impersonate is None:
                self._impersonate = ImpersonateTransport(profile, timeouts=self.timeouts, insecure=self.insecure)
            replay: DirectTransport | ImpersonateTransport = self._impersonate
        else:
            if self._direct is None:
                self._direct = DirectTransport(profile, timeouts=self.timeouts, insecure=self.insecure)
            replay = self._direct
        replay.profile = profile
        return replay

    @staticmethod
    async def _timed(chunks: AsyncIterator[str], stats: StreamStats, transport: str, started: float) -> AsyncIterator[str]:
        stats.transport = transport
        try:
            async for text in chunks:
                if stats.ttfb is None:
                    stats.ttfb = time.perf_counter() - started
                yield text
        finally:
            stats.elapsed = time.perf_counter() - started
            await chunks.aclose()  # type: ignore[attr-defined]

    async def ask(
        self,
        prompt: str | Iterable[Mapping[str, Any]],
        *,
        system: str | None = None,
        model: str = DEFAULT_MODEL,
        temperature: float | None = DEFAULT_TEMPERATURE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
    ) -> str:
        """The whole reply as one string. `prompt` is a string, or a list of messages.

        `system` is prepended as a system message, to a list too; the app joins all system messages,
        this one first, into its system prompt.
        """
        messages: list[Mapping[str, Any]] = as_messages(prompt, system) if isinstance(prompt, str) else list(prompt)
        if system and not isinstance(prompt, str):
            messages.insert(0, {"role": "system", "content": system})
        parts = [text async for text in self.stream(messages, model=model, temperature=temperature, max_tokens=max_tokens)]
        return "".join(parts)

    async def models(self) -> list[str]:
        """The site's model ids: its /api/models asked now over plain HTTP with the profile (and kept in it),
        else the list the profile kept from an earlier look, else the static list. Never logs in."""
        profile = self._profile or self._saved_or_none()
        if profile is None or not self._usable(profile):
            return model_ids(profile.models if profile else None)
        transport = DirectTransport(profile, timeouts=self.timeouts, insecure=self.insecure)
        try:
            reply = await transport.fetch("POST", MODELS_PATH, encode_body({"key": profile.api_key}))
            listed = parse_model_list(reply.text) if reply.status == 200 else None
        except AuraError as exc:  # gated, down: the list kept from before will do
            log.info("no model list from the site: %s", exc)
            listed = None
        finally:
            await transport.aclose()
        if listed and listed != profile.models:
            profile.models = listed
            self.store.save(self.profile_name, profile)
        return model_ids(profile.models)

    async def close(self) -> None:
        """Close the HTTP session and any browser this client started. Safe to call twice."""
        if self._direct is not None or self._browser is not None:
            self._check_loop()  # they can only be closed on their own loop
        self._closed = True
        replays = [replay for replay in (self._direct, self._impersonate) if replay is not None]
        browser = self._browser
        self._direct = self._impersonate = self._browser = None
        try:
            for replay in replays:
                await replay.aclose()
        finally:
            if browser is not None:
                await browser.close()
