"""Browsers on a real Selenium Grid (a hub and headed nodes on loopback, tests/support/grid.py): unseen by the
botcheck gate, healed when the Grid ends a session, never leaking a slot, and never waiting in its queue past
the login timeout."""

from __future__ import annotations

import json
import signal
import time
import urllib.request

import pytest

from aura_browser.replica.botcheck import CHECKS

from tests.support.botcheck import failing, server_env
from tests.support.cli import assert_one_line_error, cli_process, finish, run_cli
from tests.support.grid import NODE_TAG, needs_grid

pytestmark = needs_grid


def on_node(name: str) -> list[str]:
    """The CLI options that send the request to one node of the test Grid (its `aura:node` tag)."""
    return ["--remote-capability", f"{NODE_TAG}={json.dumps(name)}"]


def chat(base: str, prompt: str) -> str:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": prompt}]}).encode()
    request = urllib.request.Request(base + "/chat/completions", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.load(reply)["choices"][0]["message"]["content"]


def test_a_login_through_the_grid_passes_the_botcheck_gate_headed(selenium_grid, make_replica, tmp_path):
    replica = make_replica(gate="botcheck")
    result = run_cli("login", "-v", "--remote-webdriver", selenium_grid.url, *on_node("main"), "--base-url", replica.url,
                     "--profile-dir", str(tmp_path), "--login-timeout", "60", env=server_env())
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert "runs headed" in stderr, stderr
    assert replica.stats.botcheck_passed == 1 and replica.stats.botcheck_blocked == 0, failing(replica)
    rows = replica.stats.last_botcheck
    assert {row["id"] for row in rows} == set(CHECKS) and all(row["pass"] for row in rows), failing(replica)
    selenium_grid.wait_until(lambda: not selenium_grid.sessions("main"), 5, "the session ended")
