#!/usr/bin/env python3
"""aura-browser benchmarks: each figure measured beside its baseline in the same run.

Shared machines drift, so every row is a ratio of medians taken side by side (interleaved where
it can be), never a lone absolute time. The replica runs in its own process, so the client's CPU
time is the client's alone. This is a benchmark, not a test: nothing here asserts a timing.

    python scripts/bench.py                 # the full table (a few minutes)
    python scripts/bench.py --quick         # a fast smoke run: every row, few repetitions
    python scripts/bench.py --json out.json # also save the raw numbers
    python scripts/bench.py --only B7,B10   # just these rows
    python scripts/bench.py --grid auto --only B11   # login through a Selenium Grid (auto: the tests' own)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import aiohttp

from aura_browser import AuraClient
from aura_browser.drivers.browser_path import find_chromium
from aura_browser.profile import Profile, ProfileStore
from aura_browser.replica.process import ReplicaProcess as Replica
from aura_browser.transports.base import Timeouts
from aura_browser.wire.api import as_messages, build_body, encode_body

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
MESSAGES = as_messages("Benchmark me")


@dataclass
class Row:
    key: str
    figure: str
    ours: float
    baseline: float
    unit: str
    target: str
    met: bool
    note: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("inf")


def median(values: list[float]) -> float:
    return statistics.median(values)


def save_plain_profile(directory: str, url: str, name: str = "default") -> None:
    ProfileStore(directory).save(name, Profile(base_url=url, user_agent=UA))


async def timed_stream(chunks: Any) -> tuple[float, float, int]:
    """(seconds to first chunk, seconds in all, characters) for one streamed reply."""
    started = time.perf_counter()
    first = None
    size = 0
    async for chunk in chunks:
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
    return first or 0.0, time.perf_counter() - started, size


async def bare_stream(session: aiohttp.ClientSession, url: str, data: bytes) -> Any:
    async with session.post(url + "/api/chat", data=data, headers={"User-Agent": UA, "Content-Type": "application/json"}) as r:
        async for block in r.content.iter_any():
            yield block


async def interleaved(n: int, ours: Callable[[], Awaitable[Any]], base: Callable[[], Awaitable[Any]]) -> tuple[list[Any], list[Any]]:
    mine, theirs = [], []
    for i in range(n):
        if i % 2:
            mine.append(await ours())
            theirs.append(await base())
        else:
            theirs.append(await base())
            mine.append(await ours())
    return mine, theirs


# --- B1 -------------------------------------------------------------------------------------


async def b1_direct_overhead(replica: Replica, profiles: str, n: int) -> list[Row]:
    replica.configure(gate="off", reply_bytes=2048, chunk_delay=0.0, chunk_size=16, hold_after=None)
    save_plain_profile(profiles, replica.url)
    data = encode_body(build_body(MESSAGES))
    async with AuraClient(replica.url, profile_dir=profiles, transport="direct") as client, aiohttp.ClientSession() as session:
        for _ in range(5):  # warm both connection pools
            await timed_stream(client.stream(MESSAGES))
            await timed_stream(bare_stream(session, replica.url, data))
        mine, theirs = await interleaved(
            n, lambda: timed_stream(client.stream(MESSAGES)), lambda: timed_stream(bare_stream(session, replica.url, data))
        )
    total = Row("B1", "direct ask, 2 KB reply: median total", median([m[1] for m in mine]) * 1000,
                median([t[1] for t in theirs]) * 1000, "ms", "ratio <= 1.10", False)
    total.met = total.ratio <= 1.10
    first = Row("B1", "direct ask, 2 KB reply: median first byte", median([m[0] for m in mine]) * 1000,
                median([t[0] for t in theirs]) * 1000, "ms", "ratio <= 1.10", False)
    first.met = first.ratio <= 1.10
    return [total, first]


# --- B2 -------------------------------------------------------------------------------------


async def original_provider_ask(url: str, executable: str) -> str:
    """What the old provider did for every ask: launch, pass the challenge, capture, post, close."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable)
        try:
            context = await browser.new_context(user_agent=UA, ignore_https_errors=True)
            page = await context.new_page()
            await page.goto(url + "/")
            await page.wait_for_selector("textarea.m-0")
            cookies = {c["name"]: c["value"] for c in await context.cookies()}
        finally:
            await browser.close()
    async with aiohttp.ClientSession(cookies=cookies, headers={"User-Agent": UA}) as session:
        async with session.post(url + "/api/chat", json=build_body(MESSAGES)) as response:
            return await response.text()


