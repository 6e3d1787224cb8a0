"""The replica of OpenChat UI and its gate, exercised over loopback with aiohttp, raw sockets and Chromium."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from aura_browser.replica import ReplicaConfig, ReplicaServer, reply_text
from aura_browser.replica.reply import chunk_body

CHROMIUM = "/usr/lib/chromium/chromium"
UA_A = "Mozilla/5.0 (X11; Linux x86_64) ReplicaTest/A"
UA_B = "Mozilla/5.0 (X11; Linux x86_64) ReplicaTest/B"
MODEL = {"id": "openchat_3.6", "name": "OpenChat 3.6 (latest)", "maxLength": 24576, "tokenLimit": 8192}
MESSAGES = [{"role": "user", "content": "Hello"}]
BODY = {"model": MODEL, "messages": MESSAGES, "key": "", "prompt": "", "temperature": 0.5}


@pytest.fixture
def replica(request: pytest.FixtureRequest) -> Iterator[ReplicaServer]:
    settings = getattr(request, "param", {})
    with ReplicaServer(ReplicaConfig(**settings)) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


def config(**settings: Any) -> pytest.MarkDecorator:
    """Run the test against a replica built with these ReplicaConfig settings."""
    return pytest.mark.parametrize("replica", [settings], indirect=True, ids=["replica"])


# --- raw HTTP/1.1, to see the bytes aiohttp's client would hide ---------------------------------------------


async def raw_request(server: ReplicaServer, head: str, body: bytes = b"") -> tuple[str, dict[str, str], bytes]:
    """Send one request with Connection: close; return the status line, headers (lower-cased) and raw body."""
    host, port = server.url.split("://", 1)[1].rsplit(":", 1)
    tls = server.url.startswith("https")
    context = _insecure_context() if tls else None
    reader, writer = await asyncio.open_connection(host, int(port), ssl=context)
    framing = f"\r\nHost: {host}:{port}\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n"
    writer.write((head + framing).encode() + body)
    await writer.drain()
    data = await reader.read()  # until the server closes
    writer.close()
    header_block, _, rest = data.partition(b"\r\n\r\n")
    status, *lines = header_block.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, rest


def chunk_frames(raw: bytes) -> tuple[list[bytes], bool]:
    """Split a chunked body into its chunks; the flag says whether the terminating zero chunk arrived."""
    frames: list[bytes] = []
    while raw:
        size_line, sep, raw = raw.partition(b"\r\n")
        if not sep:
            break
        size = int(size_line, 16)
        if size == 0:
            return frames, True
        frames.append(raw[:size])
        raw = raw[size + 2 :]
    return frames, False


def chat_head() -> str:
    return "POST /api/chat HTTP/1.1\r\nContent-Type: application/json"


def _insecure_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


# --- reply_text ---------------------------------------------------------------------------------------------


def test_reply_text_is_deterministic_and_multibyte() -> None:
    text = reply_text(MESSAGES, "")
    assert text == reply_text(MESSAGES, "")
    assert "Hello" in text
    widths = {len(char.encode()) for char in text}
    assert {2, 3, 4} <= widths
    assert reply_text(MESSAGES, "Be terse.").startswith("[system: Be terse.] ")


@pytest.mark.parametrize("size", [0, 1, 7, 100, 5000])
def test_reply_text_pads_to_exact_bytes(size: int) -> None:
    text = reply_text(MESSAGES, "sys", reply_bytes=size)
    assert len(text.encode("utf-8")) == size
    assert text == reply_text(MESSAGES, "sys", reply_bytes=size)


def test_chunks_split_every_multibyte_character() -> None:
    body = "aé中🌍".encode()
    assert chunk_body(body, 100) == [b"a\xc3", b"\xa9\xe4", b"\xb8\xad\xf0", b"\x9f\x8c\x8d"]
    assert chunk_body(body, 2, split_multibyte=False) == [b"a", "é".encode(), "中".encode(), "🌍".encode()]


# --- the site -----------------------------------------------------------------------------------------------


async def test_page_markup_and_next_data(replica: ReplicaServer, http: aiohttp.ClientSession) -> None:
    async with http.get(replica.url + "/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "Set-Cookie" not in response.headers
        html = await response.text()
    assert "<title>Chatbot UI</title>" in html
    match = re.search(r'<script id="__NEXT_DATA__" type="application/json">(.*?)</script>', html, re.S)
    assert match
    assert json.loads(match.group(1)) == {
        "props": {
            "pageProps": {
                "serverSideApiKeyIsSet": True,
                "defaultModelId": "openchat_3.6",
                "serverSidePluginKeysSet": False,
            }
        },
        "page": "/",
        "query": {},
        "buildId": "replica",
    }
    assert 'textarea class="m-0"' in html
    assert "placeholder=\\'Type a message or type \"/\" to select a prompt...\\'" in html
    assert 'placeholder="Enter a prompt..."' in html
    assert 'fetch("api/chat"' in html and 'fetch("api/models"' in html


@config(api_key="sk-test")
async def test_page_without_server_key(replica: ReplicaServer, http: aiohttp.ClientSession) -> None:
    async with http.get(replica.url + "/") as response:
        assert '"serverSideApiKeyIsSet": false' in await response.text()
    async with http.post(replica.url + "/api/models", json={"key": ""}) as response:
        assert response.status == 500
    async with http.post(replica.url + "/api/chat", json={**BODY, "key": "wrong"}) as response:
        assert (response.status, response.reason) == (500, "Incorrect API key provided")
    async with http.post(replica.url + "/api/chat", json={**BODY, "key": "sk-test"}) as response:
        assert response.status == 200


async def test_chinese_accept_language_redirects(replica: ReplicaServer, http: aiohttp.ClientSession) -> None:
    headers = {"Accept-Language": "zh-CN,zh;q=0.9"}
    async with http.get(replica.url + "/", headers=headers, allow_redirects=False) as response:
        assert response.status == 307
        assert response.headers["Location"] == "/zh"
    async with http.get(replica.url + "/zh", headers=headers) as response:
        assert response.status == 200
        assert "<title>Chatbot UI</title>" in await response.text()


async def test_models(replica: ReplicaServer, http: aiohttp.ClientSession) -> None:
    async with http.post(replica.url + "/api/models", json={"key": ""}) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/plain;charset=UTF-8"
        assert await response.text() == '[{"id":"openchat_3.6","name":"OpenChat 3.6 (latest)"}]'
    assert replica.stats.models_requests == 1


async def test_chat_streams_reply_without_content_type(replica: ReplicaServer) -> None:
    body = {**BODY, "prompt": "You are a test."}
    status, headers, raw = await raw_request(replica, chat_head(), json.dumps(body).encode())
    assert status == "HTTP/1.1 200 OK"
    assert "content-type" not in headers
    assert headers["transfer-encoding"] == "chunked"
    assert "set-cookie" not in headers
    frames, complete = chunk_frames(raw)
    assert complete
    expected = reply_text(MESSAGES, "You are a test.").encode()
    assert b"".join(frames) == expected
    assert len(frames) > 1
    broken = 0
    for frame in frames:
        try:
            frame.decode("utf-8")
        except UnicodeDecodeError:
            broken += 1
    assert broken > 0, "split_multibyte should cut characters across chunks"
    assert replica.wait_for_chat(timeout=0)
    assert replica.stats.last_chat_body == body
    assert replica.stats.chat_completed == 1


@config(split_multibyte=False, chunk_size=8)
async def test_chat_without_multibyte_splits(replica: ReplicaServer) -> None:
    _, _, raw = await raw_request(replica, chat_head(), json.dumps(BODY).encode())
    frames, complete = chunk_frames(raw)
    assert complete and len(frames) > 3
    assert "".join(frame.decode("utf-8") for frame in frames) == reply_text(MESSAGES, "")


@config(reply_bytes=20_000, chunk_size=1024)
async def test_chat_long_reply_through_aiohttp(replica: ReplicaServer, http: aiohttp.ClientSession) -> None:
    headers = {"User-Agent": UA_A}
    async with http.post(replica.url + "/api/chat", json=BODY, headers=headers) as response:
        assert response.status == 200
        assert "Content-Type" not in response.headers
        data = await response.read()
    assert data.decode("utf-8") == reply_text(MESSAGES, "", 20_000)
    assert replica.stats.last_chat_headers["user-agent"] == UA_A


@config(invalid_utf8=True)
async def test_chat_invalid_utf8(replica: ReplicaServer, http: aiohttp.ClientSession) -> None:
    async with http.post(replica.url + "/api/chat", json=BODY) as response:
        data = await response.read()
    assert b"\xff\xfe" in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        json.dumps({**BODY, "model": {**MODEL, "id": "openchat_v3.2_mistral"}}).encode(),
        json.dumps({k: v for k, v in BODY.items() if k != "messages"}).encode(),
        json.dumps({**BODY, "messages": [{"role": "tool", "content": "x"}, *MESSAGES]}).encode(),
    ],
    ids=["bad-json", "unknown-model", "missing-messages", "unknown-role"],
)
async def test_chat_errors(replica: ReplicaServer, http: aiohttp.ClientSession, payload: bytes) -> None:
    async with http.post(replica.url + "/api/chat", data=payload) as response:
        assert response.status == 500
        assert response.headers["Content-Type"] == "text/plain;charset=UTF-8"
        assert await response.text() == "Error"


async def test_chat_any_method_is_accepted(replica: ReplicaServer, http: aiohttp.ClientSession) -> None:
    async with http.put(replica.url + "/api/chat", json=BODY) as response:
        assert response.status == 200
        assert await response.text() == reply_text(MESSAGES, "")


@config(status=500, reason="This model's maximum context length is 8192 tokens.")
async def test_forced_status_and_reason(replica: ReplicaServer, http: aiohttp.ClientSession) -> None:
    async with http.post(replica.url + "/api/chat", json=BODY) as response:
        assert response.status == 500
        assert response.reason == "This model's maximum context length is 8192 tokens."
        assert await response.text() == "Error"
    replica.config.status, replica.config.reason, replica.config.retry_after = 429, None, 3
    async with http.post(replica.url + "/api/chat", json=BODY) as response:
        assert (response.status, response.headers["Retry-After"]) == (429, "3")


@config(drop_after=30)
async def test_drop_after_closes_mid_body(replica: ReplicaServer, http: aiohttp.ClientSession) -> None:
    _, _, raw = await raw_request(replica, chat_head(), json.dumps(BODY).encode())
    frames, complete = chunk_frames(raw)
    assert not complete
    assert b"".join(frames) == reply_text(MESSAGES, "").encode()[:30]
    async with http.post(replica.url + "/api/chat", json=BODY) as response:
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    assert replica.stats.chat_completed == 0


@config(hold_after=2, chunk_size=4)
async def test_hold_after_and_release(replica: ReplicaServer, http: aiohttp.ClientSession) -> None:
    async with http.post(replica.url + "/api/chat", json=BODY) as response:
        first = await response.content.readexactly(8)
        assert await asyncio.to_thread(replica.wait_for_hold, 5.0)
        assert replica.stats.chat_completed == 0
        replica.release()
        rest = await response.read()
    assert first + rest == reply_text(MESSAGES, "").encode()
    assert replica.stats.chat_completed == 1


@config(disabled=True)
async def test_disabled_deployment(replica: ReplicaServer, http: aiohttp.ClientSession) -> None:
    for method, path in [("GET", "/"), ("POST", "/api/chat"), ("GET", "/nowhere")]:
        async with http.request(method, replica.url + path) as response:
            assert response.status == 402
            assert response.headers["x-vercel-error"] == "DEPLOYMENT_DISABLED"
            text = await response.text()
            assert "This Deployment has been disabled" in text and "DEPLOYMENT_DISABLED" in text
    async with http.post(replica.url + "/__replica__/config", json={"disabled": False}) as response:
        assert (await response.json())["disabled"] is False
    async with http.get(replica.url + "/") as response:
        assert response.status == 200


async def test_admin_api(replica: ReplicaServer, http: aiohttp.ClientSession) -> None:
    async with http.post(replica.url + "/__replica__/config", json={"chunk_size": 3, "gate": "challenge"}) as r:
        assert r.status == 200
    assert (replica.config.chunk_size, replica.config.gate) == (3, "challenge")
    async with http.get(replica.url + "/__replica__/config") as r:  # admin paths skip the gate
        assert (await r.json())["chunk_size"] == 3
    async with http.post(replica.url + "/__replica__/config", json={"nope": 1}) as r:
        assert r.status == 400
    async with http.post(replica.url + "/__replica__/config", json={"gate": "maybe"}) as r:
        assert r.status == 400
    async with http.get(replica.url + "/") as r:
        assert r.status == 403
    async with http.get(replica.url + "/__replica__/stats") as r:
        assert (await r.json())["challenges_served"] == 1
    for path in ("release", "revoke"):
        async with http.post(replica.url + "/__replica__/" + path) as r:
            assert r.status == 200


# --- the gate -----------------------------------------------------------------------------------------------


async def solve_challenge(http: aiohttp.ClientSession, url: str, user_agent: str) -> aiohttp.ClientResponse:
    """Do what the challenge page's script does: read the signed nonce, answer it, POST it."""
    async with http.get(url + "/", headers={"User-Agent": user_agent}, ssl=False) as response:
        assert response.status == 403
        page = await response.text()
    challenge = json.loads(re.search(r"var c = (\{.*?\});", page).group(1))  # type: ignore[union-attr]
    answer = {**{k: challenge[k] for k in ("nonce", "issued", "sig")}, "answer": challenge["nonce"][::-1]}
    solve = url + challenge["solve"]
    async with http.post(solve, json=answer, headers={"User-Agent": user_agent}, ssl=False) as response:
        await response.read()
        return response


