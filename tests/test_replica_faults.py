"""The replica's fault knobs: faults for the next N requests only, a slow first byte, seeded random faults."""

from __future__ import annotations

import aiohttp

from aura_browser.replica import reply_text

BODY = {"model": {"id": "openchat_3.6"}, "messages": [{"role": "user", "content": "Hi"}], "key": "", "prompt": ""}
FULL = reply_text(BODY["messages"], "").encode()


async def outcome(session: aiohttp.ClientSession, url: str) -> str:
    """What one /api/chat request got: "ok", "500", or "dropped" (a body that broke off)."""
    async with session.post(url + "/api/chat", json=BODY) as response:
        if response.status != 200:
            return str(response.status)
        try:
            body = await response.read()
        except aiohttp.ClientPayloadError:
            return "dropped"
        return "ok" if body == FULL else f"other: {body!r}"


async def test_faults_left_limits_the_configured_fault_to_the_next_requests(make_replica):
    replica = make_replica(status=429, retry_after=2, faults_left=2)
    async with aiohttp.ClientSession() as session:
        results = [await outcome(session, replica.url) for _ in range(3)]
        replica.config.update({"faults_left": 1, "status": None, "drop_after": 10})
        results += [await outcome(session, replica.url) for _ in range(2)]
    assert results == ["429", "429", "ok", "dropped", "ok"]
    assert replica.config.faults_left == 0


async def test_random_faults_follow_the_seed_and_are_counted(make_replica):
    runs = []
    for _ in range(2):
        replica = make_replica(fault_rate=0.5, fault_seed=7, stall_seconds=0)
        async with aiohttp.ClientSession() as session:
            runs.append([await outcome(session, replica.url) for _ in range(40)])
        stats = replica.stats
        assert runs[-1].count("500") == stats.faults_error
        assert runs[-1].count("dropped") == stats.faults_drop
        # A zero-second stall is a pause, and the reply still arrives whole.
        assert runs[-1].count("ok") == 40 - stats.faults_error - stats.faults_drop
        assert stats.faults_error and stats.faults_drop and stats.faults_stall
    assert runs[0] == runs[1]


async def test_no_fault_rate_means_no_random_faults(make_replica):
    replica = make_replica()
    async with aiohttp.ClientSession() as session:
        assert {await outcome(session, replica.url) for _ in range(20)} == {"ok"}
    assert replica.stats.faults_error == replica.stats.faults_drop == replica.stats.faults_stall == 0