async def b2_saved_profile(profiles: str, executable: str, baseline_asks: int) -> list[Row]:
    replica = Replica(gate="challenge")
    try:
        replica.configure(challenge_delay=1.0, reply_bytes=2048)
        async with AuraClient(replica.url, profile="b2", profile_dir=profiles) as client:
            await client.login()
        started = time.perf_counter()
        async with AuraClient(replica.url, profile="b2", profile_dir=profiles) as client:
            for _ in range(10):
                await client.ask(MESSAGES)
        ours = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(baseline_asks):
            await original_provider_ask(replica.url, executable)
        per_ask = (time.perf_counter() - started) / baseline_asks
    finally:
        replica.close()
    base = per_ask * 10
    note = f"{base / ours:.0f}x faster"
    if baseline_asks != 10:
        note += f"; baseline: {baseline_asks} ask(s) measured, times 10"
    row = Row("B2", "ten asks on a saved profile (challenge 1 s)", ours * 1000, base * 1000, "ms", "ours >= 50x faster",
              False, note)
    row.met = base / ours >= 50
    return [row]


# --- B3 -------------------------------------------------------------------------------------


async def b3_in_page(replica: Replica, profiles: str, n: int) -> list[Row]:
    replica.configure(gate="off", reply_bytes=2048, chunk_size=16, chunk_delay=0.0)
    save_plain_profile(profiles, replica.url, "b3")
    async with AuraClient(replica.url, profile="b3", profile_dir=profiles, transport="page") as page_client, \
            AuraClient(replica.url, profile="b3", profile_dir=profiles, transport="direct") as direct_client:
        for _ in range(3):
            await timed_stream(page_client.stream(MESSAGES))
            await timed_stream(direct_client.stream(MESSAGES))
        mine, theirs = await interleaved(
            n, lambda: timed_stream(page_client.stream(MESSAGES)), lambda: timed_stream(direct_client.stream(MESSAGES))
        )
        first = Row("B3", "in-page, warm browser: median first byte", median([m[0] for m in mine]) * 1000,
                    median([t[0] for t in theirs]) * 1000, "ms", "<= direct + 25 ms", False)
        first.met = first.ours <= first.baseline + 25
        first.note = f"+{first.ours - first.baseline:.1f} ms"

        replica.configure(reply_bytes=1 << 20, chunk_size=64 * 1024, split_multibyte=False)
        await timed_stream(page_client.stream(MESSAGES))
        big_mine, big_theirs = await interleaved(
            max(3, n // 10), lambda: timed_stream(page_client.stream(MESSAGES)),
            lambda: timed_stream(direct_client.stream(MESSAGES)),
        )
    mb = (1 << 20) / 1e6
    ours = mb / median([m[1] for m in big_mine])
    base = mb / median([t[1] for t in big_theirs])
    throughput = Row("B3", "in-page, 1 MB reply: throughput", ours, base, "MB/s", "ratio >= 0.5", ours / base >= 0.5)
    return [first, throughput]


# --- B4 -------------------------------------------------------------------------------------


async def b4_concurrency(replica: Replica, profiles: str, streams: int) -> list[Row]:
    replica.configure(gate="off", chunk_size=64, reply_bytes=64 * 20, chunk_delay=0.01, split_multibyte=False)
    save_plain_profile(profiles, replica.url, "b4")
    data = encode_body(build_body(MESSAGES))
    timeouts = Timeouts(first_byte=60, idle=60)

    async def ours() -> tuple[float, float]:
        async with AuraClient(replica.url, profile="b4", profile_dir=profiles, transport="direct", timeouts=timeouts) as client:
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(timed_stream(client.stream(MESSAGES)) for _ in range(streams)))
            return time.perf_counter() - wall, time.process_time() - cpu

    async def base() -> tuple[float, float]:
        async with aiohttp.ClientSession() as session:
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(timed_stream(bare_stream(session, replica.url, data)) for _ in range(streams)))
            return time.perf_counter() - wall, time.process_time() - cpu

    mine, theirs = await interleaved(5, ours, base)
    wall = Row("B4", f"{streams} concurrent streams (20 chunks, 10 ms apart): wall", median([m[0] for m in mine]) * 1000,
               median([t[0] for t in theirs]) * 1000, "ms", "ratio <= 1.10", False)
    wall.met = wall.ratio <= 1.10
    cpu = Row("B4", f"{streams} concurrent streams: client CPU", median([m[1] for m in mine]) * 1000,
              median([t[1] for t in theirs]) * 1000, "ms", "ratio <= 1.3", False)
    cpu.met = cpu.ratio <= 1.3
    return [wall, cpu]


