"""The fallback policy: which transport to try next when one is blocked, and when a fresh profile helps.

auto climbs the tiers cheapest first: direct; impersonate (Chrome's TLS fingerprint, still no browser);
then it refreshes the profile once and climbs again; when still blocked, the browser page. The profile
remembers for a while which tier got through, so the next calls start there. A fixed transport gets the
one refresh too, then gives up.

The policy knows transports only as `Transport`s, and the profile only through two callbacks, so it can be
driven without a browser.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, AsyncGenerator, Awaitable, Callable, Mapping

from ..errors import Blocked, named
from ..option_values import TIERS, TransportName
from ..profile import Profile
from .base import StreamStats, Transport

log = logging.getLogger("aura_browser")



# What to try when a forced tier stays blocked: the next tier up, which costs the least.
CHEAPER_TIER = {
    "direct": f"{named('transport', 'impersonate')} (Chrome's TLS fingerprint, still no browser), or "
              f"{named('transport', 'page')}",
    "impersonate": named("transport", "page"),
}


class _Refresh:
    """The last profile a block made us replace, and what replaced it. (A plain class: as a dataclass it cost an
    ask's start more than the rest of this module.)"""

    def __init__(self, stale: Profile, fresh: Profile) -> None:
        self.stale = stale
        self.fresh = fresh
        # A reply with `fresh` got through. Until then a block with it is not about the cookie (a TLS fingerprint
        # gate, say): another login would not help.
        self.proven = False


class Fallback:
    """Streams a reply over `tiers` (a Transport per tier name) as `transport` (auto or one tier) says.

    `refresh(stale)` returns a profile to use instead of `stale`; `remember(profile, tier)` is told which
    tier got through for auto. One Fallback serves every stream of a client: concurrent streams blocked
    with the same profile refresh it once.
    """

    def __init__(
        self,
        tiers: Mapping[str, Transport],
        *,
        transport: TransportName = "auto",
        refresh: Callable[[Profile], Awaitable[Profile]],
        remember: Callable[[Profile, str], None],
    ) -> None:
        self.tiers = tiers  # as given: a client's mapping makes each tier when first asked for
        self.transport = transport
        self._refresh = refresh
        self._remember = remember
        self._refresh_lock = asyncio.Lock()
        self._last_refresh: _Refresh | None = None

    async def stream(
        self, profile: Profile, body: dict[str, Any], stats: StreamStats, started: float | None = None
    ) -> AsyncGenerator[str, None]:
        """Yield the reply's text. `body` gets the key of the profile each attempt sends; the transport and
        timings (from `started`, a perf_counter reading) go to `stats`."""
        started = time.perf_counter() if started is None else started
        auto = self.transport == "auto"
        tiers = list(TIERS[TIERS.index(profile.start_tier()):]) if auto else [self.transport]
        refreshed = False
        index = 0
        while True:
            tier = tiers[index]
            # Each chunk passes here: the timings are taken in this loop rather than in a generator of their own.
            chunks = self.tiers[tier].stream(profile, {**body, "key": profile.api_key}, stats)
            stats.transport = tier
            reason: Blocked | None = None
            try:
                async for text in chunks:
                    if stats.ttfb is None:
                        stats.ttfb = time.perf_counter() - started
                    yield text
            except Blocked as blocked:  # raised before any text, never after
                if tier == "page":
                    raise
                reason = blocked
            finally:
                stats.elapsed = time.perf_counter() - started
                await chunks.aclose()
            if reason is None:
                self._got_through(profile, tier)
                return
            if index + 1 < len(tiers) and tiers[index + 1] != "page":
                log.info("%s request blocked (%s); trying %s", tier, reason, tiers[index + 1])
                index += 1  # a cheaper step than a login: the block may be about the TLS fingerprint only
            elif not refreshed and not self._refreshed_in_vain(profile):
                log.info("%s request blocked (%s); refreshing the profile once", tier, reason)
                profile = await self._fresh(profile)
                refreshed, index = True, 0
            elif not auto:
                raise Blocked(f"{reason} even with a fresh profile; try {CHEAPER_TIER[self.transport]}") from None
            else:
                log.info("still blocked; streaming from inside the browser page")
                index += 1

    async def _fresh(self, stale: Profile) -> Profile:
        """A profile instead of `stale`, refreshed once however many streams were blocked with it: a stream
        blocked with an old profile must not refresh the one another stream just got."""
        async with self._refresh_lock:
            last = self._last_refresh
            if last is not None and last.stale is stale:
                return last.fresh
            fresh = await self._refresh(stale)
            self._last_refresh = _Refresh(stale, fresh)
            return fresh

    def _refreshed_in_vain(self, profile: Profile) -> bool:
        """`profile` is what a block made us switch to, and it is blocked too: the block is not about the cookie."""
        last = self._last_refresh
        return last is not None and last.fresh is profile and not last.proven

    def _got_through(self, profile: Profile, tier: str) -> None:
        last = self._last_refresh
        if last is not None and last.fresh is profile and tier != "page":
            last.proven = True
        if self.transport == "auto":
            self._remember(profile, tier)
