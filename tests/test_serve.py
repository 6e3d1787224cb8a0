"""`aura-browser serve`, run as a subprocess against the replica, driven by the official `openai` package."""

import asyncio
import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import openai
import pytest

from tests.support.cli import SECRET, cli_process, finish
from tests.support.profiles import save_plain_profile
from tests.support.replies import answer


def raw_post(url: str, body: bytes, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_openai_client_streams_and_not_through_the_gate_on_one_login(replica, start_server):
    base = start_server("--base-url", replica.url)
    client = openai.OpenAI(base_url=base, api_key="unused", max_retries=0)

    whole = client.chat.completions.create(
        model="openchat_3.6", messages=[{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hi"}],
    )
    assert whole.object == "chat.completion" and whole.model == "openchat_3.6"
    assert whole.choices[0].message.role == "assistant" and whole.choices[0].finish_reason == "stop"
    assert whole.choices[0].message.content == answer("Hi", "Be brief")

    replica.config.hold_after = 1
    stream = iter(client.chat.completions.create(
        model="openchat_3.6", stream=True, temperature=0.2,
        messages=[{"role": "user", "content": [{"type": "text", "text": "Stream "}, {"type": "text", "text": "me"}]}],
    ))
    chunks = [next(stream)]
    while not chunks[-1].choices[0].delta.content:
        chunks.append(next(stream))
    # Text reached the caller while the site's reply was still held open: it streams, it is not buffered.
    # (The replica writes a chunk before it counts itself as holding, so wait for that count.)
    assert replica.stats.wait_until(lambda s: s.holding == 1, 10) and replica.stats.chat_completed == 1
    replica.config.hold_after = None
    replica.release()
    chunks += list(stream)
    texts = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert "".join(texts) == answer("Stream me") and len(texts) >= 2
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert replica.stats.last_chat_body["temperature"] == 0.2

    assert "openchat_3.6" in [m.id for m in client.models.list()]
    assert client.models.retrieve("openchat_3.6").owned_by == "openchat"
    assert replica.stats.clearances_issued == 1  # both requests used the one profile the first one captured


async def test_concurrent_requests_are_served_concurrently(make_replica, env, start_server):
    replica = make_replica(gate="off", hold_after=1)
    save_plain_profile(env["AURA_PROFILE_DIR"], replica.url)
    client = openai.AsyncOpenAI(base_url=start_server("--base-url", replica.url), api_key="unused", max_retries=0)

    async def ask(prompt: str, stream: bool) -> str:
        messages = [{"role": "user", "content": prompt}]
        if not stream:
            return (await client.chat.completions.create(model="openchat_3.6", messages=messages)).choices[0].message.content
        parts = []
        async for chunk in await client.chat.completions.create(model="openchat_3.6", messages=messages, stream=True):
            parts.append(chunk.choices[0].delta.content or "")
        return "".join(parts)

    both = asyncio.gather(ask("one", stream=True), ask("two", stream=False))
    # Both replies are in flight at the same time, each held by the replica after its first chunk.
    assert await asyncio.to_thread(replica.stats.wait_until, lambda s: s.holding == 2, 30)
    replica.config.hold_after = None
    replica.release()
    assert await both == [answer("one"), answer("two")]
    await client.close()


def test_api_key_is_required_when_set_and_never_printed(make_replica, env, start_server):
    replica = make_replica(gate="off")
    save_plain_profile(env["AURA_PROFILE_DIR"], replica.url)
    base = start_server("--base-url", replica.url, extra_env={"AURA_SERVE_API_KEY": SECRET})
    messages = [{"role": "user", "content": "Hi"}]

    with pytest.raises(openai.AuthenticationError) as wrong:
        openai.OpenAI(base_url=base, api_key="wrong", max_retries=0).chat.completions.create(
            model="openchat_3.6", messages=messages)
    assert wrong.value.status_code == 401 and wrong.value.code == "invalid_api_key"
    status, body = raw_post(base + "/chat/completions", json.dumps({"model": "m", "messages": messages}).encode())
    assert status == 401 and body["error"]["code"] == "invalid_api_key"  # no Authorization header at all
    assert replica.stats.chat_requests == 0

    right = openai.OpenAI(base_url=base, api_key=SECRET, max_retries=0)
    assert right.chat.completions.create(model="openchat_3.6", messages=messages).choices[0].message.content == \
        answer("Hi")


def test_errors_are_openai_error_objects_with_fitting_statuses(make_replica, env, start_server):
    replica = make_replica(gate="off")
    save_plain_profile(env["AURA_PROFILE_DIR"], replica.url)
    base = start_server("--base-url", replica.url)
    client = openai.OpenAI(base_url=base, api_key="unused", max_retries=0)

    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="openchat_3.6", messages=[{"role": "system", "content": "only this"}])
    assert bad.value.status_code == 400 and "no user message" in bad.value.message
    with pytest.raises(openai.BadRequestError, match="tool"):
        client.chat.completions.create(model="openchat_3.6", messages=[{"role": "tool", "content": "x"}])
    status, body = raw_post(base + "/chat/completions", b"{not json")
    assert status == 400 and body["error"]["type"] == "invalid_request_error"

    with pytest.raises(openai.APIStatusError) as upstream:  # the site answers an unknown model with 500 Error
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "Hi"}], stream=True)
    assert upstream.value.status_code == 502 and upstream.value.code == "site_error"

    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4")
    status, body = raw_post(base.replace("/v1", "/v2/nothing"), b"{}")
    assert status == 404 and body["error"]["message"]


