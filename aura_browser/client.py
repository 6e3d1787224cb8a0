"""`AuraClient`: profile in, text out, over whichever transport gets through.

auto: log in when there is no usable profile; go direct; when blocked, try impersonate (Chrome's TLS
fingerprint, still no browser); when that is blocked too, refresh the profile once and climb again;
when still blocked, stream from inside the browser page. The profile remembers for a while which
tier got through, so the next calls start there.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Iterable, Mapping

from . import progress
from .errors import AuraError, ClientClosed, InvalidRequest, LoginRequired, WrongEventLoop
from .option_values import TIERS, Timeouts, TransportName
from .origin import origin_of
from .profile import DEFAULT_NAME, USABLE, Profile
from .redaction import redact_url
from .settings import FROM_SETTINGS, SETTINGS_FIELDS, DriverName, FromSettings, Settings, SettingsAttribute
from .transports.base import StreamStats, Transport
from .transports.direct import DirectTransport
from .transports.fallback import Fallback
from .wire.api import APP_SYSTEM_PROMPT, MODELS_PATH, as_messages, build_body, encode_body, model_ids, parse_model_list
from .wire.tokens import check_fits

if TYPE_CHECKING:
    from .drivers.base import BrowserSession, LaunchOptions

log = logging.getLogger("aura_browser")

# How long a profile remembers that direct requests were blocked.
DIRECT_BLOCKED_FOR = 15 * 60.0


class _Tiers(dict[str, Transport]):
    """The transports of a client's tiers: the given ones, and each other one made when first asked for."""

    def __init__(self, make: Callable[[str], Transport], given: Mapping[str, Transport]) -> None:
        super().__init__(given)
        self._make = make

    def __missing__(self, tier: str) -> Transport:
        transport = self[tier] = self._make(tier)
        return transport


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
        base_url: str | FromSettings = FROM_SETTINGS,
        *,
        profile: str | None | FromSettings = FROM_SETTINGS,
        profile_dir: str | Path | None | FromSettings = FROM_SETTINGS,
        transport: TransportName | FromSettings = FROM_SETTINGS,
        driver: DriverName | FromSettings = FROM_SETTINGS,
        browser: str | None | FromSettings = FROM_SETTINGS,
        proxy: str | None | FromSettings = FROM_SETTINGS,
        insecure: bool | FromSettings = FROM_SETTINGS,
        headless: bool | None | FromSettings = FROM_SETTINGS,
        timeouts: Timeouts | None | FromSettings = FROM_SETTINGS,
        login_timeout: float | FromSettings = FROM_SETTINGS,
        max_reply_bytes: int | FromSettings = FROM_SETTINGS,
        webdriver: Any = None,
        browser_ws: str | None | FromSettings = FROM_SETTINGS,
        cdp_url: str | None | FromSettings = FROM_SETTINGS,
        remote_webdriver: str | None | FromSettings = FROM_SETTINGS,
        remote_capabilities: Mapping[str, Any] | FromSettings = FROM_SETTINGS,
        remote_idle_timeout: float | FromSettings = FROM_SETTINGS,
        model: str | FromSettings = FROM_SETTINGS,
        temperature: float | None | FromSettings = FROM_SETTINGS,
        max_tokens: int | FromSettings = FROM_SETTINGS,
        send_anyway: bool | FromSettings = FROM_SETTINGS,
        impersonate: str | None | FromSettings = FROM_SETTINGS,
        settings: Settings | None = None,
        transports: Mapping[str, Transport] | None = None,
    ) -> None:
        """The options are `Settings`' (see there, for their defaults). An option given here, whatever its value,
        changes `settings=` (or Settings' default); one not given keeps it. `timeouts=None` is the default Timeouts.

        `transports`: tiers ("direct", "impersonate", "page") to send with instead of the ones the client makes, as
        httpx's `transport=`: any object that implements `transports.base.Transport`. The client closes them."""
        # The keywords that are Settings fields (tests/test_option_table.py holds the two lists equal).
        keywords = locals()  # the arguments of this call: no other name is bound yet
        changes = {name: keywords[name] for name in SETTINGS_FIELDS if keywords[name] is not FROM_SETTINGS}
        if "timeouts" in changes and changes["timeouts"] is None:
            changes["timeouts"] = Timeouts()
        self.settings = settings.replace(**changes) if settings is not None else Settings(**changes)
        if self.settings.transport in ("auto", "impersonate") and self.settings.impersonate:
            from .transports.impersonate import check_target

            check_target(self.settings.impersonate)  # a mistaken target fails here, before a login costs a browser
        self.store = self.settings.store()
        # A remote browser decides which driver speaks to it.
        self.driver = self.settings.chosen_driver()
        unknown = set(transports or ()) - set(TIERS)
        if unknown:
            raise InvalidRequest(f"transports: unknown tiers {sorted(unknown)}; the tiers are {', '.join(TIERS)}")
        self._given_transports = dict(transports or {})
        self.last_stats = StreamStats()
        self._profile: Profile | None = None
        self._usable_profile: Profile | None = None  # the profile last found usable, and until when (time.time())
        self._usable_until = 0.0
        self._transports: dict[str, Transport] = {}  # each tier made when the policy first needs it
        self._fallback: Fallback | None = None
        # `webdriver`: a browser the caller already has open (Playwright Page, Selenium WebDriver).
        # Logins and the in-page fallback then run in it, and closing the client leaves it open.
        self._browser: BrowserSession | None = None
        if webdriver is not None:
            from .drivers import adopt  # (a client without a browser imports no driver module)

            self._browser = adopt(webdriver, self.base_url, self.launch_options)
        self._adopted = webdriver is not None
        self._browser_has_profile = False
        self._refresh_lock = asyncio.Lock()
        self._browser_lock = asyncio.Lock()
        self._closed = False
        self._idle_timer: asyncio.TimerHandle | None = None  # lets an unused remote browser go (release_idle_browser)
        self._loop: asyncio.AbstractEventLoop | None = None  # the one its sessions, locks and browser belong to

    @functools.cached_property
    def launch_options(self) -> LaunchOptions:
        """How this client's browser starts (made when first needed: a direct ask never imports the drivers)."""
        return self.settings.launch_options()

    # What the settings say, read from them so that the two cannot disagree.
    base_url = SettingsAttribute[str]()
    profile_name = SettingsAttribute[str]()
    transport = SettingsAttribute[TransportName]()
    proxy = SettingsAttribute[str | None]()
    insecure = SettingsAttribute[bool]()
    timeouts = SettingsAttribute[Timeouts]()

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
        if usability is USABLE:
            # Until its gate's cookie runs out: the next requests need not ask (AuraClient.stream).
            self._usable_profile, self._usable_until = profile, profile.expires_at()
            return True
        if not usability.ok:
            log.info("profile %r is not usable as it is: %s", self.profile_name, usability.reason)
        return usability.ok

    def _load(self) -> Profile | None:
        if self.settings.profile is None and self.profile_name == DEFAULT_NAME:
            log.info("using the profile 'default', saved for this site before profiles were per site")
        profile = self.store.load(self.profile_name)
        wrong_site = profile.usable_for(origin_of(self.base_url)).site if profile is not None else ""
        if wrong_site:
            raise LoginRequired(f"profile {self.profile_name!r} was {wrong_site}; log in to this site with another "
                                f"profile: AuraClient(..., profile=NAME).login(), or aura-browser login --base-url "
                                f"{self.base_url} --profile NAME")
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
        log.info("logging in to %s (%s, %s)", self.base_url, self.driver, self._mode_asked())
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
        progress.report(progress.SAVED)
        progress.report(None)  # the login is done: its status line goes before any reply is printed
        self._profile = profile
        self._browser_has_profile = True
        self._keep_browser_for_a_while()
        return profile

    def _mode_asked(self) -> str:
        """How the browser is asked to run; a remote one says itself how it really runs, once started."""
        if self._remote:
            return "remote, " + ("headless" if self.launch_options.headless else "headed when the server allows")
        from .drivers.browser_mode import choose_mode

        return choose_mode(self.launch_options.headless).describe()

    @property
    def _remote(self) -> bool:
        options = self.launch_options
        return bool(options.remote_webdriver or options.browser_ws or options.cdp_url)

    def _saved_or_none(self) -> Profile | None:
        """The profile on disk, if there is a readable one for this site (a login replaces a broken one)."""
        try:
            return self._load()
        except LoginRequired:
            return None

    def _browser_session(self) -> BrowserSession:
        if self._browser is None:
            from .drivers import new_session

            self._browser = new_session(self.driver, self.base_url, self.launch_options)
        return self._browser

    async def _page_session(self, profile: Profile) -> BrowserSession:
        """The browser, opened once with `profile` (a fresh one if it does not fit), for the page transport."""
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
        self._keep_browser_for_a_while()
        return session

    def _keep_browser_for_a_while(self) -> None:
        """A remote browser (a Grid slot) is let go once unused for `remote_idle_timeout` seconds."""
        if not self._remote or self._browser is None or self._adopted:
            return
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        loop = asyncio.get_running_loop()
        self._idle_timer = loop.call_later(self.settings.remote_idle_timeout,
                                           lambda: loop.create_task(self.release_idle_browser()))

    async def release_idle_browser(self) -> None:
        """Close the remote browser now if no in-page stream uses it; the next login or in-page request starts another."""
        self._idle_timer = None
        async with self._browser_lock:
            browser = self._browser
            if browser is None or self._closed:
                return
            if browser.streams.open_ids:  # still streaming: look again later
                self._keep_browser_for_a_while()
                return
            self._browser, self._browser_has_profile = None, False
            log.info("the remote browser was unused for %gs; letting it go", self.settings.remote_idle_timeout)
            await browser.close()

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
        model: str | FromSettings = FROM_SETTINGS,
        temperature: float | None | FromSettings = FROM_SETTINGS,
        max_tokens: int | FromSettings = FROM_SETTINGS,
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
        settings = self.settings
        body = build_body(
            messages,
            model=settings.model if model is FROM_SETTINGS else model,
            temperature=settings.temperature if temperature is FROM_SETTINGS else temperature,
            max_tokens=settings.max_tokens if max_tokens is FROM_SETTINGS else max_tokens,
        )
        # The app would drop a question that does not fit, silently: refused here unless sent anyway.
        fit = check_fits(body, APP_SYSTEM_PROMPT, send_anyway=settings.send_anyway)
        stats = self.last_stats = stats if stats is not None else StreamStats()
        stats.trimmed_messages, stats.estimated_tokens = fit.dropped, fit.used_tokens
        if fit.dropped and not fit.kept:
            log.warning("sending anyway: by the estimate the app may drop even the newest message (tokenLimit %d, "
                        "--max-tokens) and answer nothing", fit.token_limit)
        elif fit.dropped:
            log.warning("the app will leave out the %d oldest message(s): the conversation does not fit its "
                        "tokenLimit %d (max_tokens, --max-tokens)", fit.dropped, fit.token_limit)
        started = time.perf_counter()
        profile = self._profile
        if profile is None or profile is not self._usable_profile or time.time() >= self._usable_until:
            profile = await self._current_profile()
        async for text in self._fallback_policy().stream(profile, body, stats, started):
            yield text

    def _fallback_policy(self) -> Fallback:
        """The one policy of this client's streams, over its three transports (their connections made when used)."""
        if self._fallback is None:
            self._transports = _Tiers(self._make_transport, self._given_transports)
            self._fallback = Fallback(self._transports, transport=self.transport, refresh=self._refresh,
                                      remember=self._remember_tier)
        return self._fallback

    def _make_transport(self, tier: str) -> Transport:
        # Each imported when made: the direct tier answers most asks, and an ask starts a process.
        limit = self.settings.max_reply_bytes
        if tier == "direct":
            return DirectTransport(timeouts=self.timeouts, insecure=self.insecure, max_reply_bytes=limit)
        if tier == "impersonate":
            from .transports.impersonate import ImpersonateTransport

            return ImpersonateTransport(timeouts=self.timeouts, insecure=self.insecure, max_reply_bytes=limit,
                                        target=self.settings.impersonate)
        from .transports.page import PageTransport

        return PageTransport(self._page_session, timeouts=self.timeouts, max_reply_bytes=limit)

    async def ask(
        self,
        prompt: str | Iterable[Mapping[str, Any]],
        *,
        system: str | None = None,
        model: str | FromSettings = FROM_SETTINGS,
        temperature: float | None | FromSettings = FROM_SETTINGS,
        max_tokens: int | FromSettings = FROM_SETTINGS,
    ) -> str:
        """The whole reply as one string. `prompt` is a string, or a list of messages.

        `system` is prepended as a system message, to a list too; the app joins all system messages,
        this one first, into its system prompt.
        """
        messages: list[Mapping[str, Any]] = [*as_messages(prompt, system)] if isinstance(prompt, str) else [*prompt]
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
        transport = DirectTransport(timeouts=self.timeouts, insecure=self.insecure)
        try:
            reply = await transport.fetch(profile, "POST", MODELS_PATH, encode_body({"key": profile.api_key}))
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
        if self._fallback is not None or self._browser is not None:
            self._check_loop()  # they can only be closed on their own loop
        self._closed = True
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        transports = [*self._transports.values(), *self._given_transports.values()]
        browser = self._browser
        self._transports, self._given_transports, self._browser = {}, {}, None
        self._fallback = None
        try:
            for transport in dict.fromkeys(transports):  # each once
                await transport.aclose()
        finally:
            if browser is not None:
                await browser.close()
