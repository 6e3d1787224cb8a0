"""The fallback policy on its own: in-process transports that block or answer, no browser, no server.

The same policy over the real transports and a gated replica is tested in test_fallback.py, test_direct.py,
test_impersonate.py and test_concurrency.py.
"""

import asyncio
import re
import time

import pytest

from aura_browser.errors import Blocked
from aura_browser.profile import Profile
from aura_browser.transports.base import StreamStats, Transport
from aura_browser.transports.fallback import Fallback

SITE = "https://chat.example"


def profile(key: str, **fields) -> Profile:
    """A profile whose page key is `key`, so a request shows which profile it was sent with."""
    storage = {"cookies": [], "origins": [{"origin": SITE, "localStorage": [{"name": "apiKey", "value": key}]}]}
    return Profile(SITE, "Mozilla/5.0 Chrome/131.0.0.0", storage_state=storage, **fields)


class Tier:
    """A transport that lets through the profiles `lets_through` accepts, and blocks the others before any text."""

    def __init__(self, name: str, lets_through=lambda profile: True) -> None:
        self.name = name
        self.lets_through = lets_through
        self.sent: list[str] = []  # the key of each request, in order
        self.closed = False

    async def stream(self, profile: Profile, body: dict, stats: StreamStats | None = None):
        assert body["key"] == profile.api_key  # the body goes with the profile it is sent with
        self.sent.append(body["key"])
        if not self.lets_through(profile):
            raise Blocked(f"{self.name} blocked by the gate")
        yield f"{self.name} "
        yield "answers"

    async def aclose(self) -> None:
        self.closed = True


class Site:
    """The tiers and the client's side of the policy: refreshing the profile, remembering the tier."""

    def __init__(self, direct=True, impersonate=True, page=True, transport="auto") -> None:
        def gate(rule):
            return rule if callable(rule) else (lambda profile: rule)

        self.direct, self.impersonate, self.page = (
            Tier(name, gate(rule)) for name, rule in (("direct", direct), ("impersonate", impersonate), ("page", page))
        )
        self.refreshed: list[str] = []  # the key of each profile refreshed
        self.fresh: list[Profile] = []  # the profiles the refreshes gave
        self.remembered: list[tuple[str, str]] = []
        self.refresh_started = asyncio.Event()
        self.hold_refresh: asyncio.Event | None = None
        self.policy = Fallback(
            {"direct": self.direct, "impersonate": self.impersonate, "page": self.page},
            transport=transport, refresh=self.refresh, remember=self.remember,
        )

    async def refresh(self, stale: Profile) -> Profile:
        self.refreshed.append(stale.api_key)
        self.refresh_started.set()
        if self.hold_refresh is not None:
            await self.hold_refresh.wait()
        self.fresh.append(profile(f"fresh{len(self.refreshed)}"))
        return self.fresh[-1]

    def remember(self, used: Profile, tier: str) -> None:
        self.remembered.append((used.api_key, tier))

    async def ask(self, start: Profile, stats: StreamStats | None = None) -> str:
        stats = stats if stats is not None else StreamStats()
        return "".join([text async for text in self.policy.stream(start, {"messages": []}, stats)])


def test_the_three_transports_satisfy_the_protocol():
    from aura_browser.transports.direct import DirectTransport
    from aura_browser.transports.impersonate import ImpersonateTransport
    from aura_browser.transports.page import PageTransport

    async def no_browser(profile: Profile):
        raise AssertionError("not opened")

    transports: list[Transport] = [DirectTransport(), ImpersonateTransport(), PageTransport(no_browser)]
    assert [transport.name for transport in transports] == ["direct", "impersonate", "page"]


async def test_direct_answers():
    site, stats = Site(), StreamStats()
    assert await site.ask(profile("old"), stats) == "direct answers"
    assert stats.transport == "direct" and stats.ttfb is not None and stats.elapsed is not None
    assert site.impersonate.sent == site.page.sent == site.refreshed == []
    assert site.remembered == [("old", "direct")]


async def test_direct_blocked_then_impersonate_answers_without_a_refresh():
    site, stats = Site(direct=False), StreamStats()
    assert await site.ask(profile("old"), stats) == "impersonate answers"
    assert stats.transport == "impersonate"
    assert site.direct.sent == site.impersonate.sent == ["old"] and site.refreshed == []
    assert site.remembered == [("old", "impersonate")]


async def test_both_blocked_refreshes_once_and_climbs_again_with_the_fresh_profile():
    fresh_only = lambda profile: profile.api_key != "old"  # noqa: E731
    site = Site(direct=fresh_only, impersonate=fresh_only)
    assert await site.ask(profile("old")) == "direct answers"
    assert site.refreshed == ["old"]
    assert site.direct.sent == ["old", "fresh1"] and site.impersonate.sent == ["old"] and site.page.sent == []
    assert site.remembered == [("fresh1", "direct")]


