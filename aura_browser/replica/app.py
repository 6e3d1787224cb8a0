"""The aiohttp application: the page, /api/models, /api/chat, the Vercel "disabled" answer and the admin API."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from . import botcheck, challenge, interactive
from .config import ReplicaConfig
from .guard import admin_guard
from .page import not_found_html, page_html
from .reply import chunk_body, decoded_per_packet, encoder, filler, reply_body, reply_text
from .state import STATE, ReplicaState
from .upstream import APP_SYSTEM_PROMPT, TokenizerOverflow, upstream_request

ADMIN_PREFIX = "/__replica__/"
# What an OpenAI-compatible upstream says when it fails (the replica's random "error" fault, without `reason`).
UPSTREAM_ERROR = "The server had an error while processing your request. Sorry about that!"
TEXT_PLAIN = "text/plain;charset=UTF-8"  # exactly as Next.js writes it: no space
MAX_BODY = 64 * 1024 * 1024
PAGE_CACHE_CONTROL = "private, no-cache, no-store, max-age=0, must-revalidate"  # a getServerSideProps page's


def create_app(state: ReplicaState, bound_host: str = "127.0.0.1") -> web.Application:
    # The app takes bodies of many megabytes (and trims what does not fit): no 413 for a 5 MB one.
    app = web.Application(middlewares=[admin_guard(ADMIN_PREFIX, bound_host), challenge.gate_middleware(ADMIN_PREFIX),
                                       _disabled],
                          client_max_size=MAX_BODY)
    app[STATE] = state
    app.on_response_prepare.append(_strip_content_type)
    app.on_response_prepare.append(_next_headers)
    app.router.add_get("/", page)
    app.router.add_get("/zh", page)
    app.router.add_route("*", "/api/models", models)
    app.router.add_route("*", "/api/chat", chat)
    app.router.add_post(challenge.SOLVE_PATH, challenge.solve)
    app.router.add_get(botcheck.REPORT_PATH, botcheck.report_page)
    app.router.add_post(botcheck.REPORT_PATH, botcheck.results)
    app.router.add_get(botcheck.WORKER_PATH, botcheck.worker_script)
    app.router.add_get(interactive.WIDGET_PATH, interactive.widget)
    app.router.add_post(interactive.VERIFY_PATH, interactive.verify)
    app.router.add_post(interactive.SOLVE_PATH, interactive.solve)
    app.router.add_get(ADMIN_PREFIX + "config", admin_get_config)
    app.router.add_post(ADMIN_PREFIX + "config", admin_set_config)
    app.router.add_get(ADMIN_PREFIX + "stats", admin_stats)
    app.router.add_post(ADMIN_PREFIX + "release", admin_release)
    app.router.add_post(ADMIN_PREFIX + "revoke", admin_revoke)
    app.router.add_route("*", "/{path:.*}", not_found)  # last: only what no route above matched
    return app


class UntypedStreamResponse(web.StreamResponse):
    """A streamed response sent without any Content-Type, like the real /api/chat."""


async def _strip_content_type(request: web.Request, response: web.StreamResponse) -> None:
    # aiohttp adds "application/octet-stream" to bodies without a type; this signal runs after that.
    if isinstance(response, UntypedStreamResponse):
        response.headers.popall("Content-Type", None)


class PageResponse(web.Response):
    """A server-rendered page: Next.js gives it an ETag and its no-store Cache-Control."""


async def _next_headers(request: web.Request, response: web.StreamResponse) -> None:
    # Next.js's own pages carry X-Powered-By; the API routes (edge functions) answer with none of its headers.
    if isinstance(response, PageResponse) and not request.path.startswith(ADMIN_PREFIX):
        response.headers["X-Powered-By"] = "Next.js"
        if response.status == 200:  # a 404 page has no Cache-Control
            response.headers["Cache-Control"] = PAGE_CACHE_CONTROL
        response.headers["Vary"] = "Accept-Encoding"
        response.headers["ETag"] = '"%s"' % hashlib.sha1(response.body or b"").hexdigest()[:27]  # type: ignore[arg-type]


@web.middleware
async def _disabled(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.app[STATE].config.disabled or request.path.startswith(ADMIN_PREFIX):
        return await handler(request)
    return web.Response(
        status=402,
        body=(
            b"This Deployment has been disabled.\n\n"
            b"402: PAYMENT_REQUIRED\nCode: DEPLOYMENT_DISABLED\nID: replica::disabled\n"
        ),
        headers={"Content-Type": TEXT_PLAIN, "x-vercel-error": "DEPLOYMENT_DISABLED"},
    )


def error(status: int = 500, reason: str | None = None, headers: dict[str, str] | None = None) -> web.Response:
    """The Next.js API error answer: body `Error`, plain text, the reason phrase carrying the cause."""
    response = web.Response(
        status=status, reason=reason, body=b"Error", headers={"Content-Type": TEXT_PLAIN, **(headers or {})}
    )
    response.enable_chunked_encoding()  # as Next.js sends them
    return response


async def page(request: web.Request) -> web.Response:
    if request.path == "/" and request.headers.get("Accept-Language", "").lower().startswith("zh"):
        raise web.HTTPTemporaryRedirect("/zh")
    state = request.app[STATE]
    return PageResponse(
        text=page_html(server_side_api_key_is_set=not state.config.api_key),
        content_type="text/html",
        charset="utf-8",
    )


async def not_found(request: web.Request) -> web.Response:
    return PageResponse(status=404, text=not_found_html(), content_type="text/html", charset="utf-8")


async def models(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.stats.bump("models_requests")
    if state.config.redirect_to:
        raise web.HTTPTemporaryRedirect(state.config.redirect_to)
    body = await _json_or_none(request)
    if body is None:
        # The app runs `const { key } = await req.json()` whatever the method: only a body that is not JSON (an
        # empty one, a GET's) or JSON null throws. An array, a number or a string has no key: the server's is used.
        return error()
    if state.config.upstream_down:
        return error(reason=state.config.reason)
    key = body.get("key") if isinstance(body, dict) else None
    if state.config.api_key and key != state.config.api_key:
        return error(reason="Incorrect API key provided")
    listed = json.dumps(state.config.models, separators=(",", ":")).encode()
    response = web.Response(body=listed, headers={"Content-Type": TEXT_PLAIN})
    response.enable_chunked_encoding()  # as Next.js sends it
    return response


async def chat(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    config = state.config
    body = await _json_or_none(request)
    state.stats.record_chat(
        body if isinstance(body, dict) else None,
        {name.lower(): value for name, value in request.headers.items()},
        dict(request.cookies),
        [name.decode("latin-1") for name, _ in request.raw_headers],
        len(await request.read()),
    )
    if config.redirect_to:
        raise web.HTTPTemporaryRedirect(config.redirect_to)
    faulty = state.take_fault_turn()
    random_fault = state.random_fault()
    if faulty and config.first_byte_delay > 0:
        await asyncio.sleep(config.first_byte_delay)
    if faulty and config.status is not None:
        headers = None
        if config.status == 429 and config.retry_after is not None:
            headers = {"Retry-After": f"{config.retry_after:g}"}
        return error(config.status, config.reason, headers)
    problem = _check_chat_body(body, config)
    if problem is not None:
        return error(reason=problem or config.reason)
    if config.upstream_down:
        return error(reason=config.reason)
    if random_fault is not None and random_fault[0] == "error":
        # The upstream answered with an error: the app throws its message, and Next.js makes it the reason phrase.
        return error(reason=config.reason or UPSTREAM_ERROR)
    assert isinstance(body, dict)

    try:
        upstream = upstream_request(body)
    except TokenizerOverflow:
        return error()
    state.stats.record_upstream(upstream)
    # The reply echoes what reached the upstream; the app's default prompt is not echoed, so that a request
    # without a system prompt gets the same reply as ever.
    shown_prompt = "" if upstream["prompt"] == APP_SYSTEM_PROMPT else upstream["prompt"]
    data = reply_body(reply_text(upstream["messages"], shown_prompt, config.reply_bytes), config.invalid_utf8)
    drop_after = config.drop_after if faulty else None
    stall_at, stall_for = None, config.stall_seconds
    if faulty and config.truncate_after is not None:
        data = data[: config.truncate_after]  # a reply that ends cleanly but short (not how the app breaks off)
    if faulty and config.hang_after is not None:
        # What the app does when its upstream breaks off mid-reply: it sends what it has, then no final chunk,
        # ever; the connection stays open.
        stall_at, stall_for = config.hang_after, math.inf
    if random_fault is not None:
        kind, where = random_fault
        if kind == "drop":
            drop_after = int(where * len(data))
        else:
            stall_at = int(where * len(data))
    response = UntypedStreamResponse(status=200)
    response.enable_chunked_encoding()
    if config.content_encoding:
        response.headers["Content-Encoding"] = config.content_encoding
    await response.prepare(request)
    try:
        completed = await _stream(request, response, state, data, drop_after, stall_at, stall_for)
    except ConnectionError:
        return response  # the client went away (Stop Generating)
    if completed:
        # Counted before the terminating chunk goes out, so a client that saw the end also sees the count.
        state.stats.bump("chat_completed")
        await response.write_eof()
    return response


async def _stream(
    request: web.Request,
    response: web.StreamResponse,
    state: ReplicaState,
    data: bytes,
    drop_after: int | None,
    stall_at: int | None,
    stall_for: float,
) -> bool:
    """Write the reply chunk by chunk (compressed as `content_encoding` says); then, when `endless`, filler for
    ever. False if the stream was dropped on purpose (drop_after)."""
    config = state.config
    encode = encoder(config.content_encoding)
    sent = 0
    packets = chunk_body(data, config.chunk_size, config.split_multibyte)
    if config.decode_per_packet:
        packets = decoded_per_packet(packets)
    for index, chunk in enumerate(packets):
        if config.hold_after is not None and index == config.hold_after:
            await state.hold()
        if stall_at is not None and sent + len(chunk) > stall_at:
            stall_at = None
            await (asyncio.Future() if math.isinf(stall_for) else asyncio.sleep(stall_for))
        if drop_after is not None and sent + len(chunk) >= drop_after:
            await response.write(encode.chunk(chunk[: drop_after - sent]))
            # Close without the terminating zero-length chunk: the client sees a truncated body.
            assert request.transport is not None
            request.transport.close()
            return False
        await response.write(encode.chunk(chunk))
        sent += len(chunk)
        # Yield even without a delay, so each chunk leaves as its own write.
        await asyncio.sleep(config.chunk_delay)
    if config.endless:
        more = filler(config.chunk_size)
        while True:  # until the client goes away (ConnectionError)
            await response.write(encode.chunk(more))
            await asyncio.sleep(config.chunk_delay)
    if config.content_encoding:
        await response.write(encode.end())
    return True


def _check_chat_body(body: Any, config: ReplicaConfig) -> str | None:
    """None if the body is acceptable; else the reason phrase to use ("" means the default)."""
    api_key = config.api_key
    if not isinstance(body, dict):
        return ""
    model = body.get("model")
    if not isinstance(model, dict) or model.get("id") not in {m["id"] for m in config.models}:
        return ""
    messages = body.get("messages")
    if not isinstance(messages, list):  # an empty list is fine: the upstream gets the system prompt alone
        return ""
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant"):
            return ""
        if not isinstance(message.get("content"), str):
            return ""
    if api_key and body.get("key") != api_key:
        return "Incorrect API key provided"
    return None


async def _json_or_none(request: web.Request) -> Any:
    try:
        return json.loads(await request.read())
    except ValueError:
        return None


async def admin_get_config(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].config.to_dict())


async def admin_set_config(request: web.Request) -> web.Response:
    config = request.app[STATE].config
    changes = await _json_or_none(request)
    if not isinstance(changes, dict):
        return web.json_response({"error": "expected a JSON object"}, status=400)
    try:
        config.update(changes)
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(config.to_dict())


async def admin_stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].stats.to_dict())


async def admin_release(request: web.Request) -> web.Response:
    request.app[STATE].release()
    return web.json_response({"released": True})


async def admin_revoke(request: web.Request) -> web.Response:
    request.app[STATE].revoke_clearances()
    return web.json_response({"revoked": True})
