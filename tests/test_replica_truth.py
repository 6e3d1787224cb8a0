"""The replica behaves as the real OpenChat UI app was seen to, where only the replica can show it: what goes
upstream, and the knobs for the app's own failures. What is visible on the wire is the contract suite's
(aura_browser/testing/test_contract.py, run against the replica by tests/test_contract_suite.py)."""

from __future__ import annotations

import json

import aiohttp

from aura_browser.replica import reply_text
from aura_browser.wire.api import APP_SYSTEM_PROMPT, as_messages, build_body

from tests.support.cli import assert_one_line_error, err, out, run_cli


async def post_chat(url: str, body: dict | bytes) -> tuple[int, str]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "/api/chat", data=data) as response:
            return response.status, await response.text()


def raw_body(messages: list[dict], **fields) -> dict:
    body = build_body(as_messages("placeholder"))
    return {**body, "messages": messages, **fields}


async def test_empty_messages_send_the_system_prompt_alone_upstream(gateless_site):
    status, text = await post_chat(gateless_site.url, raw_body([], prompt="Be brief"))
    assert status == 200 and text == reply_text([], "Be brief")
    assert gateless_site.stats.last_upstream["messages"] == [] and gateless_site.stats.last_upstream["prompt"] == "Be brief"


async def test_a_system_message_inside_messages_is_passed_through(gateless_site):
    messages = [{"role": "system", "content": "inner"}, {"role": "user", "content": "Hi"}]
    status, _ = await post_chat(gateless_site.url, raw_body(messages))
    assert status == 200 and gateless_site.stats.last_upstream["messages"] == messages


async def test_empty_prompt_null_temperature_and_the_reply_budget_are_the_apps(gateless_site):
    status, text = await post_chat(gateless_site.url, raw_body([{"role": "user", "content": "Hi"}], prompt="",
                                                      temperature=None))
    assert status == 200 and text == reply_text(as_messages("Hi"), "")
    upstream = gateless_site.stats.last_upstream
    assert upstream["prompt"] == APP_SYSTEM_PROMPT
    assert upstream["temperature"] == 1 and upstream["max_tokens"] == 1000


async def test_token_limit_trimming_drops_the_oldest_then_the_question_silently(gateless_site):
    old, new = {"role": "user", "content": "word " * 400}, {"role": "user", "content": "What is 2+2?"}
    body = raw_body([old, {"role": "assistant", "content": "ok"}, new])
    body["model"]["tokenLimit"] = 1200
    status, _ = await post_chat(gateless_site.url, body)
    assert status == 200 and gateless_site.stats.last_upstream["messages"] == body["messages"][1:]
    body["model"]["tokenLimit"] = 500  # not even the question fits: answered anyway, about nothing
    status, text = await post_chat(gateless_site.url, body)
    assert status == 200 and gateless_site.stats.last_upstream["messages"] == []
    assert text == reply_text([], "")


async def test_a_huge_message_is_trimmed_and_a_5_mib_one_overflows_the_apps_tokenizer(gateless_site):
    huge = raw_body([{"role": "user", "content": "lorem ipsum dolor " * 20_000}])  # 360 KB, 60,000 tokens
    status, _ = await post_chat(gateless_site.url, huge)
    assert status == 200 and gateless_site.stats.last_upstream["messages"] == []
    status, text = await post_chat(gateless_site.url, raw_body([{"role": "user", "content": "a" * (5 * 1024 * 1024)}]))
    assert (status, text) == (500, "Error")  # what the app answers, after a long while: its tokenizer overflowed


def test_an_upstream_errors_message_reaches_the_user_from_the_reason_phrase(gateless_site, env):
    gateless_site.config.update({"upstream_down": True, "reason": "This model's maximum context length is 8192 tokens."})
    result = run_cli("ask", "--base-url", gateless_site.url, "Hi", env=env)
    assert_one_line_error(result, 5, "site error 500 This model's maximum context length is 8192 tokens.")


