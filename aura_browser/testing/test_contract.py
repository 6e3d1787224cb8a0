"""The contract of OpenChat UI that aura-browser relies on, checked against a deployment.

    pytest --aura-live --base-url https://openchat.team --pyargs aura_browser.testing

These are the facts observed on the real app (see DESIGN.md, section 1), asked over plain HTTP with
the live session's profile, as the direct transport asks. aura-browser's own tests run this module
against the embedded replica, so one set of assertions guards the client, the replica and a real site.
When plain HTTP is gated (a TLS-fingerprint gate), the checks that need raw replies are skipped.
What only the app's upstream can show (what it forwards, its trimming) is tested on the replica alone.

Every check is safe to run against a deployment in use: small requests, each answered at once. A request that
can stall the deployment is sent only with --aura-heavy (see `test_a_five_megabyte_body_is_the_apps_500_error`).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from aura_browser.profile import Profile
from aura_browser.testing.live import LiveSmoke
from aura_browser.transports.direct import PlainReply
from aura_browser.wire.api import CHAT_PATH, MODELS_PATH, build_body, encode_body
from aura_browser.wire.page import PageKind, classify_reply

pytestmark = pytest.mark.aura_live

TEXT_PLAIN = "text/plain;charset=utf-8"
PAGE_CACHE_CONTROL = "private, no-cache, no-store, max-age=0, must-revalidate"
FIVE_MEGABYTES = 5 * 1024 * 1024


def send(aura_live: LiveSmoke, check: str, method: str, path: str, body: Any = None) -> PlainReply:
    """One plain-HTTP request with the session's profile; skipped when the gate answers instead of the app."""
    with aura_live.check(check) as profile:
        data = None if body is None else body if isinstance(body, bytes) else encode_body(body)
        reply = aura_live.run(aura_live.site.fetch(profile, method, path, data))
    if classify_reply(reply.status, reply.headers, reply.text) in (PageKind.CHALLENGE, PageKind.BLOCKED):
        pytest.skip(f"plain HTTP is gated here ({reply.status} from the gate): the contract needs the app's replies")
    return reply


def chat_body(profile_key: str = "", **changes: Any) -> dict[str, Any]:
    body = build_body([{"role": "user", "content": "Reply with one word: ok"}], key=profile_key)
    return {**body, **changes}


def key_of(aura_live: LiveSmoke) -> str:
    profile: Profile = aura_live.profile()
    return profile.api_key


def assert_next_js_error(reply: PlainReply, status: int = 500) -> None:
    assert reply.status == status, reply
    assert reply.text == "Error"
    assert reply.headers.get("content-type", "").lower() == TEXT_PLAIN
    assert reply.headers.get("transfer-encoding", "").lower() == "chunked", reply.headers


def assert_streamed_text(reply: PlainReply) -> None:
    assert reply.status == 200, reply
    assert "content-type" not in reply.headers, reply.headers  # raw text deltas, no type at all
    assert reply.headers.get("transfer-encoding", "").lower() == "chunked", reply.headers


def test_a_chat_reply_is_untyped_chunked_text(aura_live: LiveSmoke) -> None:
    reply = send(aura_live, "a chat reply is chunked text", "POST", CHAT_PATH, chat_body(key_of(aura_live)))
    assert_streamed_text(reply)
    assert reply.text.strip()
    assert "x-powered-by" not in reply.headers  # an API route: none of Next.js's page headers


def test_empty_messages_are_answered_not_refused(aura_live: LiveSmoke) -> None:
    body = chat_body(key_of(aura_live), messages=[])
    assert_streamed_text(send(aura_live, "empty messages are answered", "POST", CHAT_PATH, body))


def test_a_system_role_inside_messages_is_accepted(aura_live: LiveSmoke) -> None:
    body = chat_body(key_of(aura_live))
    body["messages"] = [{"role": "system", "content": "Be brief."}, *body["messages"]]
    assert_streamed_text(send(aura_live, "a system message inside messages is accepted", "POST", CHAT_PATH, body))


def test_an_empty_prompt_and_a_null_temperature_take_the_apps_defaults(aura_live: LiveSmoke) -> None:
    body = chat_body(key_of(aura_live), prompt="", temperature=None)
    assert_streamed_text(send(aura_live, "empty prompt, null temperature", "POST", CHAT_PATH, body))


