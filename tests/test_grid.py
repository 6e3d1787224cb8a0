"""Browsers on a real Selenium Grid (a hub and headed nodes on loopback, tests/support/grid.py): unseen by the
botcheck gate, healed when the Grid ends a session, never leaking a slot, and never waiting in its queue past
the login timeout."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request

import pytest

from aura_browser.replica.botcheck import CHECKS

from tests.support.botcheck import failing, server_env
from tests.support.cli import assert_one_line_error, cli_process, finish, run_cli
from tests.support.grid import NODE_TAG, needs_grid
from tests.support.replies import answer

pytestmark = needs_grid


def on_node(name: str) -> list[str]:
    """The CLI options that send the request to one node of the test Grid (its `aura:node` tag)."""
    return ["--remote-capability", f"{NODE_TAG}={json.dumps(name)}"]


def chat(base: str, prompt: str) -> str:
    body = json.dumps({"model": "openchat_3.6", "messages": [{"role": "user", "content": prompt}]}).encode()
    request = urllib.request.Request(base + "/chat/completions", data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            reply_text = json.load(reply)["choices"][0]["message"]["content"]
            assert reply_text == answer(prompt)
            return reply_text
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{error.code}: {error.read().decode()}") from None


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


def test_a_login_through_the_grid_clicks_through_the_interactive_checkbox(selenium_grid, make_replica, tmp_path):
    replica = make_replica(gate="interactive", interactive_delay=1.0)
    result = run_cli("login", "--remote-webdriver", selenium_grid.url, *on_node("main"), "--base-url", replica.url,
                     "--profile-dir", str(tmp_path), "--login-timeout", "60", env=server_env())
    assert result.returncode == 0, result.stderr.decode()
    assert replica.stats.interactive_passed == 1, replica.stats.last_interactive
    assert replica.stats.clearances_issued == 1
    selenium_grid.wait_until(lambda: not selenium_grid.sessions("main"), 5, "the session ended")


@pytest.fixture
def held_slot(selenium_grid):
    """Node `one`'s only slot, held by another client for the length of the test."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.add_argument("--headless=new")
    options.add_argument("--no-sandbox")
    options.set_capability(NODE_TAG, "one")
    holder = webdriver.Remote(selenium_grid.url, options=options)
    try:
        yield holder
    finally:
        holder.quit()


def test_a_serve_whose_grid_session_ended_answers_from_a_new_one(selenium_grid, replica, start_server):
    """Node `short` ends a session idle for 10 s; the next in-page request starts a new one, unseen by the caller."""
    base = start_server("--base-url", replica.url, "--transport", "page", "--remote-webdriver", selenium_grid.url,
                        *on_node("short"))
    assert chat(base, "before the Grid ends the session")
    first = selenium_grid.sessions("short")
    assert len(first) == 1
    selenium_grid.wait_until(lambda: not selenium_grid.sessions("short"), 60, "the Grid ending the idle session")
    assert chat(base, "after the Grid ended it")
    second = selenium_grid.sessions("short")
    assert len(second) == 1 and second != first


def test_serve_lets_an_unused_grid_session_go(selenium_grid, replica, start_server):
    """All traffic goes direct after the login: the Grid slot is given back after --remote-idle-timeout."""
    base = start_server("--base-url", replica.url, "--remote-webdriver", selenium_grid.url, *on_node("one"),
                        "--remote-idle-timeout", "1")
    assert chat(base, "one login, then direct")
    selenium_grid.wait_until(lambda: not selenium_grid.sessions("one"), 10, "the idle session let go")
    assert chat(base, "still direct, no browser needed")
    assert not selenium_grid.sessions("one")