def test_a_reply_that_ends_cleanly_but_short_cannot_be_told_from_a_whole_one(gateless_site, env):
    gateless_site.config.update({"truncate_after": 20})  # not the app's way of breaking off: see hang_after
    result = run_cli("ask", "--base-url", gateless_site.url, "Hi", env=env)
    whole = reply_text(as_messages("Hi"), "")
    assert result.returncode == 0, err(result)  # nothing on the wire tells it from a whole reply
    assert out(result) == whole.encode()[:20].decode() + "\n" and err(result) == ""


def test_the_replica_says_that_the_app_breaking_off_hangs_rather_than_ends():
    help_text = " ".join(out(run_cli("replica", "--help")).split())
    hang = help_text[help_text.index("--hang-after"):help_text.index("--decode-per-packet")]
    truncate = help_text[help_text.index("--truncate-after"):help_text.index("--hang-after")]
    assert "upstream breaks off" in hang and "holds the connection open" in hang
    assert "never does this" in truncate


async def test_an_upstream_error_is_a_500_with_the_upstreams_message_as_reason(gateless_site):
    gateless_site.config.update({"fault_rate": 1.0, "fault_seed": 0})  # seed 0: the first fault is an upstream error
    async with aiohttp.ClientSession() as http:
        async with http.post(gateless_site.url + "/api/chat", data=json.dumps(raw_body(as_messages("Hi"))).encode()) as reply:
            assert reply.status == 500 and await reply.text() == "Error"
            assert reply.reason == "The server had an error while processing your request. Sorry about that!"
    assert gateless_site.stats.faults_error == 1


def test_a_reply_the_app_never_ends_is_met_by_the_idle_timeout(gateless_site, env):
    gateless_site.config.update({"hang_after": 20, "chunk_size": 4})
    result = run_cli("ask", "--base-url", gateless_site.url, "--idle-timeout", "1", "Hi", env=env)
    assert_one_line_error(result, 6, "the reply stalled: nothing for 1s")
    assert out(result) == reply_text(as_messages("Hi"), "").encode()[:20].decode() + "\n"


def test_characters_split_across_upstream_packets_arrive_as_replacement_characters(gateless_site, env):
    gateless_site.config.update({"decode_per_packet": True, "chunk_size": 16, "split_multibyte": True})
    result = run_cli("ask", "--base-url", gateless_site.url, "Grüße", env=env)
    assert result.returncode == 0, err(result)
    text = out(result)
    assert "\ufffd" in text and "ü" not in text  # every multi-byte character was cut between two packets
    assert text.startswith("Hello! You said: Gr\ufffd")


def test_the_replica_command_sets_the_app_failure_knobs(env):
    import os
    import signal
    import subprocess
    import sys
    import urllib.request

    args = ["--truncate-after", "10", "--hang-after", "5", "--decode-per-packet", "--upstream-down", "--reason", "x"]
    process = subprocess.Popen([sys.executable, "-m", "aura_browser", "replica", "--port", "0", "--gate", "off", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env})
    try:
        url = process.stdout.readline().decode().split("listening on ")[1].split()[0]
        with urllib.request.urlopen(url + "/__replica__/config", timeout=30) as response:
            config = json.loads(response.read())
        assert (config["truncate_after"], config["hang_after"]) == (10, 5)
        assert config["decode_per_packet"] is True and config["upstream_down"] is True and config["reason"] == "x"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=10) == 0
        finally:
            process.kill()


def test_the_replica_keeps_its_own_copy_of_the_apps_rules():
    """The replica imports nothing from the client, so one wrong constant or count cannot pass on both sides;
    the two copies, each written from what the real app was seen to do, must still agree."""
    from pathlib import Path

    from aura_browser import replica
    from aura_browser.replica import upstream

    for module in Path(replica.__file__).parent.glob("*.py"):
        source = module.read_text()
        assert "from .." not in source and "import aura_browser" not in source, module.name
    assert upstream.APP_SYSTEM_PROMPT == APP_SYSTEM_PROMPT
    assert upstream.count_tokens("word " * 400) == 403  # about one token a word, as Llama 3 counts prose
