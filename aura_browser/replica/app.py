"""The aiohttp application: the page, /api/models, /api/chat, the Vercel "disabled" answer and the admin API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from . import botcheck, challenge
from .models import MODEL_IDS, MODELS
from .page import page_html
from .reply import chunk_body, reply_body, reply_text
from .state import STATE, ReplicaState

ADMIN_PREFIX = "/__replica__/"
TEXT_PLAIN = "text/plain;charset=UTF-8"  # exactly as Next.js writes it: no space


def create_app(state: ReplicaState) -> web.Application:
    app = web.Application(middlewares=[challenge.gate_middleware(ADMIN_PREFIX), _disabled])
    app[STATE] = state
    app.on_response_prepare.append(_strip_content_type)
    app.router.add_get("/", page)
    app.router.add_get("/zh", page)
    app.router.add_route("*", "/api/models", models)
    app.router.add_route("*", "/api/chat", chat)
    app.router.add_post(challenge.SOLVE_PATH, challenge.solve)
    app.router.add_get(botcheck.REPORT_PATH, botcheck.report_page)
    app.router.add_post(botcheck.REPORT_PATH, botcheck.results)
    app.router.add_get(botcheck.WORKER_PATH, botcheck.worker_script)
    app.router.add_get(ADMIN_PREFIX + "config", admin_get_config)
    app.router.add_post(ADMIN_PREFIX + "config", admin_set_config)
    app.router.add_get(ADMIN_PREFIX + "stats", admin_stats)
    app.router.add_post(ADMIN_PREFIX + "release", admin_release)
    app.router.add_post(ADMIN_PREFIX + "revoke", admin_revoke)
    return app


class UntypedStreamResponse(web.StreamResponse):
    """A streamed response sent without any Content-Type, like the real /api/chat."""


async def _strip_content_type(request: web.Request, response: web.StreamResponse) -> None:
    # aiohttp adds "application/octet-stream" to bodies without a type; this signal runs after that.
    if isinstance(response, UntypedStreamResponse):
        response.headers.popall("Content-Type", None)


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
    return web.Response(
        status=status, reason=reason, body=b"Error", headers={"Content-Type": TEXT_PLAIN, **(headers or {})}
    )


async def page(request: web.Request) -> web.Response:
    if request.path == "/" and request.headers.get("Accept-Language", "").lower().startswith("zh"):
        raise web.HTTPTemporaryRedirect("/zh")
    state = request.app[STATE]
    return web.Response(
        text=page_html(server_side_api_key_is_set=not state.config.api_key),
        content_type="text/html",
        charset="utf-8",
    )


async def models(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.stats.bump("models_requests")
    if state.config.api_key:
        body = await _json_or_none(request)
        if not isinstance(body, dict) or body.get("key") != state.config.api_key:
            return error(reason="Incorrect API key provided")
    return web.Response(body=json.dumps(MODELS, separators=(",", ":")).encode(), headers={"Content-Type": TEXT_PLAIN})


async def chat(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    config = state.config
    body = await _json_or_none(request)
    state.stats.record_chat(
        body if isinstance(body, dict) else None,
        {name.lower(): value for name, value in request.headers.items()},
        dict(request.cookies),
    )
    faulty = state.take_fault_turn()
    random_fault = state.random_fault()
    if faulty and config.first_byte_delay > 0:
        await asyncio.sleep(config.first_byte_delay)
    if faulty and config.status is not None:
        headers = None
        if config.status == 429 and config.retry_after is not None:
            headers = {"Retry-After": f"{config.retry_after:g}"}
        return error(config.status, config.reason, headers)
    problem = _check_chat_body(body, config.api_key)
    if problem is not None:
        return error(reason=problem or config.reason)
    if random_fault is not None and random_fault[0] == "error":
        return error(reason=config.reason)
    assert isinstance(body, dict)

    prompt = body.get("prompt")
    prompt = prompt if isinstance(prompt, str) else ""
    data = reply_body(reply_text(body["messages"], prompt, config.reply_bytes), config.invalid_utf8)
    drop_after = config.drop_after if faulty else None
    stall_at = None
    if random_fault is not None:
        kind, where = random_fault
        if kind == "drop":
            drop_after = int(where * len(data))
        else:
            stall_at = int(where * len(data))
    response = UntypedStreamResponse(status=200)
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        completed = await _stream(request, response, state, data, drop_after, stall_at)
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
) -> bool:
    """Write the reply chunk by chunk. False if the stream was dropped on purpose (drop_after)."""
    config = state.config
    sent = 0
    for index, chunk in enumerate(chunk_body(data, config.chunk_size, config.split_multibyte)):
        if config.hold_after is not None and index == config.hold_after:
            await state.hold()
        if stall_at is not None and sent + len(chunk) > stall_at:
            stall_at = None
            await asyncio.sleep(config.stall_seconds)
        if drop_after is not None and sent + len(chunk) >= drop_after:
            await response.write(chunk[: drop_after - sent])
            # Close without the terminating zero-length chunk: the client sees a truncated body.
            assert request.transport is not None
            request.transport.close()
            return False
        await response.write(chunk)
        sent += len(chunk)
        # Yield even without a delay, so each chunk leaves as its own write.
        await asyncio.sleep(config.chunk_delay)
    return True


def _check_chat_body(body: Any, api_key: str) -> str | None:
    """None if the body is acceptable; else the reason phrase to use ("" means the default)."""
    if not isinstance(body, dict):
        return ""
    model = body.get("model")
    if not isinstance(model, dict) or model.get("id") not in MODEL_IDS:
        return ""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return ""
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
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