def test_a_reply_that_breaks_off_mid_stream_ends_with_an_error_event(make_replica, env, start_server):
    replica = make_replica(gate="off", drop_after=40, split_multibyte=False)
    save_plain_profile(env["AURA_PROFILE_DIR"], replica.url)
    client = openai.OpenAI(base_url=start_server("--base-url", replica.url), api_key="unused", max_retries=0)
    received = []
    with pytest.raises(openai.APIError, match="broke mid-reply"):
        for chunk in client.chat.completions.create(model="openchat_3.6", stream=True,
                                                    messages=[{"role": "user", "content": "Hi"}]):
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == answer("Hi").encode()[:40].decode()


def test_a_caller_that_leaves_mid_reply_aborts_the_sites_reply(make_replica, env, start_server):
    replica = make_replica(gate="off", hold_after=1)
    save_plain_profile(env["AURA_PROFILE_DIR"], replica.url)
    client = openai.OpenAI(base_url=start_server("--base-url", replica.url), api_key="unused", max_retries=0)
    stream = client.chat.completions.create(model="openchat_3.6", stream=True,
                                            messages=[{"role": "user", "content": "Hi"}])
    next(iter(stream))
    assert replica.stats.wait_until(lambda s: s.holding == 1, 10)
    stream.close()
    assert replica.stats.wait_until(lambda s: s.holding == 0, 10)  # the server closed its request to the site
    assert replica.stats.chat_completed == 0


def test_blocked_everywhere_is_503(make_replica, env, start_server):
    replica = make_replica(gate="strict")
    client = openai.OpenAI(base_url=start_server("--base-url", replica.url, "--insecure", "--transport", "direct"),
                           api_key="unused", max_retries=0)
    with pytest.raises(openai.APIStatusError) as blocked:
        client.chat.completions.create(model="openchat_3.6", messages=[{"role": "user", "content": "Hi"}])
    assert blocked.value.status_code == 503 and blocked.value.code == "blocked"


def test_it_binds_to_loopback_by_default_and_warns_without_a_key_elsewhere(env):
    help_text = subprocess.run([sys.executable, "-m", "aura_browser", "serve", "--help"], capture_output=True,
                               text=True).stdout
    assert "default: 127.0.0.1" in help_text and "AURA_SERVE_API_KEY" in help_text
    with cli_process("serve", "--port", "0", "--host", "0.0.0.0", env=env) as process:
        assert "without --api-key" in process.stderr.readline().decode()
        assert " at http://0.0.0.0:" in process.stdout.readline().decode()
        process.send_signal(signal.SIGINT)
        assert finish(process).returncode == 0
