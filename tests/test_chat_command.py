"""`aura-browser chat`, end to end as a subprocess: piped lines, and Ctrl-C on a terminal mid-reply."""

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

from tests.support.cli import run_cli
from tests.support.processes import chromium_pids, wait_for_no_new_chromium
from tests.support.profiles import save_plain_profile
from tests.support.replies import answer


def test_piped_lines_keep_history_obey_commands_and_save_the_sites_shape(make_replica, env, tmp_path):
    replica = make_replica(gate="off")
    save_plain_profile(env["AURA_PROFILE_DIR"], replica.url)
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    script = "\n".join([
        "Hello", "/system Answer in French", "How are you?", f"/save {first}",
        "/reset", "Fresh start", f"/save {second}", "/bogus", "//slash", "/exit", "never sent",
    ]) + "\n"

    result = run_cli("chat", "--base-url", replica.url, input=script.encode(), env=env)
    assert result.returncode == 0, result.stderr.decode()
    french = "Answer in French"
    assert result.stdout.decode() == "".join(line + "\n" for line in [
        answer("Hello"), answer("How are you?", french), answer("Fresh start", french), answer("/slash", french),
    ])
    assert replica.stats.chat_requests == 4  # nothing after /exit was sent
    assert "unknown command /bogus" in result.stderr.decode()
    assert replica.stats.last_chat_body["messages"] == [
        {"role": "user", "content": "Fresh start"}, {"role": "assistant", "content": answer("Fresh start", french)},
        {"role": "user", "content": "/slash"},
    ]

    history = json.loads(first.read_text())
    assert isinstance(history, list) and len(history) == 1
    conversation = history[0]
    assert set(conversation) == {"id", "name", "messages", "model", "prompt", "temperature", "folderId"}
    assert conversation["name"] == "Hello" and conversation["prompt"] == french and conversation["folderId"] is None
    assert conversation["model"] == {"id": "openchat_3.6", "name": "OpenChat 3.6 (latest)", "maxLength": 24576,
                                     "tokenLimit": 8192}
    assert conversation["temperature"] == 0.5
    assert conversation["messages"] == [
        {"role": "user", "content": "Hello"}, {"role": "assistant", "content": answer("Hello")},
        {"role": "user", "content": "How are you?"}, {"role": "assistant", "content": answer("How are you?", french)},
    ]
    after_reset = json.loads(second.read_text())[0]
    assert after_reset["id"] != conversation["id"] and after_reset["name"] == "Fresh start"
    assert after_reset["prompt"] == french and len(after_reset["messages"]) == 2


def test_an_error_reply_is_reported_and_the_session_goes_on(make_replica, env):
    replica = make_replica(gate="off")
    save_plain_profile(env["AURA_PROFILE_DIR"], replica.url)
    script = "Hi\n/system x\nbad model\n"
    result = run_cli("chat", "--base-url", replica.url, "--model", "nope", input=script.encode(), env=env)
    assert result.returncode == 5  # piped: the last failed reply's code, after every line was handled
    stderr = result.stderr.decode()
    assert stderr.count("aura-browser: error: site error 500") == 2 and "system prompt: x" in stderr
    assert "Traceback" not in stderr