# --- B5, B6 ---------------------------------------------------------------------------------


# Forks the measured command from a small process: a child forked from this (large) bench process
# would inherit its high-water RSS, and every peak-RSS figure would read as this process's size.
LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB) of one whole process."""
    result = subprocess.run([sys.executable, "-c", LAUNCHER, *argv], env=env, capture_output=True, text=True, check=True)
    elapsed, peak, code = result.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"{argv} exited {code}")
    return float(elapsed), int(peak)


BARE_POST = """
import asyncio, sys, aiohttp
async def main():
    async with aiohttp.ClientSession() as s:
        async with s.post(sys.argv[1] + "/api/chat", data=sys.argv[2].encode(), headers={"User-Agent": sys.argv[3], "Content-Type": "application/json"}) as r:
            async for block in r.content.iter_any():
                sys.stdout.write(block.decode("utf-8", "replace"))
asyncio.run(main())
"""


def aura_command() -> list[str]:
    beside = Path(sys.executable).with_name("aura-browser")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "aura_browser"]


def compiled_start_env(cache: str, **variables: str) -> dict[str, str]:
    """The environment of a process that starts from compiled bytecode, as an installed package does, whatever this
    one's: with PYTHONDONTWRITEBYTECODE our modules (a checkout, no .pyc) would be compiled from source on every
    start while click and aiohttp read the .pyc files pip wrote. Every module of both sides is cached in `cache`
    (PYTHONPYCACHEPREFIX), so ours and the baselines run with the same flags and read the same kind of files."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": cache, **variables}


def b5_b6_processes(replica: Replica, profiles: str, n: int) -> list[Row]:
    replica.configure(gate="off", reply_bytes=2048, chunk_delay=0.0)
    save_plain_profile(profiles, replica.url, "b5")
    with tempfile.TemporaryDirectory(prefix="aura-bench-pyc-") as cache:
        return b5_b6_measured(replica, compiled_start_env(cache, AURA_PROFILE_DIR=profiles), n)