async def test_blocked_even_with_a_fresh_profile_streams_in_the_page():
    site, stats = Site(direct=False, impersonate=False), StreamStats()
    assert await site.ask(profile("old"), stats) == "page answers"
    assert site.refreshed == ["old"]  # once: the block is not about the cookie
    assert site.direct.sent == site.impersonate.sent == ["old", "fresh1"]
    assert site.page.sent == ["fresh1"] and stats.transport == "page"
    assert site.remembered == [("fresh1", "page")]


@pytest.mark.parametrize(("fixed", "advice"), [
    ("direct", "try transport='impersonate' (--transport impersonate) (Chrome's TLS fingerprint, still no browser), "
               "or transport='page' (--transport page)"),
    ("impersonate", "try transport='page' (--transport page)"),
])
async def test_a_fixed_transport_blocked_after_the_refresh_says_try_the_next_tier(fixed, advice):
    site = Site(direct=False, impersonate=False, transport=fixed)
    with pytest.raises(Blocked, match="^" + re.escape(f"{fixed} blocked by the gate even with a fresh profile; {advice}") + "$"):
        await site.ask(profile("old"))
    assert getattr(site, fixed).sent == ["old", "fresh1"] and site.refreshed == ["old"]
    other = site.impersonate if fixed == "direct" else site.direct
    assert other.sent == site.page.sent == [] and site.remembered == []  # a fixed transport teaches auto nothing


async def test_a_fixed_page_transport_goes_straight_to_the_page():
    site = Site(transport="page")
    assert await site.ask(profile("old")) == "page answers"
    assert site.direct.sent == site.impersonate.sent == [] and site.remembered == []


async def test_two_streams_blocked_with_the_same_old_profile_refresh_it_once():
    both_blocked = asyncio.Event()

    def fresh_only_at_last(profile: Profile) -> bool:
        if site.impersonate.sent.count("old") == 2:
            both_blocked.set()
        return profile.api_key != "old"

    site = Site(direct=lambda profile: profile.api_key != "old", impersonate=fresh_only_at_last)
    # The first stream's refresh waits until the second stream has been blocked with the old profile too.
    site.hold_refresh = asyncio.Event()
    old = profile("old")
    first = asyncio.create_task(site.ask(old))
    await asyncio.wait_for(site.refresh_started.wait(), 30)
    second = asyncio.create_task(site.ask(old))
    await asyncio.wait_for(both_blocked.wait(), 30)
    site.hold_refresh.set()
    answers = await asyncio.wait_for(asyncio.gather(first, second), 30)
    assert answers == ["direct answers", "direct answers"]
    assert site.refreshed == ["old"]  # the second stream takes the profile the first one got
    assert site.direct.sent == ["old", "old", "fresh1", "fresh1"]


async def test_a_profile_a_block_refreshed_and_still_blocked_is_not_refreshed_again_by_the_next_stream():
    site = Site(direct=False, impersonate=False)
    assert await site.ask(profile("old")) == "page answers"
    assert await site.ask(site.fresh[0]) == "page answers"  # the next stream starts with the profile the block gave
    assert site.refreshed == ["old"]  # the block survived a fresh profile: it is not about the cookie


async def test_once_a_reply_got_through_with_the_fresh_profile_a_later_block_refreshes_again():
    blocked_keys = {"old"}
    gate = lambda profile: profile.api_key not in blocked_keys  # noqa: E731
    site = Site(direct=gate, impersonate=gate)
    assert await site.ask(profile("old")) == "direct answers"
    blocked_keys.add("fresh1")  # its cookie expired later
    assert await site.ask(site.fresh[0]) == "direct answers"
    assert site.refreshed == ["old", "fresh1"]


@pytest.mark.parametrize("tier", ["impersonate", "page"])
async def test_auto_starts_at_the_tier_the_profile_remembers(tier):
    site, stats = Site(), StreamStats()
    remembered = profile("old", direct_blocked_until=time.time() + 600, transport_tier=tier)
    assert await site.ask(remembered, stats) == f"{tier} answers"
    assert site.direct.sent == [] and stats.transport == tier
    assert site.remembered == [("old", tier)]


async def test_a_remembered_tier_blocked_refreshes_and_climbs_again_from_that_tier():
    fresh_only = lambda profile: profile.api_key != "old"  # noqa: E731
    site = Site(direct=fresh_only, impersonate=fresh_only)
    remembered = profile("old", direct_blocked_until=time.time() + 600, transport_tier="impersonate")
    assert await site.ask(remembered) == "impersonate answers"
    assert site.direct.sent == [] and site.impersonate.sent == ["old", "fresh1"] and site.refreshed == ["old"]


async def test_leaving_the_stream_closes_the_transports_stream_at_once():
    closed = asyncio.Event()

    class Endless(Tier):
        async def stream(self, profile, body, stats=None):
            try:
                while True:
                    yield "more "
            finally:
                closed.set()

    site = Site()
    site.policy.tiers["direct"] = Endless("direct")
    chunks = site.policy.stream(profile("old"), {}, StreamStats())
    assert await anext(chunks) == "more "
    await chunks.aclose()
    assert closed.is_set()