class Terminal:
    """The controlling side of a pty: write keystrokes, wait (on select, not sleeps) for text to appear."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.seen = b""
        self.read_up_to = 0  # each wait looks only after what the previous one found

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while (found := self.seen.find(text.encode(), self.read_up_to)) < 0:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {text!r}; the screen shows {self.seen.decode(errors='replace')!r}"
            if select.select([self.fd], [], [], left)[0]:
                self.seen += os.read(self.fd, 4096)
        self.read_up_to = found + len(text.encode())


@pytest.mark.parametrize("transport", ["direct", "page"])
def test_ctrl_c_stops_the_reply_not_the_session(make_replica, env, transport, tmp_path):
    replica = make_replica(gate="off" if transport == "direct" else "challenge", hold_after=2, split_multibyte=False)
    if transport == "direct":
        save_plain_profile(env["AURA_PROFILE_DIR"], replica.url)
    before = chromium_pids()
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "aura_browser", "chat", "--base-url", replica.url, "--transport", transport],
        stdin=terminal, stdout=terminal, stderr=terminal, env={**os.environ, **env},
    )
    os.close(terminal)
    screen = Terminal(controller)
    try:
        screen.wait_for("you> ")
        screen.type("Hi\n")
        assert replica.stats.wait_until(lambda s: s.holding == 1, 60), "the reply never started"
        partial = answer("Hi").encode()[:32].decode()  # the two chunks sent before the replica held the reply
        screen.wait_for(partial)
        process.send_signal(signal.SIGINT)
        screen.wait_for("[reply stopped]")
        screen.wait_for("you> ")
        # The request was abandoned, not finished: the replica's held stream went away.
        assert replica.stats.wait_until(lambda s: s.holding == 0, 20) and replica.stats.chat_completed == 0

        replica.config.hold_after = None
        screen.type("again\n")
        screen.wait_for(answer("again"))
        assert replica.stats.last_chat_body["messages"][:2] == [
            {"role": "user", "content": "Hi"}, {"role": "assistant", "content": partial},  # what arrived is kept
        ]
        screen.type(f"/save {tmp_path / 'c.json'}\n")
        screen.wait_for("saved 4 messages")
        screen.type("/exit\n")
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        os.close(controller)
    wait_for_no_new_chromium(before)


@pytest.mark.parametrize("sig, code, word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGHUP, 129, "hung up")])
def test_sigterm_mid_reply_ends_the_session_and_closes_the_browser(make_replica, env, sig, code, word):
    replica = make_replica(gate="challenge", hold_after=1)
    before = chromium_pids()
    process = subprocess.Popen(
        [sys.executable, "-m", "aura_browser", "chat", "--base-url", replica.url, "--transport", "page"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env},
    )
    try:
        process.stdin.write(b"Hi\n")
        process.stdin.flush()
        assert replica.stats.wait_until(lambda s: s.holding == 1, 60), "the reply never started"
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == code and word in stderr.decode() and "Traceback" not in stderr.decode()
    wait_for_no_new_chromium(before)


async def test_save_writes_the_conversation_as_the_page_stores_it(make_replica, tmp_path):
    """The page's own entry after one message, next to /save's for the same exchange: same shape, same values."""
    from playwright.async_api import async_playwright

    from aura_browser.drivers.browser_path import find_chromium
    from aura_browser.tools.conversation import Conversation
    from aura_browser.wire.api import APP_SYSTEM_PROMPT

    replica = make_replica(gate="off")
    question = "What is the capital city of France, and why?"  # longer than the 30 characters of a name
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=find_chromium(), headless=True)
        try:
            page = await browser.new_page()
            await page.goto(replica.url + "/")
            await page.wait_for_selector("body[data-state=idle]")
            await page.fill("textarea.m-0", question)
            await page.click("#send")
            await page.wait_for_selector("body[data-state=idle] .message.assistant")
            stored = json.loads(await page.evaluate("localStorage.getItem('selectedConversation')"))
        finally:
            await browser.close()

    conversation = Conversation(temperature=stored["temperature"])  # the page's default, which is the app's: 1
    conversation.add_exchange(question, stored["messages"][1]["content"])
    conversation.save(tmp_path / "saved.json")
    saved = json.loads((tmp_path / "saved.json").read_text())[0]
    assert stored["temperature"] == 1 and stored["prompt"] == APP_SYSTEM_PROMPT
    assert stored["name"] == question[:30] + "..."
    assert {k: v for k, v in saved.items() if k != "id"} == {k: v for k, v in stored.items() if k != "id"}
    assert Conversation().to_site()["prompt"] == APP_SYSTEM_PROMPT  # no system prompt: the app's default
    short = Conversation()
    short.add_exchange("Hi", "Hello")
    assert short.to_site()["name"] == "Hi"
