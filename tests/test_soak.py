"""The soak, short: scripts/soak.py --quick must pass every check (answers or counted errors, fds, Chromium, RSS).

The full run is `python scripts/soak.py` (500 asks, a batch of 200 at concurrency 20, 50 in-page asks).
"""

from __future__ import annotations

import json

from tests.support.cli import CHROME_IMPERSONATION
from tests.support.scripts import run_script


def test_the_quick_soak_passes_every_check():
    result = run_script("soak.py", "--quick", "--json", timeout=600, env=CHROME_IMPERSONATION)
    assert "Traceback" not in result.stderr.decode(), result.stderr.decode()[-3000:]
    summary = json.loads(result.stdout)
    assert summary["failures"] == [] and summary["ok"], summary["failures"]
    assert result.returncode == 0
    phases = {phase["name"]: phase for phase in summary["phases"]}
    assert phases["ask"]["items"] == 40 and phases["batch"]["items"] == 40 and phases["in-page"]["items"] == 10
    assert phases["impersonate"]["items"] == 20 and phases["impersonate-batch"]["items"] == 20
    assert sum(summary["faults"].values()) > 0  # faults were really injected, and all were accounted for
    assert sum(phase["errors"] for phase in phases.values()) == sum(summary["faults"].values())
    assert summary["chromium_left"] == [] and summary["fds"]["end"] <= summary["fds"]["start"]
