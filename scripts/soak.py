#!/usr/bin/env python3
"""Soak: many asks against the replica while it injects random faults; afterwards nothing may be left behind.

    python scripts/soak.py              # 500 sequential asks, a batch of 200 at concurrency 20, 50 in-page asks,
                                        # then 200 impersonate asks and 200 more at concurrency 20 over impersonate
    python scripts/soak.py --quick      # the same shape, smaller: what the test suite runs
    python scripts/soak.py --json       # the summary as one JSON object

The replica runs in its own process behind its JS challenge and drops, fails (500) or stalls a random 10%
of the replies (seeded). Checks, each one a line of the summary:

- every item is accounted for: its exact answer, or an error of a documented kind, and exactly as many
  errors as the replica injected faults (a fault never passes unnoticed, nothing else fails);
- open file descriptors are back to where they started (/proc/self/fd);
- no Chromium process started by this run is left;
- resident memory grew by less than 20% between the warm-up and the end.

Exit code 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aura_browser import AuraClient
from aura_browser.errors import NetworkError, SiteError, StreamInterrupted
from aura_browser.replica import reply_text
from aura_browser.replica.process import ReplicaProcess
from aura_browser.transports.base import Timeouts
from aura_browser.wire.api import as_messages

FAULT_KINDS = ("faults_drop", "faults_error", "faults_stall")
# What a fault may look like to the caller: a drop or stall mid-reply, a stall before it, the 500, and (in the
# page) a drop that Chromium reports before any text.
EXPECTED_ERRORS = (StreamInterrupted, NetworkError, SiteError)
MAX_RSS_GROWTH = 0.20


@dataclass
class Phase:
    name: str
    items: int = 0
    answered: int = 0
    errors: int = 0
    faults_injected: int = 0
    problems: list[str] = field(default_factory=list)

    def account(self, prompt: str, text: str, error: BaseException | None) -> None:
        """One item's outcome: the exact answer, or an expected error whose partial text is a prefix."""
        self.items += 1
        expected = reply_text(as_messages(prompt), "")
        if error is None:
            if text == expected:
                self.answered += 1
            else:
                self.problems.append(f"{prompt!r}: wrong answer {text[:60]!r}")
            return
        self.errors += 1
        if not isinstance(error, EXPECTED_ERRORS):
            self.problems.append(f"{prompt!r}: unexpected {error.__class__.__name__}: {error}")
        partial = getattr(error, "partial_text", text)
        if not expected.startswith(partial):
            self.problems.append(f"{prompt!r}: partial text is not a prefix of the answer")

    def check(self) -> list[str]:
        failures = [f"{self.name}: {problem}" for problem in self.problems[:10]]
        if self.answered + self.errors != self.items:
            failures.append(f"{self.name}: {self.items} items, {self.answered} answers, {self.errors} errors")
        if self.errors != self.faults_injected:
            failures.append(f"{self.name}: {self.errors} errors for {self.faults_injected} injected faults")
        return failures


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def chromium_descendants() -> list[int]:
    """Chromium processes that descend from this one."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                names[int(entry.name)] = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    ours, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - ours
        ours |= frontier
    return sorted(pid for pid in ours if "chrom" in names.get(pid, ""))


async def settle(measure: Any, done: Any, timeout: float = 15.0) -> Any:
    """Poll `measure()` until `done(value)` or the timeout (closed things go away a moment later)."""
    deadline = time.monotonic() + timeout
    value = measure()
    while not done(value) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        value = measure()
    return value


def faults(replica: ReplicaProcess) -> int:
    stats = replica.stats()
    return sum(stats[kind] for kind in FAULT_KINDS)


async def ask_one(client: AuraClient, prompt: str) -> tuple[str, BaseException | None]:
    parts: list[str] = []
    try:
        async for chunk in client.stream(as_messages(prompt)):
            parts.append(chunk)
    except Exception as exc:  # accounted for by Phase.account
        return "".join(parts), exc
    return "".join(parts), None


async def sequential(name: str, client: AuraClient, replica: ReplicaProcess, count: int) -> Phase:
    phase = Phase(name)
    before = faults(replica)
    for n in range(count):
        prompt = f"{name} {n}"
        text, error = await ask_one(client, prompt)
        phase.account(prompt, text, error)
    phase.faults_injected = faults(replica) - before
    return phase


async def batch(client: AuraClient, replica: ReplicaProcess, count: int, concurrency: int,
                name: str = "batch") -> tuple[Phase, str]:
    """The items through the batch module's run_batch, as `aura-browser batch` runs them."""
    from aura_browser.tools.batch import parse_item, run_batch

    phase = Phase(name)
    before = faults(replica)
    prompts = {f"item-{n}": f"{name} {n}" for n in range(count)}
    items = [parse_item(json.dumps({"id": item_id, "prompt": prompt}), line)
             for line, (item_id, prompt) in enumerate(prompts.items(), 1)]
    records: list[dict[str, Any]] = []
    await run_batch(client, items, records.append, concurrency=concurrency)
    by_id = {record["id"]: record for record in records}
    if len(records) != count or set(by_id) != set(prompts):
        phase.problems.append(f"{len(records)} records for {count} items, ids {len(set(by_id))} distinct")
    for item_id, prompt in prompts.items():
        record = by_id.get(item_id, {"text": "", "error": "no record"})
        error = StreamInterrupted(record["error"], record["text"]) if record["error"] else None
        phase.account(prompt, record["text"], error)
    how = "aura_browser.tools.batch.run_batch"
    phase.faults_injected = faults(replica) - before
    return phase, how


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    summary: dict[str, Any] = {"settings": vars(args).copy(), "failures": []}
    failures: list[str] = summary["failures"]
    profiles = tempfile.mkdtemp(prefix="aura-soak-")
    timeouts = Timeouts(connect=5, first_byte=args.timeout, idle=args.timeout)
    with ReplicaProcess(gate="challenge") as replica:
        fds_start = open_fds()
        direct = AuraClient(replica.url, profile_dir=profiles, timeouts=timeouts, login_timeout=60)
        page = AuraClient(replica.url, profile_dir=profiles, timeouts=timeouts, login_timeout=60, transport="page")
        # One curl_cffi session shared by every stream of this client, concurrent ones too.
        impersonate = AuraClient(replica.url, profile_dir=profiles, timeouts=timeouts, login_timeout=60,
                                 transport="impersonate")
        try:
            warm = [await sequential("warm-up", client, replica, 3) for client in (direct, page, impersonate)]
            failures += [f for phase in warm for f in phase.check()]
            rss_start = rss_kb()

            replica.configure(fault_rate=args.fault_rate, fault_seed=args.seed)
            phases = [await sequential("ask", direct, replica, args.asks)]
            batch_phase, how = await batch(direct, replica, args.batch, args.concurrency)
            phases.append(batch_phase)
            summary["batch_runner"] = how
            phases.append(await sequential("in-page", page, replica, args.page_asks))
            phases.append(await sequential("impersonate", impersonate, replica, args.impersonate_asks))
            concurrent_phase, _ = await batch(impersonate, replica, args.impersonate_asks, args.concurrency,
                                              name="impersonate-batch")
            phases.append(concurrent_phase)
            rss_end = rss_kb()
        finally:
            await direct.close()
            await page.close()
            await impersonate.close()
        stats = replica.stats()

    fds_end = await settle(open_fds, lambda n: n <= fds_start)
    chromium_left = await settle(chromium_descendants, lambda pids: not pids)
    for phase in phases:
        failures += phase.check()
    growth = (rss_end - rss_start) / rss_start if rss_start else 0.0
    if fds_end > fds_start:
        failures.append(f"open file descriptors: {fds_start} at the start, {fds_end} at the end")
    if chromium_left:
        failures.append(f"Chromium processes left: {chromium_left}")
    if growth >= MAX_RSS_GROWTH:
        failures.append(f"resident memory grew {growth:.0%} ({rss_start} kB -> {rss_end} kB)")
    summary.update(
        phases=[asdict(phase) | {"problems": phase.problems[:10]} for phase in phases],
        faults={kind: stats[kind] for kind in FAULT_KINDS},
        logins=stats["clearances_issued"],
        fds={"start": fds_start, "end": fds_end},
        rss_kb={"after warm-up": rss_start, "end": rss_end, "growth": round(growth, 3)},
        chromium_left=chromium_left,
        ok=not failures,
    )
    return summary


