"""Ctrl-C and SIGTERM mid-reply: exit 130 / 143, what was printed stays printed, no browser left.

The in-page case is in test_cli.py (test_a_signal_during_an_in_page_reply_keeps_the_output_and_closes_the_browser);
it counts the Chromium processes that its own run started.
"""

from __future__ import annotations

import signal

import pytest

from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages

from tests.support.cli import CHROME_IMPERSONATION, cli_process, err, finish, out
from tests.support.processes import chromium_pids, wait_for_no_new_chromium
from tests.support.profiles import save_plain_profile


@pytest.mark.parametrize("transport", ["direct", "impersonate"])
@pytest.mark.parametrize("sig, code, word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_a_signal_during_a_direct_reply_keeps_the_output(make_replica, profile_dir, sig, code, word, transport):
    replica = make_replica(gate="off", hold_after=2, split_multibyte=False)
    save_plain_profile(profile_dir, replica.url)
    before = chromium_pids()
    env = {"AURA_PROFILE_DIR": str(profile_dir), **CHROME_IMPERSONATION}
    with cli_process("ask", "--base-url", replica.url, "--transport", transport, "Hi", env=env) as process:
        assert replica.stats.wait_until(lambda s: s.holding == 1, 30), "the reply never started"
        first = b""
        while len(first) < 32:  # the two chunks sent so far, once both are printed
            printed = process.stdout.read1(4096)
            if not printed:
                break
            first += printed
        process.send_signal(sig)
        result = finish(process, first)
    assert result.returncode == code, err(result)
    assert out(result) == reply_text(as_messages("Hi"), "").encode()[:32].decode() + "\n"
    assert err(result).strip() == f"aura-browser: {word}"
    assert replica.stats.chat_completed == 0
    assert replica.stats.wait_until(lambda s: s.holding == 0, 10)  # the transfer was closed, not left open
    wait_for_no_new_chromium(before)  # none was needed, and none was started