@config(gate="challenge")
async def test_challenge_page_for_cookieless_request(replica: ReplicaServer, http: aiohttp.ClientSession) -> None:
    for method, path in [("GET", "/"), ("POST", "/api/chat")]:
        async with http.request(method, replica.url + path, json=BODY) as response:
            assert response.status == 403
            assert response.headers["cf-mitigated"] == "challenge"
            assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
            assert response.headers["Cache-Control"] == "no-store"
            assert "Set-Cookie" not in response.headers
            html = await response.text()
        assert "<title>Just a moment...</title>" in html
        markers = ('<body class="no-js">', 'id="challenge-running"', 'id="challenge-stage"', 'class="cf-turnstile"')
        assert all(marker in html for marker in markers)
    assert replica.stats.challenges_served == 2
    assert replica.stats.chat_requests == 0


@config(gate="challenge", challenge_delay=0, cookie_ttl=600)
async def test_clearance_is_bound_to_user_agent_and_revocable(
    replica: ReplicaServer, http: aiohttp.ClientSession
) -> None:
    solved = await solve_challenge(http, replica.url, UA_A)
    assert solved.status == 200
    clearance = solved.cookies["cf_clearance"]
    assert clearance["httponly"] and clearance["path"] == "/"
    assert clearance["samesite"] == "Lax" and clearance["max-age"] == "600"
    assert "__cf_bm" in solved.cookies
    assert replica.stats.clearances_issued == 1

    async with http.get(replica.url + "/", headers={"User-Agent": UA_A}) as response:
        assert response.status == 200
        assert "<title>Chatbot UI</title>" in await response.text()
    async with http.post(replica.url + "/api/chat", json=BODY, headers={"User-Agent": UA_A}) as response:
        assert await response.text() == reply_text(MESSAGES, "")
    assert "cf_clearance" in replica.stats.chat_cookies[-1]
    async with http.get(replica.url + "/", headers={"User-Agent": UA_B}) as response:
        assert response.status == 403

    replica.revoke_clearances()
    async with http.get(replica.url + "/", headers={"User-Agent": UA_A}) as response:
        assert response.status == 403
        assert response.headers["cf-mitigated"] == "challenge"