def b5_b6_measured(replica: Replica, env: dict[str, str], n: int) -> list[Row]:
    ask = [*aura_command(), "ask", "--base-url", replica.url, "--profile", "b5", "--transport", "direct", "Benchmark me"]
    bare = [sys.executable, "-c", BARE_POST, replica.url, encode_body(build_body(MESSAGES)).decode(), UA]
    help_ = [*aura_command(), "--help"]
    click_only = [sys.executable, "-c", "import click"]
    commands = (("ask", ask), ("bare", bare), ("help", help_), ("click", click_only))
    for _, argv in commands:  # fills the bytecode cache; not counted
        run_measured(argv, env)
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name, _ in commands}
    for _ in range(n):
        for name, argv in commands:
            runs[name].append(run_measured(argv, env))
    wall = Row("B5", "`aura-browser ask` process (direct, saved profile)", median([r[0] for r in runs["ask"]]) * 1000,
               median([r[0] for r in runs["bare"]]) * 1000, "ms", "ratio <= 1.2", False)
    wall.met = wall.ratio <= 1.2
    help_row = Row("B5", "`aura-browser --help` vs `python -c 'import click'`", median([r[0] for r in runs["help"]]) * 1000,
                   median([r[0] for r in runs["click"]]) * 1000, "ms", "ratio <= 1.15", False)
    help_row.met = help_row.ratio <= 1.15
    rss = Row("B6", "peak RSS of the B5 process", max(r[1] for r in runs["ask"]) / 1024,
              max(r[1] for r in runs["bare"]) / 1024, "MiB", "ratio <= 1.3", False)
    rss.met = rss.ratio <= 1.3
    return [wall, help_row, rss]


