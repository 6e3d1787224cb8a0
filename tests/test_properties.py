"""Properties, checked on generated input (hypothesis):

- any text, cut into chunks at any byte positions, comes out of the direct transport as the same text;
- the request body keeps every message, and the order of every role;
- the gate detection never takes the real app's page for a gate, whatever its conversation says.
"""

from __future__ import annotations

import asyncio
import html
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aura_browser.errors import InvalidRequest
from aura_browser.profile import Profile
from aura_browser.replica.page import page_html
from aura_browser.transports.base import Timeouts
from aura_browser.transports.direct import DirectTransport
from aura_browser.wire.api import ROLES, as_messages, build_body, encode_body
from aura_browser.wire.page import (
    BLOCK_TITLES,
    CHALLENGE_MARKERS,
    CHALLENGE_TITLES,
    DISABLED_MARKERS,
    PAGE_STATE_JS,
    PageKind,
    classify_html,
    classify_reply,
)

from tests.support.servers.cut_server import cut_server, spec

# --- decoding: any cut of any text --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chat_url():
    with cut_server() as url:
        yield url


def stream_through_direct(url: str, data: bytes, cuts: list[int]) -> str:
    async def run() -> str:
        transport = DirectTransport(timeouts=Timeouts(5, 5, 5))
        try:
            body = build_body(as_messages(spec(data, cuts)))
            return "".join([text async for text in transport.stream(Profile(base_url=url, user_agent="property test"), body)])
        finally:
            await transport.aclose()

    return asyncio.run(run())


def cuts_for(size: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(min_value=1, max_value=max(1, size - 1)), max_size=min(size, 40))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), text=st.text(min_size=1, max_size=200))
def test_any_text_cut_anywhere_decodes_to_the_same_text(chat_url, data, text):
    raw = text.encode("utf-8")
    cuts = data.draw(cuts_for(len(raw)), label="cuts")
    assert stream_through_direct(chat_url, raw, cuts) == text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), raw=st.binary(min_size=1, max_size=200))
def test_any_bytes_cut_anywhere_decode_as_if_whole_with_replacement(chat_url, data, raw):
    cuts = data.draw(cuts_for(len(raw)), label="cuts")
    assert stream_through_direct(chat_url, raw, cuts) == raw.decode("utf-8", "replace")


# --- the request body ---------------------------------------------------------------------------------------

messages_strategy = st.lists(
    st.fixed_dictionaries({"role": st.sampled_from(ROLES), "content": st.text(max_size=40)}), max_size=12
)


@given(messages=messages_strategy, temperature=st.none() | st.floats(0, 2), max_tokens=st.integers(1, 10**6))
def test_the_body_keeps_every_message_and_every_roles_order(messages, temperature, max_tokens):
    sendable = any(m["role"] != "system" for m in messages) and any(
        m["content"].strip() for m in messages if m["role"] == "user"
    )
    if not sendable:
        with pytest.raises(InvalidRequest):
            build_body(messages, temperature=temperature, max_tokens=max_tokens)
        return
    body = json.loads(encode_body(build_body(messages, temperature=temperature, max_tokens=max_tokens)))
    # What goes over the wire: the chat in order, the system messages joined in order, nothing else lost.
    assert body["messages"] == [m for m in messages if m["role"] != "system"]
    assert body["prompt"] == "\n".join(m["content"] for m in messages if m["role"] == "system")
    assert body["temperature"] == temperature and body["model"]["tokenLimit"] == max_tokens


