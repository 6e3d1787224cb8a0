"""Bad input gets one clear line and a documented exit code (or a typed error in Python), never a traceback.

Also in test_cli.py: an empty prompt, --temperature 3, --max-tokens 0, non-UTF-8 stdin, a bad base URL or
profile name (exit 2), and a corrupt profile (exit 3, naming its path).
"""

from __future__ import annotations

import json

import pytest

from aura_browser import AuraClient
from aura_browser.errors import InvalidRequest
from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages

from tests.support.cli import assert_one_line_error, err, out, run_cli
from tests.support.processes import chromium_pids, wait_for_no_new_chromium
from tests.support.profiles import save_plain_profile

_TAIL = "Grüße 👋"
MEGABYTE_PROMPT = "a" * (1_000_000 - len(_TAIL.encode())) + _TAIL  # exactly 1,000,000 UTF-8 bytes
ROOM_FOR_A_MEGABYTE = 2_000_000  # a tokenLimit the app trims a 1 MB question to nothing below


# --- the Python API: wrong input is InvalidRequest before anything is sent -----------------------------------


@pytest.mark.parametrize(
    "messages, options, message",
    [
        ([{"role": "user", "content": ""}], {}, "the prompt is empty"),
        ([{"role": "user", "content": "  \n\t"}], {}, "the prompt is empty"),
        ([{"role": "system", "content": "only a system prompt"}], {}, "no user message"),
        ([], {}, "no user message"),
        ([{"role": "tool", "content": "Hi"}], {}, "role 'tool'"),
        ([{"role": "function", "content": "Hi"}], {}, "role 'function'"),
        ([{"content": "Hi"}], {}, "role None"),
        (["Hi"], {}, "not a mapping"),
        ([{"role": "user", "content": 42}], {}, "content must be a string"),
        (as_messages("Hi"), {"temperature": 2.01}, "outside [0, 2]"),
        (as_messages("Hi"), {"temperature": -0.1}, "outside [0, 2]"),
        (as_messages("Hi"), {"temperature": float("nan")}, "outside [0, 2]"),
        (as_messages("Hi"), {"max_tokens": 0}, "max_tokens must be positive"),
        (as_messages("Hi"), {"max_tokens": -5}, "max_tokens must be positive"),
    ],
)
async def test_bad_messages_and_options_are_refused_before_anything_is_sent(gateless_site, make_client, messages, options,
                                                                           message):
    before = chromium_pids()
    client = make_client(gateless_site.url)
    with pytest.raises(InvalidRequest) as caught:
        async for _ in client.stream(messages, **options):
            pass
    assert message in str(caught.value)
    assert gateless_site.stats.chat_requests == 0
    assert chromium_pids() == before  # no login was attempted for it


@pytest.mark.parametrize(
    "options, message",
    [
        ({"transport": "carrier-pigeon"}, "unknown transport"),
        ({"profile": "../escape"}, "profile name"),
        ({"proxy": "not a proxy"}, "must look like http://"),
    ],
)
def test_bad_client_options_are_refused_at_construction(options, message, profile_dir):
    with pytest.raises(InvalidRequest, match=message):
        AuraClient("http://127.0.0.1:9", profile_dir=profile_dir, **options)


# --- the CLI ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["ask", "   "], None, "the prompt is empty"),
        (["ask", "-"], b"", "the prompt is empty"),
        (["ask", "-"], b"caf\xe9 latin-1", "stdin is not valid UTF-8 (byte 3)"),
        (["ask", b"caf\xe9 latin-1"], None, "(user) is not valid UTF-8 text (at character 3)"),
        (["ask", "--system", b"\xff", "Hi"], None, "(system) is not valid UTF-8 text"),
        (["ask", "--temperature", "-0.5", "Hi"], None, "-0.5"),
        (["ask", "--temperature", "nan", "Hi"], None, "temperature nan is outside [0, 2]"),
        (["ask", "--max-tokens", "-1", "Hi"], None, "-1"),
        (["ask", "--max-tokens", "lots", "Hi"], None, "'lots' is not a valid integer"),
        (["ask", "--base-url", "http://[::1", "Hi"], None, "base URL 'http://[::1' must look like"),
        (["ask", "--base-url", "http://127.0.0.1:99999", "Hi"], None, "must look like https://host"),
        (["ask", "--proxy", "nonsense", "Hi"], None, "proxy 'nonsense' must look like http://"),
        (["ask", "--proxy", "ftp://user:hunter2@host:21", "Hi"], None, "proxy 'ftp://user:***@host:21'"),
        (["ask", "--transport", "pigeon", "Hi"], None, "'pigeon' is not one of"),
    ],
)
def test_bad_cli_input_is_one_line_and_exit_2(args, stdin, message, env):
    result = run_cli(*args, input=stdin, env={**env, "AURA_BASE_URL": "http://127.0.0.1:9"})
    assert result.returncode == 2, err(result)
    assert message in err(result)
    assert "Traceback" not in err(result) and "hunter2" not in err(result)