def chromium_pss_mib(root_pid: int, names: tuple[str, ...] = ("chrom",)) -> float:
    """Summed PSS of the Chromium processes (and any other `names`) below `root_pid`."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, stack = 0, list(children.get(root_pid, []))
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            comm = Path(f"/proc/{pid}/comm").read_text()
            if not any(name in comm for name in names):
                continue
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


async def b6_chromium(replica: Replica, profiles: str) -> list[Row]:
    replica.configure(gate="off", reply_bytes=2048)
    save_plain_profile(profiles, replica.url, "b6")
    async with AuraClient(replica.url, profile="b6", profile_dir=profiles, transport="page") as client:
        await client.ask(MESSAGES)
        pss = chromium_pss_mib(os.getpid())
    return [Row("B6", "in-page path: Chromium summed PSS (reported, no baseline)", pss, float("nan"), "MiB", "report", True)]


# --- B7 -------------------------------------------------------------------------------------


async def b7_login(profiles: str, executable: str, n: int) -> list[Row]:
    from playwright.async_api import async_playwright

    gated, plain = Replica(gate="challenge"), Replica(gate="off")
    try:
        gated.configure(challenge_delay=1.0)

        async def ours() -> float:
            started = time.perf_counter()
            async with AuraClient(gated.url, profile="b7", profile_dir=profiles) as client:
                await client.login()
            return time.perf_counter() - started

        async def base() -> float:
            started = time.perf_counter()
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=executable)
                page = await browser.new_page()
                await page.goto(plain.url + "/")
                await browser.close()
            return time.perf_counter() - started

        mine, theirs = await interleaved(n, ours, base)
    finally:
        gated.close()
        plain.close()
    overhead = (median(mine) - median(theirs)) * 1000
    row = Row("B7", "login through a 1 s challenge", median(mine) * 1000, median(theirs) * 1000, "ms",
              "overhead <= 1000 + 1500 ms", overhead <= 2500, f"overhead {overhead:.0f} ms")
    return [row]


# --- B8 -------------------------------------------------------------------------------------


async def b8_strict_gate(profiles: str, n: int) -> list[Row]:
    """Behind the strict (TLS-fingerprint) gate, with a saved profile: impersonate and in-page beside direct on the
    ungated replica, in the same run. Both replicas serve HTTPS, so TLS costs the same on either side; the login
    is done once, first, and is not measured."""
    os.environ["AURA_IMPERSONATE"] = ""  # the Chrome target nearest the profile's Chrome, whatever the caller set
    reply = dict(reply_bytes=2048, chunk_size=16, chunk_delay=0.0, split_multibyte=True)
    replica, strict = Replica(gate="off", tls=True), Replica(gate="strict")
    try:
        replica.configure(**reply)
        strict.configure(**reply)
        save_plain_profile(profiles, replica.url, "b8-direct")
        async with AuraClient(strict.url, profile="b8", profile_dir=profiles, insecure=True) as login:
            await login.login()
        async with AuraClient(strict.url, profile="b8", profile_dir=profiles, insecure=True,
                              transport="impersonate") as impersonate, \
                AuraClient(strict.url, profile="b8", profile_dir=profiles, insecure=True, transport="page") as page, \
                AuraClient(replica.url, profile="b8-direct", profile_dir=profiles, insecure=True,
                           transport="direct") as direct:
            for _ in range(5):  # warm the connection pools and the browser
                for client in (impersonate, page, direct):
                    await timed_stream(client.stream(MESSAGES))
            mine, theirs = await interleaved(
                n, lambda: timed_stream(impersonate.stream(MESSAGES)), lambda: timed_stream(direct.stream(MESSAGES))
            )
            in_page, beside = await interleaved(
                max(3, n // 3), lambda: timed_stream(page.stream(MESSAGES)), lambda: timed_stream(direct.stream(MESSAGES))
            )
        env = {**os.environ, "AURA_PROFILE_DIR": profiles}
        ask = [*aura_command(), "ask", "--insecure", "--base-url"]
        processes: dict[str, list[tuple[float, int]]] = {"impersonate": [], "direct": [], "page": []}
        for _ in range(max(3, n // 10)):
            processes["impersonate"].append(run_measured(
                [*ask, strict.url, "--profile", "b8", "--transport", "impersonate", "Benchmark me"], env))
            processes["direct"].append(run_measured(
                [*ask, replica.url, "--profile", "b8-direct", "--transport", "direct", "Benchmark me"], env))
        processes["page"].append(run_measured(
            [*ask, strict.url, "--profile", "b8", "--transport", "page", "Benchmark me"], env))
    finally:
        strict.close()
        replica.close()
    rows = []
    for index, what in ((0, "first byte"), (1, "total")):
        row = Row("B8", f"strict gate, impersonate vs direct ungated: median {what}", median([m[index] for m in mine]) * 1000,
                  median([t[index] for t in theirs]) * 1000, "ms", "ratio <= 1.2", False)
        row.met = row.ratio <= 1.2
        rows.append(row)
    for index, what in ((0, "first byte"), (1, "total")):
        rows.append(Row("B8", f"strict gate, in-page (warm browser) vs direct ungated: median {what}",
                        median([m[index] for m in in_page]) * 1000, median([t[index] for t in beside]) * 1000, "ms",
                        "report", True))
    rss = Row("B8", "peak RSS of `ask --transport impersonate` vs the direct `ask` process",
              max(r[1] for r in processes["impersonate"]) / 1024, max(r[1] for r in processes["direct"]) / 1024, "MiB",
              "ratio <= 1.3", False)
    rss.met = rss.ratio <= 1.3
    page_rss = Row("B8", "peak RSS of `ask --transport page` (Python only; Chromium's own is B6) vs direct",
                   max(r[1] for r in processes["page"]) / 1024, max(r[1] for r in processes["direct"]) / 1024, "MiB",
                   "report", True)
    return [*rows, rss, page_rss]


async def peak_pss_during(work: Awaitable[Any]) -> tuple[Any, float]:
    """`work`'s result, and the peak summed PSS of our browser (Chromium and its Xvfb) while it ran."""
    peak = 0.0
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, await asyncio.to_thread(chromium_pss_mib, os.getpid(), ("chrom", "Xvfb")))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    try:
        return await work, peak
    finally:
        done.set()
        await sampler


