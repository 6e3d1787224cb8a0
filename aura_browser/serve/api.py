"""An OpenAI-compatible HTTP API in front of one `AuraClient`: `POST /v1/chat/completions` and `GET /v1/models`.

Every request shares the client, so they share its warm profile, its HTTP session and its one
browser; aiohttp serves them concurrently. Errors are OpenAI's error objects with fitting statuses.
A streamed reply starts only once the first text has arrived, so a failure before that is still a
proper HTTP status; a failure after it is an `{"error": ...}` event, which the openai package raises.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any, AsyncGenerator, Awaitable, Callable, Sequence, cast

from aiohttp import web

from ..client import AuraClient
from ..errors import AuraError, CannotListen, InvalidRequest
from ..transports.base import StreamStats
from ..wire.api import DEFAULT_TEMPERATURE, is_model_id, is_temperature, require_utf8
from .guard import RequestGuard

log = logging.getLogger("aura_browser.serve")

CLIENT = web.AppKey("aura_client", AuraClient)
OWNER = "openchat"
# OpenAI's roles that carry plain text; "developer" is the newer name of "system".
ROLE_NAMES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}

# OpenAI's error `type` for each HTTP status our errors answer with (`AuraError.http_status`).
ERROR_TYPES = {400: "invalid_request_error", 500: "server_error", 502: "upstream_error", 503: "service_unavailable_error",
               504: "upstream_error"}


def error_body(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error_response(status: int, message: str, type_: str, code: str | None = None, param: str | None = None,
                   headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(error_body(message, type_, code, param), status=status, headers=headers)


def describe(error: AuraError) -> tuple[int, dict[str, Any]]:
    """The HTTP status and OpenAI error object for one of our errors: its class's `http_status` and `api_code`."""
    return error.http_status, error_body(str(error), ERROR_TYPES[error.http_status], error.api_code)


@dataclass
class CompletionRequest:
    messages: list[dict[str, str]]
    model: str
    temperature: float | None
    stream: bool


def parse_request(body: Any) -> CompletionRequest:
    """Check an OpenAI chat.completions body and take what the site understands from it.

    Accepted and ignored: max_tokens / max_completion_tokens (the site caps replies itself, and its own
    max_tokens is a context budget, not a reply length), top_p, stop, user, stream_options and the like.
    """
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    model = body.get("model")
    if not is_model_id(model):
        raise InvalidRequest("you must provide a model parameter")
    require_utf8(model, "'model'")
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("'messages' must be a non-empty array")
    messages = [_message(index, message) for index, message in enumerate(raw)]
    temperature = body.get("temperature", DEFAULT_TEMPERATURE)
    if not is_temperature(temperature):
        raise InvalidRequest("'temperature' must be a number")
    if body.get("n") not in (None, 1):
        raise InvalidRequest("only n=1 is supported")
    if body.get("tools") or body.get("functions"):
        raise InvalidRequest("tools and functions are not supported by this site")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidRequest("'stream' must be true or false")
    return CompletionRequest(messages, model, temperature, stream)


def _message(index: int, message: Any) -> dict[str, str]:
    if not isinstance(message, dict):
        raise InvalidRequest(f"messages[{index}] must be an object")
    if not isinstance(message.get("role"), str):  # not shown: a list or object may be huge, or nested too deep to print
        raise InvalidRequest(f"messages[{index}].role must be a string")
    role = ROLE_NAMES.get(message["role"])
    if role is None:
        raise InvalidRequest(f"messages[{index}].role {message.get('role')!r} is not supported; "
                             f"use {', '.join(ROLE_NAMES)}")
    content = message.get("content")
    if isinstance(content, list):  # content parts: only text ones
        if not all(isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)
                   for part in content):
            raise InvalidRequest(f"messages[{index}].content: only text parts are supported")
        content = "".join(part["text"] for part in content)
    if not isinstance(content, str):
        raise InvalidRequest(f"messages[{index}].content must be a string or an array of text parts")
    return {"role": role, "content": content}