@config(gate="challenge", challenge_delay=0, cookie_ttl=-60)
async def test_expired_clearance_is_refused(replica: ReplicaServer, http: aiohttp.ClientSession) -> None:
    solved = await solve_challenge(http, replica.url, UA_A)
    value = solved.cookies["cf_clearance"].value
    headers = {"User-Agent": UA_A, "Cookie": f"cf_clearance={value}"}
    async with http.get(replica.url + "/", headers=headers) as response:
        assert response.status == 403


@config(gate="challenge", challenge_delay=60)
async def test_solve_rejects_early_forged_and_wrong_answers(
    replica: ReplicaServer, http: aiohttp.ClientSession
) -> None:
    assert (await solve_challenge(http, replica.url, UA_A)).status == 403  # sooner than challenge_delay
    replica.config.challenge_delay = 0
    async with http.get(replica.url + "/") as response:
        challenge = json.loads(re.search(r"var c = (\{.*?\});", await response.text()).group(1))  # type: ignore[union-attr]
    good = {
        "nonce": challenge["nonce"],
        "issued": challenge["issued"],
        "sig": challenge["sig"],
        "answer": challenge["nonce"][::-1],
    }
    solve = replica.url + challenge["solve"]
    for bad in ({**good, "sig": "0" * 64}, {**good, "answer": challenge["nonce"]}, {**good, "issued": 1}):
        async with http.post(solve, json=bad) as response:
            assert response.status == 403
    async with http.post(solve, json=good) as response:
        assert response.status == 200
    assert replica.stats.clearances_issued == 1