def test_a_bad_value_in_an_environment_variable_names_the_variable(env):
    result = run_cli("ask", "Hi", env={**env, "AURA_TEMPERATURE": "warm"})
    assert result.returncode == 2 and "AURA_TEMPERATURE" in err(result) and "Traceback" not in err(result)


def test_a_profile_file_that_is_not_text_exits_3_naming_its_path(profile_dir, env):
    profile_dir.mkdir(parents=True)
    path = profile_dir / "default.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    result = run_cli("ask", "--base-url", "http://127.0.0.1:9", "Hi", env=env)
    assert_one_line_error(result, 3, str(path))


def test_a_profile_of_another_site_is_refused_with_exit_3(make_replica, profile_dir, env):
    first, second = make_replica(gate="challenge"), make_replica(gate="challenge")
    save_plain_profile(profile_dir, first.url)
    result = run_cli("ask", "--base-url", second.url, "Hi", env=env)
    assert_one_line_error(result, 3, f"captured for {first.url}", "aura-browser login")
    assert second.stats.chat_requests == 0 and second.stats.challenges_served == 0


def test_a_batch_line_that_is_not_json_gets_an_error_record_and_the_batch_goes_on(gateless_site, env):
    lines = [
        json.dumps({"id": "a", "prompt": "first"}),
        "this is not JSON {",
        json.dumps({"id": "b", "prompt": "second"}),
        json.dumps({"id": "c", "messages": [{"role": "tool", "content": "x"}]}),
        json.dumps({"id": "d", "prompt": "third"}),
    ]
    result = run_cli("batch", "--base-url", gateless_site.url, "-", input="\n".join(lines).encode(), env=env)
    assert "Traceback" not in err(result)
    records = [json.loads(line) for line in out(result).splitlines()]
    by_id = {record["id"]: record for record in records}
    assert len(records) == 5
    for item_id, prompt in (("a", "first"), ("b", "second"), ("d", "third")):
        assert by_id[item_id]["text"] == reply_text(as_messages(prompt), "") and by_id[item_id]["error"] is None
    bad = [record for record in records if record["id"] not in ("a", "b", "c", "d")]
    assert len(bad) == 1 and "line 2" in bad[0]["error"]
    assert "role 'tool'" in by_id["c"]["error"]
    assert result.returncode == 8  # the documented code for "some items failed"
    assert gateless_site.stats.chat_requests == 3


def test_a_one_megabyte_prompt_is_sent_whole(gateless_site, env):
    assert len(MEGABYTE_PROMPT.encode()) == 1_000_000
    result = run_cli("ask", "--base-url", gateless_site.url, "--max-tokens", str(ROOM_FOR_A_MEGABYTE), "-",
                     input=MEGABYTE_PROMPT.encode(), env=env)
    assert result.returncode == 0, err(result)[:500]
    assert gateless_site.stats.last_chat_body["messages"][0]["content"] == MEGABYTE_PROMPT
    assert out(result) == reply_text(as_messages(MEGABYTE_PROMPT), "") + "\n"


async def test_a_one_megabyte_prompt_goes_through_the_page_too(make_replica, make_client):
    replica = make_replica(gate="challenge")
    before = chromium_pids()
    client = make_client(replica.url, transport="page")
    assert await client.ask(MEGABYTE_PROMPT, max_tokens=ROOM_FOR_A_MEGABYTE) == reply_text(as_messages(MEGABYTE_PROMPT), "")
    assert replica.stats.last_chat_body["messages"][0]["content"] == MEGABYTE_PROMPT
    await client.close()
    wait_for_no_new_chromium(before)
