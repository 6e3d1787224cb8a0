"""What `ask --json` prints and what `chat` exits with when replies fail: the outcome is never lost."""

from __future__ import annotations

import json

import pytest

from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages

from tests.support.cli import err, out, run_cli


def json_record(result) -> dict:
    lines = out(result).strip().splitlines()
    assert len(lines) == 1, out(result) + err(result)
    return json.loads(lines[0])


@pytest.mark.parametrize(("knobs", "args", "code", "error", "text"), [
    ({}, [], 0, None, "whole"),
    ({"status": 500, "reason": "upstream said no"}, [], 5, "site error 500 upstream said no", ""),
    ({"drop_after": 40}, [], 6, "broke mid-reply", "partial"),
    ({}, ["--max-tokens", "500"], 2, "tokenLimit 500", ""),
])
def test_ask_json_always_prints_one_object_and_keeps_the_exit_code(gateless_site, env, knobs, args, code, error, text):
    gateless_site.config.update(knobs)
    result = run_cli("ask", "--base-url", gateless_site.url, "--json", *args, "Hi", env=env)
    assert result.returncode == code, err(result)
    record = json_record(result)
    whole = reply_text(as_messages("Hi"), "")
    if error is None:
        assert record["error"] is None and record["text"] == whole
    else:
        assert error in record["error"]
    if text == "partial":
        assert record["text"] and whole.startswith(record["text"]) and record["text"] != whole
    elif text == "":
        assert record["text"] == ""
    assert {"transport", "model", "ttfb_ms", "elapsed_ms", "trimmed_messages"} <= set(record)


def test_piped_chat_exits_with_the_last_failed_replys_code(gateless_site, env):
    gateless_site.config.update({"status": 500, "faults_left": 1})  # the first reply fails, the second succeeds
    result = run_cli("chat", "--base-url", gateless_site.url, input=b"first\nsecond\n", env=env)
    assert result.returncode == 5, err(result)
    assert "site error 500" in err(result)
    assert reply_text(as_messages("second"), "") in out(result)

    gateless_site.config.update({"status": None})
    ok = run_cli("chat", "--base-url", gateless_site.url, input=b"first\nsecond\n", env=env)
    assert ok.returncode == 0, err(ok)

    gateless_site.config.update({"drop_after": 30, "faults_left": 1})
    dropped = run_cli("chat", "--base-url", gateless_site.url, input=b"first\nsecond\n", env=env)
    assert dropped.returncode == 6, err(dropped)