@config(gate="challenge", tls=True, challenge_delay=0)
async def test_strict_blocks_openssl_hello_even_with_valid_cookie(
    replica: ReplicaServer, http: aiohttp.ClientSession
) -> None:
    assert replica.url.startswith("https://")
    solved = await solve_challenge(http, replica.url, UA_A)
    assert solved.status == 200
    assert solved.cookies["cf_clearance"]["samesite"] == "None" and solved.cookies["cf_clearance"]["secure"]
    async with http.get(replica.url + "/", headers={"User-Agent": UA_A}, ssl=False) as response:
        assert response.status == 200

    replica.config.gate = "strict"  # switched at runtime: the same cookie no longer helps
    async with http.get(replica.url + "/", headers={"User-Agent": UA_A}, ssl=False) as response:
        assert response.status == 403
        assert response.headers["cf-mitigated"] == "challenge"
    async with http.post(replica.url + "/api/chat", json=BODY, headers={"User-Agent": UA_A}, ssl=False) as r:
        assert r.status == 403
    assert (await solve_challenge(http, replica.url, UA_A)).status == 403
    assert replica.stats.tls_blocked >= 3
    assert replica.stats.tls_hellos >= 1 and replica.stats.tls_grease_hellos == 0
    assert replica.stats.chat_requests == 0