def report(summary: dict[str, Any]) -> str:
    lines = [f"batch runner: {summary.get('batch_runner', '?')}"]
    for phase in summary.get("phases", []):
        lines.append(f"{phase['name']:>17}: {phase['items']} items, {phase['answered']} answered, "
                     f"{phase['errors']} errors for {phase['faults_injected']} injected faults")
    lines.append(f"faults injected: {summary.get('faults')}; logins: {summary.get('logins')}")
    lines.append(f"open fds: {summary['fds']['start']} -> {summary['fds']['end']}")
    rss = summary["rss_kb"]
    lines.append(f"RSS: {rss['after warm-up']} kB -> {rss['end']} kB ({rss['growth']:+.1%})")
    lines.append(f"Chromium left: {summary['chromium_left'] or 'none'}")
    lines += [f"FAILED: {failure}" for failure in summary["failures"]]
    lines.append("soak: ok" if summary["ok"] else "soak: FAILED")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="40 asks, a batch of 40 at concurrency 8, 10 in-page, 20 + 20 impersonate")
    parser.add_argument("--asks", type=int, default=500)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--page-asks", type=int, default=50)
    parser.add_argument("--impersonate-asks", type=int, default=200)
    parser.add_argument("--fault-rate", type=float, default=0.10)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--timeout", type=float, default=2.0, help="first-byte and idle timeout, seconds")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()
    if args.quick:
        args.asks, args.batch, args.concurrency, args.page_asks, args.impersonate_asks = 40, 40, 8, 10, 20
    summary = asyncio.run(soak(args))
    print(json.dumps(summary, indent=2) if args.json else report(summary))
    sys.exit(0 if summary["ok"] else 1)


if __name__ == "__main__":
    main()