@given(
    messages=messages_strategy,
    temperature=st.none() | st.floats(allow_nan=False) | st.integers() | st.booleans(),
    model=st.text(min_size=1, max_size=12) | st.integers(),
    key=st.text(max_size=12) | st.none(),
    prompt=st.text(max_size=12),
)
def test_the_body_is_written_byte_for_byte_as_the_json_module_writes_it(messages, temperature, model, key, prompt):
    # encode_body writes build_body's shape itself (a speed path); any other value takes the json module's own.
    body = {"model": {"id": model, "name": "Model", "maxLength": 24576, "tokenLimit": 8192},
            "messages": [m for m in messages if m["role"] != "system"], "key": key, "prompt": prompt,
            "temperature": temperature}
    for _ in range(2):  # the second time from what was kept of the first
        assert encode_body(body) == json.dumps(body, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("change", [
    {"temperature": 1}, {"temperature": 1.0}, {"temperature": True}, {"temperature": 0.0}, {"temperature": -0.0},
    {"messages": [{"content": "Hi", "role": "user"}]}, {"messages": [{"role": "user", "content": "Hi", "name": "x"}]},
    {"messages": [{"role": "robot", "content": "Hi"}]}, {"model": {"name": "Model", "id": "m", "maxLength": 1,
                                                                    "tokenLimit": 2}},
])
def test_values_that_compare_equal_but_are_written_otherwise_are_each_written_their_own_way(change):
    body = {**build_body(as_messages("Hi")), **change}
    assert encode_body(body) == json.dumps(body, ensure_ascii=False).encode("utf-8")


@given(
    messages=messages_strategy.filter(lambda ms: any(m["role"] == "user" and m["content"].strip() for m in ms)),
    surrogate=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    where=st.integers(0, 11),
)
def test_a_lone_surrogate_anywhere_is_bad_input_not_a_crash(messages, surrogate, where):
    # What Python makes of a command-line argument that is not valid UTF-8 (surrogateescape).
    index = where % len(messages)
    messages[index] = {**messages[index], "content": messages[index]["content"] + surrogate}
    with pytest.raises(InvalidRequest, match=f"message {index}"):
        build_body(messages)


# --- gate detection never flags the app ---------------------------------------------------------------------

GATE_WORDS = [*CHALLENGE_MARKERS, *DISABLED_MARKERS, *CHALLENGE_TITLES, *BLOCK_TITLES, "cloudflare", "Cloudflare",
              "<title>Just a moment...</title>", "cf-mitigated: challenge", "Access denied", "DDoS-Guard"]
conversation_text = st.lists(st.one_of(st.text(max_size=20), st.sampled_from(GATE_WORDS)), max_size=6).map("".join)


def served_page(key_set: bool, build_id: str, server_text: str) -> str:
    """A variation of the app's page as a server sends it: another build, and text rendered on the server."""
    build = json.dumps(build_id).replace("</", "<\\/")
    page = page_html(server_side_api_key_is_set=key_set).replace('"buildId": "replica"', f'"buildId": {build}')
    # Server-rendered text is escaped the way a serializer escapes text nodes: &, < and > only.
    return page.replace('<div id="__next"></div>', f'<div id="__next"><p>{html.escape(server_text, quote=False)}</p></div>')


@given(key_set=st.booleans(), build_id=st.text(max_size=12), server_text=conversation_text)
def test_the_served_app_page_is_the_app(key_set, build_id, server_text):
    page = served_page(key_set, build_id, server_text)
    assert classify_html(page) is PageKind.APP
    assert classify_reply(200, {"content-type": "text/html; charset=utf-8"}, page) is PageKind.APP


@pytest.fixture(scope="module")
def app_page():
    """A real Chromium page on the replica's app (no gate), for the in-browser detection."""
    from playwright.sync_api import sync_playwright

    from aura_browser.drivers.browser_path import find_chromium
    from aura_browser.replica import ReplicaConfig, ReplicaServer

    with ReplicaServer(ReplicaConfig(gate="off")) as replica, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), headless=True)
        try:
            page = browser.new_page()
            page.goto(replica.url + "/")
            yield page
        finally:
            browser.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(said=conversation_text, answered=conversation_text, system=conversation_text)
def test_the_app_page_showing_any_conversation_is_the_app(app_page, said, answered, system):
    conversation = {"id": "c1", "name": said[:30], "prompt": system, "temperature": 0.5, "folderId": None,
                    "model": {"id": "openchat_3.6"},
                    "messages": [{"role": "user", "content": said}, {"role": "assistant", "content": answered}]}
    app_page.evaluate("(c) => localStorage.setItem('selectedConversation', JSON.stringify(c))", conversation)
    app_page.reload()
    app_page.wait_for_selector("body[data-state=idle]")
    assert app_page.evaluate(PAGE_STATE_JS) == PageKind.APP
    assert classify_html(app_page.content()) is PageKind.APP