async def b7_stealth(profiles: str, n: int, driver: str = "playwright") -> list[Row]:
    """Login in the default stealth mode (headed on a private Xvfb, patchright) against a plain headless one."""
    which = "" if driver == "playwright" else f" ({driver} driver)"
    gated = Replica(gate="challenge")
    try:
        gated.configure(challenge_delay=1.0)

        def login(headless: bool | None) -> Callable[[], Awaitable[tuple[float, float]]]:
            async def run() -> tuple[float, float]:
                started = time.perf_counter()

                async def work() -> None:
                    async with AuraClient(gated.url, profile="b7s", profile_dir=profiles, headless=headless,
                                          driver=driver) as client:
                        await client.login()

                _, peak = await peak_pss_during(work())
                return time.perf_counter() - started, peak

            return run

        mine, theirs = await interleaved(n, login(None), login(True))
    finally:
        gated.close()
    extra_time = (median([m[0] for m in mine]) - median([t[0] for t in theirs])) * 1000
    extra_pss = max(m[1] for m in mine) - max(t[1] for t in theirs)
    time_row = Row("B7", f"login{which}, stealth default vs --headless: time", median([m[0] for m in mine]) * 1000,
                   median([t[0] for t in theirs]) * 1000, "ms", "at most +300 ms", extra_time <= 300,
                   f"{extra_time:+.0f} ms")
    pss_row = Row("B7", f"login{which}, stealth default vs --headless: peak browser PSS (Chromium + Xvfb)",
                  max(m[1] for m in mine), max(t[1] for t in theirs), "MiB", "at most +100 MiB", extra_pss <= 100,
                  f"{extra_pss:+.0f} MiB")
    return [time_row, pss_row]


# --- B9 -------------------------------------------------------------------------------------


async def b9_flagged(drivers: tuple[str, ...] = ("playwright", "selenium")) -> list[Row]:
    """How many of the botcheck gate's checks flag each driver's default browser, beside a forced headless one."""
    from aura_browser.doctor.stealth import stealth_report
    from aura_browser.drivers.base import LaunchOptions

    rows = []
    for driver in drivers:
        ours = await stealth_report(driver, LaunchOptions())
        plain = await stealth_report(driver, LaunchOptions(headless=True))
        rows.append(Row("B9", f"botcheck checks that flag the {driver} driver ({ours.mode}) vs --headless",
                        len(ours.failing), len(plain.failing), "checks", "0", not ours.failing,
                        ", ".join(row["id"] for row in ours.failing) or "none"))
    return rows


# --- B10 ------------------------------------------------------------------------------------


async def b10_interactive(profiles: str, n: int, driver: str = "playwright") -> list[Row]:
    """Login (default mode) through the interactive gate, whose widget shows "Verifying..." for 1.5 s before its
    checkbox, beside the same login through the 1 s challenge of B7."""
    which = "" if driver == "playwright" else f" ({driver} driver)"
    interactive, plain = Replica(gate="interactive"), Replica(gate="challenge")
    try:
        interactive.configure(interactive_delay=1.5)
        plain.configure(challenge_delay=1.0)

        def login(url: str) -> Callable[[], Awaitable[float]]:
            async def run() -> float:
                started = time.perf_counter()
                async with AuraClient(url, profile="b10", profile_dir=profiles, driver=driver) as client:
                    await client.login()
                return time.perf_counter() - started

            return run

        mine, theirs = await interleaved(n, login(interactive.url), login(plain.url))
        clicks = interactive.stats()
    finally:
        interactive.close()
        plain.close()
    note = f"{clicks['interactive_passed']} of {clicks['interactive_passed'] + clicks['interactive_failed']} clicks passed"
    return [Row("B10", f"login{which} through the interactive checkbox (1.5 s widget) vs a 1 s challenge",
                median(mine) * 1000, median(theirs) * 1000, "ms", "under 6000 ms", median(mine) < 6, note)]


# --- B11 ------------------------------------------------------------------------------------