def model_card(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": OWNER}


class Completion:
    """The ids and framing of one answer, as chat.completion or chat.completion.chunk objects."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def _object(self, kind: str, choice: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model,
                "system_fingerprint": None, "choices": [{"index": 0, "logprobs": None, **choice}]}

    def whole(self, text: str) -> dict[str, Any]:
        message = {"role": "assistant", "content": text, "refusal": None}
        return self._object("chat.completion", {"message": message, "finish_reason": "stop"})

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return self._object("chat.completion.chunk", {"delta": delta, "finish_reason": finish_reason})


def sse(data: dict[str, Any] | str) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n".encode("utf-8")


# --- handlers -----------------------------------------------------------------------------


async def chat_completions(request: web.Request) -> web.StreamResponse:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidRequest("the body is not valid JSON") from None
    except LookupError:  # request.text() decodes with the Content-Type's charset, whatever it names
        raise InvalidRequest(f"unknown charset {request.charset!r} in Content-Type; send UTF-8") from None
    except RecursionError:
        raise InvalidRequest("the body is nested too deeply") from None
    except ValueError:  # the one ValueError json raises that is no JSONDecodeError: Python's int digit limit
        raise InvalidRequest(f"the body holds a number longer than {sys.get_int_max_str_digits()} digits") from None
    asked = parse_request(body)
    client = request.app[CLIENT]
    stats = StreamStats()
    answer = Completion(asked.model)
    # AuraClient.stream is an async generator (typed as an iterator): aclose() is what ends the site's reply.
    chunks = cast(AsyncGenerator[str, None],
                  client.stream(asked.messages, model=asked.model, temperature=asked.temperature, stats=stats))
    try:
        if not asked.stream:
            text = "".join([chunk async for chunk in chunks])
            _log(request, asked, stats)
            return web.json_response(answer.whole(text), headers={"X-Aura-Transport": stats.transport})
        return await _stream(request, asked, answer, chunks, stats)
    finally:
        await chunks.aclose()  # a client that left mid-reply aborts the site's reply too


async def _stream(request: web.Request, asked: CompletionRequest, answer: Completion, chunks: Any,
                  stats: StreamStats) -> web.StreamResponse:
    first = await anext(chunks, None)  # a failure before the first text still gets its own HTTP status
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
        "X-Aura-Transport": stats.transport,
    })
    await response.prepare(request)
    await response.write(sse(answer.chunk({"role": "assistant", "content": ""})))
    try:
        if first is not None:
            await response.write(sse(answer.chunk({"content": first})))
        async for text in chunks:
            await response.write(sse(answer.chunk({"content": text})))
    except AuraError as exc:
        log.info("reply broke off mid-stream: %s", exc)
        await response.write(sse(describe(exc)[1]))
        return response
    await response.write(sse(answer.chunk({}, "stop")))
    await response.write(sse("[DONE]"))
    await response.write_eof()
    _log(request, asked, stats)
    return response


def _log(request: web.Request, asked: CompletionRequest, stats: StreamStats) -> None:
    log.info("%s %s model=%s stream=%s transport=%s first byte %s ms, total %s ms", request.method, request.path,
             asked.model, asked.stream, stats.transport, stats.ttfb_ms, stats.elapsed_ms)


async def list_models(request: web.Request) -> web.Response:
    ids = await request.app[CLIENT].models()
    return web.json_response({"object": "list", "data": [model_card(model_id) for model_id in ids]})


async def get_model(request: web.Request) -> web.Response:
    model_id = request.match_info["model"]
    if model_id not in await request.app[CLIENT].models():
        return error_response(404, f"The model '{model_id}' does not exist", "invalid_request_error",
                              "model_not_found", "model")
    return web.json_response(model_card(model_id))


# --- middlewares --------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def openai_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure as OpenAI's error object: ours, aiohttp's 404/405, and our own bugs."""
    try:
        return await handler(request)
    except AuraError as exc:
        status, body = describe(exc)
        log.info("%s %s -> %s: %s", request.method, request.path, status, exc)
        return web.json_response(body, status=status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = f"{request.method} {request.path}: {exc.reason}"
        return error_response(exc.status, message, "invalid_request_error", exc.reason.lower().replace(" ", "_"),
                              headers={k: v for k, v in exc.headers.items() if k.lower() == "allow"})
    except (asyncio.CancelledError, ConnectionResetError):
        raise  # the caller left; there is nobody to answer
    except Exception:
        log.exception("internal error on %s %s", request.method, request.path)
        return error_response(500, "internal error of aura-browser serve", "server_error", "internal_error")


def require_api_key(api_key: str) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Clients must send `Authorization: Bearer KEY`. The key is compared in constant time and never logged."""
    expected = api_key.encode("utf-8")

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return error_response(401, "You didn't provide an API key: send Authorization: Bearer KEY.",
                                  "invalid_request_error", "invalid_api_key")
        # aiohttp decodes header bytes that are not UTF-8 to surrogates; surrogateescape gives them back.
        if not hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"), expected):
            return error_response(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        return await handler(request)

    return check


def refusal(status: int, message: str, code: str) -> web.Response:
    return error_response(status, message, "invalid_request_error", code)


def create_app(client: AuraClient, *, api_key: str | None = None, guard: RequestGuard | None = None) -> web.Application:
    guard = guard or RequestGuard("127.0.0.1")
    middlewares: list[Any] = [openai_errors, guard.middleware(refusal)]
    if api_key:
        middlewares.append(require_api_key(api_key))
    app = web.Application(middlewares=middlewares)
    app.on_response_prepare.append(guard.add_cors_headers)
    app[CLIENT] = client
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model}", get_model)
    return app


SHUTDOWN_GRACE = 2.0  # seconds


async def serve_api(client: AuraClient, host: str = "127.0.0.1", port: int = 8000, *, api_key: str | None = None,
                    allow_hosts: Sequence[str] = (), cors_origins: Sequence[str] = (),
                    on_ready: Callable[[str], None] | None = None) -> None:
    """Serve until cancelled. A caller that leaves mid-reply cancels its handler, which aborts the site's reply.

    Only requests whose Host is `host`, a loopback name or one of `allow_hosts` are answered, and of those
    sent by web pages only the ones from `cors_origins` (see serve/guard.py).
    """
    guard = RequestGuard(host, allow_hosts, cors_origins)
    # On Ctrl-C, replies still streaming get SHUTDOWN_GRACE to finish, not aiohttp's default minute.
    runner = web.AppRunner(create_app(client, api_key=api_key, guard=guard), handler_cancellation=True, access_log=None,
                           shutdown_timeout=SHUTDOWN_GRACE)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        if on_ready is not None:
            bound_host, bound_port = runner.addresses[0][:2]
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            on_ready(f"http://{shown}:{bound_port}")
        await asyncio.Future()  # until cancelled
    finally:
        await runner.cleanup()
