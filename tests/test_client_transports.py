"""A client sends with the transports it is given (as httpx's `transport=`): no server, no browser."""

from __future__ import annotations

import pytest

from aura_browser import AuraClient, InvalidRequest, Profile
from aura_browser.errors import Blocked
from aura_browser.transports.base import StreamStats

from tests.support.profiles import save_plain_profile

SITE = "https://chat.example"


class Answering:
    """An in-process transport: answers with its name, or blocks before any text."""

    def __init__(self, name: str, blocks: bool = False) -> None:
        self.name = name
        self.blocks = blocks
        self.sent: list[dict] = []
        self.closed = False

    async def stream(self, profile: Profile, body: dict, stats: StreamStats | None = None):
        self.sent.append(body)
        if self.blocks:
            raise Blocked(f"{self.name} blocked by the gate")
        yield f"{self.name} answers"

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
def saved(tmp_path):
    save_plain_profile(tmp_path, SITE)
    return tmp_path


async def test_the_given_transports_carry_the_requests_and_are_closed_with_the_client(saved):
    direct, impersonate = Answering("direct", blocks=True), Answering("impersonate")
    client = AuraClient(SITE, profile_dir=saved, transports={"direct": direct, "impersonate": impersonate})
    assert await client.ask("Hi") == "impersonate answers"
    assert client.last_stats.transport == "impersonate"
    assert [body["messages"][-1]["content"] for body in direct.sent + impersonate.sent] == ["Hi", "Hi"]
    await client.close()
    assert direct.closed and impersonate.closed


async def test_a_fixed_transport_uses_the_given_one(saved):
    page = Answering("page")
    async with AuraClient(SITE, profile_dir=saved, transport="page", transports={"page": page}) as client:
        assert await client.ask("Hi") == "page answers"
    assert page.closed


def test_an_unknown_tier_is_refused(saved):
    with pytest.raises(InvalidRequest, match=r"unknown tiers \['fast'\]"):
        AuraClient(SITE, profile_dir=saved, transports={"fast": Answering("fast")})