@config(gate="strict", challenge_delay=0.2)
async def test_chromium_passes_strict_gate_and_chats(replica: ReplicaServer) -> None:
    from playwright.async_api import async_playwright

    assert replica.url.startswith("https://")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = await browser.new_context(ignore_https_errors=True)
            page = await context.new_page()
            await page.goto(replica.url + "/")
            await page.wait_for_function("document.title === 'Chatbot UI'", timeout=10_000)
            await page.wait_for_selector("body[data-state=idle]")
            assert await page.locator("textarea.m-0").count() == 1
            cookies = {c["name"]: c for c in await context.cookies()}
            assert cookies["cf_clearance"]["httpOnly"] and cookies["cf_clearance"]["secure"]
            assert "__cf_bm" in cookies
            assert replica.stats.clearances_issued == 1 and replica.stats.tls_grease_hellos >= 1
            assert replica.stats.models_requests >= 1

            assert await page.evaluate("localStorage.length") == 0  # the app writes nothing before a message
            await page.fill("#system-prompt", "Be brief.")
            await page.fill("textarea.m-0", "Hi from Chromium")
            await page.click("#send")
            await page.wait_for_selector("body[data-state=idle] .message.assistant")
            expected = reply_text([{"role": "user", "content": "Hi from Chromium"}], "Be brief.")
            assert await page.locator(".message.assistant").last.text_content() == expected
            sent = replica.stats.last_chat_body
            assert sent is not None and sent["model"] == MODEL and sent["prompt"] == "Be brief."
            assert sent["messages"] == [{"role": "user", "content": "Hi from Chromium"}]
            assert sent["key"] == "" and sent["temperature"] == 1  # the app's default
            assert "cf_clearance" in replica.stats.chat_cookies[-1]

            storage = await page.evaluate("Object.fromEntries(Object.entries(localStorage))")
            assert set(storage) == {"conversationHistory", "selectedConversation"}
            assert "apiKey" not in storage
            conversation = json.loads(storage["selectedConversation"])
            assert set(conversation) == {"id", "name", "messages", "model", "prompt", "temperature", "folderId"}
            assert conversation["messages"][-1] == {"role": "assistant", "content": expected}

            replica.config.hold_after = 2
            await page.fill("textarea.m-0", "stop me")
            await page.click("#send")
            assert await asyncio.to_thread(replica.wait_for_hold, 5.0)
            await page.click("#stop")
            await page.wait_for_selector("body[data-state=idle]")
            # Aborting the fetch closes the connection, which ends the held handler on the server.
            assert await asyncio.to_thread(replica.stats.wait_until, lambda s: s.holding == 0, 5.0)
            partial = await page.locator(".message.assistant").last.text_content()
            stopped = reply_text([{"role": "user", "content": "stop me"}], "Be brief.")
            assert partial and stopped.startswith(partial) and partial != stopped
            replica.config.hold_after = None

            replica.config.status, replica.config.reason = 500, "Upstream is down"
            await page.fill("textarea.m-0", "again")
            await page.click("#send")
            await page.wait_for_selector(".toast:not([hidden])")
            assert await page.locator(".toast").text_content() == "Upstream is down"
        finally:
            await browser.close()
