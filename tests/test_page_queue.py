"""In-page replies beyond what one page can carry wait their turn, and that wait is not a first-byte timeout.

Chromium opens at most 6 connections to one host; a 7th fetch waits in the browser for one to free, and
before the fix that wait counted toward the first-byte timeout. The replies here stream a chunk every
0.1 s for several times the timeout, so a reply queued behind them waits far longer than the timeout.
"""

from __future__ import annotations

import asyncio
import json

import openai

from aura_browser.drivers.base import MAX_IN_PAGE_STREAMS
from aura_browser.replica import reply_text
from aura_browser.transports.base import StreamStats, Timeouts
from aura_browser.wire.api import as_messages

from tests.support.cli import run_cli
from tests.support.profiles import save_plain_profile

# 60 chunks of 2 bytes, 0.1 s apart: a reply takes 6 s or more, the timeout is 3 s.
SLOW_REPLY = dict(gate="off", chunk_size=2, chunk_delay=0.1, reply_bytes=120, split_multibyte=False)
TIMEOUT = 3


async def test_streams_beyond_the_bound_wait_outside_the_timeout_and_report_the_wait(make_replica, make_client):
    replica = make_replica(**SLOW_REPLY)
    client = make_client(replica.url, transport="page",
                         timeouts=Timeouts(connect=5, first_byte=TIMEOUT, idle=TIMEOUT))
    count = MAX_IN_PAGE_STREAMS + 3
    stats = [StreamStats() for _ in range(count)]

    async def ask(index: int) -> str:
        messages = as_messages(f"question {index}")
        return "".join([chunk async for chunk in client.stream(messages, stats=stats[index])])

    replies = await asyncio.gather(*(ask(i) for i in range(count)))
    assert [len(reply.encode()) for reply in replies] == [120] * count
    queued = sorted(s.queue_ms for s in stats)
    assert all(s.transport == "page" for s in stats)
    assert queued[-3] >= 1000, queued  # the last three waited at least until a whole reply had come in
    assert client.last_stats.queue_ms is not None


async def test_serve_in_page_answers_10_concurrent_requests_with_200(make_replica, env, start_server):
    replica = make_replica(**SLOW_REPLY)
    save_plain_profile(env["AURA_PROFILE_DIR"], replica.url)
    base = start_server("--base-url", replica.url, "--transport", "page", "--timeout", str(TIMEOUT))
    client = openai.AsyncOpenAI(base_url=base, api_key="unused", max_retries=0, timeout=120)

    async def ask(index: int):
        messages = [{"role": "user", "content": f"question {index}"}]
        return await client.chat.completions.with_raw_response.create(model="openchat_3.6", messages=messages)

    results = await asyncio.gather(*(ask(i) for i in range(10)), return_exceptions=True)
    await client.close()
    assert [getattr(r, "status_code", repr(r)) for r in results] == [200] * 10
    assert replica.stats.chat_completed == 10


def test_batch_with_more_workers_than_the_bound_finishes_every_item(make_replica, env, tmp_path):
    replica = make_replica(**SLOW_REPLY)
    save_plain_profile(env["AURA_PROFILE_DIR"], replica.url)
    items = "".join(json.dumps({"id": i, "prompt": f"question {i}"}) + "\n" for i in range(10))
    result = run_cli("batch", "-", "--base-url", replica.url, "--transport", "page", "-c", "10",
                     "--timeout", str(TIMEOUT), input=items.encode(), env=env, timeout=300)
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["error"] for r in records] == [None] * 10, result.stderr.decode()
    assert sorted(r["id"] for r in records) == list(range(10))
    assert all(r["text"] == reply_text(as_messages(f"question {r['id']}"), "", 120) for r in records)
    assert result.returncode == 0


def test_ask_json_reports_the_in_page_queue_time(make_replica, env):
    replica = make_replica(gate="off")
    save_plain_profile(env["AURA_PROFILE_DIR"], replica.url)
    result = run_cli("ask", "--base-url", replica.url, "--transport", "page", "--json", "Hi", env=env)
    assert result.returncode == 0, result.stderr.decode()
    record = json.loads(result.stdout)
    assert record["transport"] == "page" and 0 <= record["queue_ms"] < record["elapsed_ms"]
