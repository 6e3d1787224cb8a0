"""`aura-browser demo`: the whole flow, end to end, against the embedded replica."""

from __future__ import annotations

import tempfile
import time
from typing import Callable

from ..client import AuraClient
from ..drivers.browser_mode import choose_mode
from ..replica import ReplicaConfig, ReplicaServer
from ..wire.api import as_messages


async def _ask(client: AuraClient, question: str, echo: Callable[..., None]) -> None:
    echo(f"   > {question}")
    echo("   < ", nl=False)
    async for chunk in client.stream(as_messages(question)):
        echo(chunk, nl=False)
    stats = client.last_stats
    echo("")
    echo(f"   [transport: {stats.transport}, first byte {stats.ttfb * 1000:.0f} ms, total {stats.elapsed * 1000:.0f} ms]"
         if stats.ttfb is not None and stats.elapsed is not None else f"   [transport: {stats.transport}]")


async def run_demo(question: str, echo: Callable[..., None]) -> None:
    config = ReplicaConfig(gate="challenge", tls=True, challenge_delay=1.0, chunk_delay=0.01)
    with ReplicaServer(config) as replica, tempfile.TemporaryDirectory(prefix="aura-demo-") as profiles:
        echo(f"1. Replica of OpenChat UI at {replica.url}, behind a JS challenge (self-signed TLS, so --insecure).")
        async with AuraClient(replica.url, profile="demo", profile_dir=profiles, insecure=True) as client:
            mode = choose_mode(None).describe()
            echo(f"2. Logging in with Chromium ({mode}): it waits out the challenge and gets cf_clearance...")
            started = time.perf_counter()
            profile = await client.login()
            summary = profile.summary()
            echo(f"   saved profile 'demo' in {time.perf_counter() - started:.1f} s: "
                 f"cookies {', '.join(summary['cookies'])}; gate cookie expires {summary['gate_expires_at']}")
            echo(f"   user agent: {profile.user_agent}")
            echo("3. Asking over plain HTTP (aiohttp) with that profile:")
            await _ask(client, question, echo)
            replica.config.gate = "strict"
            echo("4. The replica's gate is now strict: it blocks clients whose TLS hello is not a browser's.")
            echo("   Asking again (transport auto: direct is blocked; impersonate, Chrome's TLS fingerprint with no browser,")
            echo("   comes next, and the browser page is the last resort):")
            await _ask(client, question, echo)
        echo(f"Done. The replica counted {replica.stats.clearances_issued} challenge(s) passed and "
             f"{replica.stats.tls_blocked} direct request(s) blocked by fingerprint.")