async def b11_grid_login(profiles: str, n: int, grid: str) -> list[Row]:
    """Login with the Selenium driver through a Selenium Grid (hub and headed node) against the local Selenium
    driver, both in their stealthy default (headed), through the same 1 s challenge, interleaved.

    `grid`: a running Grid's URL, or "auto" for the tests' own (a hub and one node on loopback, tests/support/grid.py).
    """
    started_grid = None
    if grid == "auto":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.support.grid import Grid, NodeSpec

        started_grid = Grid(Path(tempfile.mkdtemp(prefix="aura-bench-grid-")), (NodeSpec("bench", 1),)).start()
        grid = started_grid.url
    gated = Replica(gate="challenge")
    try:
        gated.configure(challenge_delay=1.0)

        def login(remote: str | None) -> Callable[[], Awaitable[float]]:
            async def run() -> float:
                started = time.perf_counter()
                async with AuraClient(gated.url, profile="b11", profile_dir=profiles, driver="selenium",
                                      remote_webdriver=remote) as client:
                    await client.login()
                return time.perf_counter() - started

            return run

        mine, theirs = await interleaved(n, login(grid), login(None))
    finally:
        gated.close()
        if started_grid is not None:
            started_grid.stop()
    ratio = median(mine) / median(theirs)
    return [Row("B11", "login through a Selenium Grid vs the local selenium driver", median(mine) * 1000,
                median(theirs) * 1000, "ms", "<= 1.3x", ratio <= 1.3, f"{ratio:.2f}x")]


# --- the table ------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    lines = ["| # | figure | ours | baseline | ratio | target | met? |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        base = "—" if row.baseline != row.baseline else f"{row.baseline:.1f} {row.unit}"
        ratio = "—" if row.baseline != row.baseline else f"{row.ratio:.2f}"
        figure = row.figure + (f" ({row.note})" if row.note else "")
        lines.append(f"| {row.key} | {figure} | {row.ours:.1f} {row.unit} | {base} | {ratio} | {row.target} | "
                     f"{'yes' if row.met else 'NO'} |")
    return "\n".join(lines)


KEYS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10")


async def main(args: argparse.Namespace) -> list[Row]:
    quick = args.quick
    only = set(args.only.upper().split(",")) if args.only else set(KEYS)
    executable = find_chromium()
    rows: list[Row] = []
    replica = Replica()
    try:
        with tempfile.TemporaryDirectory(prefix="aura-bench-") as profiles:
            if "B1" in only:
                rows += await b1_direct_overhead(replica, profiles, 30 if quick else 300)
            if "B2" in only:
                rows += await b2_saved_profile(profiles, executable, 1 if quick else 10)
            if "B3" in only:
                rows += await b3_in_page(replica, profiles, 10 if quick else 100)
            if "B4" in only:
                rows += await b4_concurrency(replica, profiles, 100)
            if "B5" in only or "B6" in only:
                rows += b5_b6_processes(replica, profiles, 3 if quick else 40)
            if "B6" in only:
                rows += await b6_chromium(replica, profiles)
            if "B7" in only:
                rows += await b7_login(profiles, executable, 1 if quick else 5)
            if "B8" in only:
                rows += await b8_strict_gate(profiles, 10 if quick else 100)
            if "B7" in only:
                rows += await b7_stealth(profiles, 1 if quick else 5)
                rows += await b7_stealth(profiles, 1 if quick else 5, "selenium")
            if "B9" in only:
                rows += await b9_flagged()
            if "B10" in only:
                rows += await b10_interactive(profiles, 1 if quick else 5)
                rows += await b10_interactive(profiles, 1 if quick else 5, "selenium")
            if args.grid or (args.only and "B11" in only):
                rows += await b11_grid_login(profiles, 1 if quick else 5, args.grid or "auto")
    finally:
        replica.close()
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions: checks every row is produced")
    parser.add_argument("--json", metavar="PATH", help="also write the raw numbers as JSON")
    parser.add_argument("--only", metavar="KEYS", help="run only these rows, comma-separated: e.g. B7,B10")
    parser.add_argument("--grid", metavar="URL", help="add B11, login through this Selenium Grid ('auto': start one)")
    arguments = parser.parse_args()
    measured = asyncio.run(main(arguments))
    print(table(measured))
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(
            [{**row.__dict__, "ratio": row.ratio if row.baseline == row.baseline else None} for row in measured],
            indent=2, default=str))