def test_kill_9_of_a_client_frees_its_grid_slot_within_seconds(selenium_grid, replica, env):
    args = ("serve", "--port", "0", "--base-url", replica.url, "--transport", "page",
            "--remote-webdriver", selenium_grid.url, *on_node("one"))
    with cli_process(*args, env=env) as process:
        line = process.stdout.readline().decode()
        assert " at http://127.0.0.1:" in line, line
        assert chat(line.split(" at ")[1].split()[0], "hold a Grid session")
        assert len(selenium_grid.sessions("one")) == 1
        process.send_signal(signal.SIGKILL)
        process.wait()
    took = selenium_grid.wait_until(lambda: not selenium_grid.sessions("one"), 5, "the killed client's slot freed")
    assert took < 5


def test_the_login_timeout_bounds_the_wait_in_the_grids_queue(selenium_grid, held_slot, replica, env):
    started = time.monotonic()
    result = run_cli("login", "--remote-webdriver", selenium_grid.url, *on_node("one"), "--base-url", replica.url,
                     "--login-timeout", "4", env=env)
    elapsed = time.monotonic() - started
    assert_one_line_error(result, 7, "within 4s (--login-timeout)", "slots stayed busy")
    assert elapsed < 15, elapsed
    selenium_grid.wait_until(lambda: not selenium_grid.queue(), 3, "the Grid's queue emptied")


def test_ctrl_c_while_queued_exits_at_once_and_leaves_no_queued_request(selenium_grid, held_slot, replica, env):
    args = ("login", "--remote-webdriver", selenium_grid.url, *on_node("one"), "--base-url", replica.url,
            "--login-timeout", "60")
    with cli_process(*args, env=env) as process:
        selenium_grid.wait_until(lambda: selenium_grid.queue(), 30, "the login queued at the Grid")
        process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        result = finish(process)
    assert result.returncode == 130, result.stderr.decode()
    assert time.monotonic() - interrupted < 3
    selenium_grid.wait_until(lambda: not selenium_grid.queue(), 3, "the Grid's queue emptied")


@pytest.mark.parametrize(("args", "environment", "phrase"), [
    (["--remote-capability", "browserVersion"], {}, "KEY=JSON"),
    (["--remote-capability", "browserVersion=126.0"], {}, "not JSON"),  # valid JSON, a number: accepted
    ([], {"AURA_REMOTE_CAPABILITIES": "[1, 2]"}, "must be a JSON object"),
])
def test_bad_remote_capabilities_are_refused_before_any_browser(args, environment, phrase, env):
    result = run_cli("login", "--remote-webdriver", "http://127.0.0.1:9", *args, env={**env, **environment})
    if phrase == "not JSON":  # 126.0 is JSON: the run gets as far as the (absent) server
        assert result.returncode == 7 and "remote WebDriver" in result.stderr.decode()
        return
    assert result.returncode == 2, result.stderr.decode()
    assert phrase in result.stderr.decode() and "Traceback" not in result.stderr.decode()


def test_doctor_stealth_checks_a_browser_on_a_loopback_grid(selenium_grid):
    result = run_cli("doctor", "--stealth", "--json", "--remote-webdriver", selenium_grid.url, *on_node("main"),
                     env=server_env())
    assert result.returncode == 0, result.stderr.decode() + result.stdout.decode()
    report = json.loads(result.stdout)
    assert report["driver"] == "selenium" and report["mode"] == "headed" and report["passed"] is True, report


def test_a_50_prompt_batch_through_the_grid_answers_every_prompt(selenium_grid, make_replica, env):
    """The strict gate lets no replay through: the login and all 50 replies run in the Grid's browser, at -c 8."""
    replica = make_replica(gate="strict")
    lines = "".join(json.dumps({"id": n, "prompt": f"question {n}"}) + "\n" for n in range(50))
    result = run_cli("batch", "-", "-c", "8", "--insecure", "--base-url", replica.url, "--remote-webdriver", selenium_grid.url,
                     input=lines.encode(), env=env, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    got = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert sorted(r["id"] for r in got) == list(range(50))
    assert all(r["text"] == answer(f"question {r['id']}") and r["error"] is None for r in got), got
    assert {r["transport"] for r in got} == {"page"}
    selenium_grid.wait_until(lambda: not selenium_grid.sessions(), 5, "every Grid session ended")