def test_a_question_over_the_token_limit_is_dropped_silently_not_refused(aura_live: LiveSmoke) -> None:
    body = chat_body(key_of(aura_live))
    body["model"] = {**body["model"], "tokenLimit": 500}  # below the 768 the app keeps for the reply
    assert_streamed_text(send(aura_live, "a question over tokenLimit is trimmed, with 200", "POST", CHAT_PATH, body))


@pytest.mark.aura_heavy
def test_a_five_megabyte_body_is_the_apps_500_error(aura_live: LiveSmoke) -> None:
    """Heavy (--aura-heavy only): the app's tokenizer overflows its stack on 5 MiB of one letter and answers
    `500 Error`, after half a minute to several minutes during which the whole server answers nothing else."""
    body = chat_body(key_of(aura_live))
    body["messages"] = [{"role": "user", "content": "a" * FIVE_MEGABYTES}]
    assert_next_js_error(send(aura_live, "a 5 MiB body is 500 Error (heavy)", "POST", CHAT_PATH, body))


def test_an_unknown_model_is_the_apps_500_error(aura_live: LiveSmoke) -> None:
    body = chat_body(key_of(aura_live))
    body["model"] = {**body["model"], "id": "no-such-model-aura-contract"}
    assert_next_js_error(send(aura_live, "an unknown model is 500 Error", "POST", CHAT_PATH, body))


def test_api_models_lists_for_any_json_body_whatever_the_method(aura_live: LiveSmoke) -> None:
    assert_next_js_error(send(aura_live, "GET /api/models is 500 Error", "GET", MODELS_PATH))
    assert_next_js_error(send(aura_live, "an empty POST /api/models is 500 Error", "POST", MODELS_PATH, b""))
    assert_next_js_error(send(aura_live, "a JSON null body is 500 Error", "POST", MODELS_PATH, b"null"))
    key = key_of(aura_live)
    for check, method, body in [("POST /api/models lists models", "POST", {"key": key}),
                                ("PUT /api/models lists models", "PUT", {"key": key}),
                                ("a JSON array body lists models", "POST", b"[]")]:
        if key and not isinstance(body, dict):
            continue  # without the key in its body, a deployment that has no key of its own refuses
        listed = send(aura_live, check, method, MODELS_PATH, body)
        assert listed.status == 200, (check, listed)
        assert listed.headers.get("content-type", "").lower() == TEXT_PLAIN
        assert listed.headers.get("transfer-encoding", "").lower() == "chunked", listed.headers
        models = json.loads(listed.text)
        assert models and all(isinstance(m.get("id"), str) and isinstance(m.get("name"), str) for m in models)


def test_an_unknown_path_is_next_js_404_page_and_no_app(aura_live: LiveSmoke) -> None:
    reply = send(aura_live, "an unknown path is Next.js's 404 page", "GET", "no-such-page-aura-contract")
    assert reply.status == 404, reply
    assert "__NEXT_DATA__" in reply.text and '"/_error"' in reply.text
    assert classify_reply(reply.status, reply.headers, reply.text) is PageKind.OTHER


def test_the_page_is_an_empty_shell_with_next_js_headers(aura_live: LiveSmoke) -> None:
    page = send(aura_live, "GET / is the app's shell", "GET", "")
    assert page.status == 200, page
    assert "<textarea" not in page.text  # the chat box exists only once the page's scripts ran
    assert "__NEXT_DATA__" in page.text and "defaultModelId" in page.text
    assert classify_reply(page.status, page.headers, page.text) is PageKind.APP
    assert page.headers.get("x-powered-by") == "Next.js"
    assert page.headers.get("cache-control") == PAGE_CACHE_CONTROL
    assert page.headers.get("vary") and page.headers.get("etag")


def test_the_page_renders_its_chat_box_and_keeps_no_local_storage_before_a_message(aura_live: LiveSmoke) -> None:
    with aura_live.check("the page renders textarea.m-0 in a browser") as profile:
        aura_live.run(aura_live.site.load_page(profile))  # waits for textarea.m-0 to appear
    # The login captured the page's localStorage before any message: the app had written nothing of its own.
    assert set(profile.local_storage()) <= {"apiKey", "selectedConversation", "conversationHistory"}
