"""The /api/chat contract of OpenChat UI: messages in, the JSON request body out."""

from __future__ import annotations

import functools
import json
from collections import abc
from json.encoder import encode_basestring as _quote  # (the C one: ensure_ascii=False's)
from typing import Any, Iterable, Mapping, NamedTuple, TypeGuard

from ..errors import InvalidRequest

CHAT_PATH = "api/chat"
MODELS_PATH = "api/models"
DEFAULT_MODEL = "openchat_3.6"
DEFAULT_TEMPERATURE = 0.5
# `max_tokens` is the model's `tokenLimit`: the conversation budget the app trims to (see tokens.py),
# not the reply's length; the app always asks its upstream for 1000 tokens of reply.
DEFAULT_MAX_TOKENS = 8192
# What the app puts in place of an empty `prompt`, and its temperature when `temperature` is null.
APP_SYSTEM_PROMPT = (
    "You are ChatGPT, a large language model trained by OpenAI. Follow the user's instructions carefully. "
    "Respond using markdown."
)
APP_TEMPERATURE = 1.0


class Model(NamedTuple):
    id: str
    name: str
    max_length: int = 24576


# The fallback when the site's own /api/models list is unknown. The old client's `openchat_v3.2_mistral`
# ("OpenChat Aura") is left out: the last deployment answers it with 500. It can still be asked for by id.
MODELS: dict[str, Model] = {
    "openchat_3.6": Model("openchat_3.6", "OpenChat 3.6 (latest)"),
}

ROLES = ("system", "user", "assistant")


def model_for(model_id: str) -> Model:
    return MODELS.get(model_id) or Model(model_id, model_id)


def require_utf8(text: str, what: str) -> None:
    """Refuse a string that cannot be sent: a lone surrogate, e.g. from an argument or JSON that was not UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequest(f"{what} is not valid UTF-8 text (at character {exc.start})") from None


def parse_model_list(text: str) -> list[dict[str, str]] | None:
    """The app's /api/models answer, `[{"id": ..., "name": ...}]`; None when the text is something else."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, list) or not all(isinstance(m, dict) and isinstance(m.get("id"), str) for m in data):
        return None
    return [{"id": m["id"], "name": str(m.get("name", m["id"]))} for m in data]


def model_ids(site_models: list[dict[str, str]] | None) -> list[str]:
    """What to advertise: the site's own list when known, else the static one."""
    return [m["id"] for m in site_models] if site_models else list(MODELS)


# What a request's settings must be, checked here for every face (client, batch lines, the OpenAI API); each
# face words its refusal in its own terms ('temperature' in a JSON line, `temperature=` in Python).
TEMPERATURE_RANGE = (0, 2)


def is_number(value: Any) -> TypeGuard[int | float]:
    """An int or a float; not a bool, which Python counts as an int and JSON does not."""
    return not isinstance(value, bool) and isinstance(value, (int, float))


def is_temperature(value: Any) -> TypeGuard[float | None]:
    """A number, or None for the app's own temperature. Whether it is in TEMPERATURE_RANGE is checked on sending."""
    return value is None or is_number(value)


def is_token_limit(value: Any) -> TypeGuard[int]:
    """An integer (not a bool). Whether it is positive is checked on sending."""
    return not isinstance(value, bool) and isinstance(value, int)


def is_model_id(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value)


def validate_messages(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    checked: list[dict[str, str]] = []
    asks = says = False  # a message that is not a system one; a user message with text
    for index, message in enumerate(messages):
        if type(message) is not dict and not isinstance(message, abc.Mapping):  # (dict: no ABC check per message)
            raise InvalidRequest(f"message {index} is not a mapping with 'role' and 'content'")
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise InvalidRequest(f"message {index} has role {role!r}; use one of {', '.join(ROLES)}")
        if not isinstance(content, str):
            raise InvalidRequest(f"message {index} content must be a string")
        if not content.isascii():  # (ASCII is UTF-8: no need to build the message naming it)
            require_utf8(content, f"message {index} ({role})")
        checked.append({"role": role, "content": content})
        asks = asks or role != "system"
        says = says or (role == "user" and bool(content.strip()))
    if not asks:
        raise InvalidRequest("no user message to send")
    if not says:
        raise InvalidRequest("the prompt is empty")
    return checked


def model_object(model_id: str, max_tokens: int = DEFAULT_MAX_TOKENS) -> dict[str, Any]:
    """The model as the page sends it, and as it keeps it in a saved conversation."""
    chosen = model_for(model_id)
    return {"id": chosen.id, "name": chosen.name, "maxLength": chosen.max_length, "tokenLimit": max_tokens}


def build_body(
    messages: Iterable[Mapping[str, Any]],
    *,
    model: str = DEFAULT_MODEL,
    temperature: float | None = DEFAULT_TEMPERATURE,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    key: str = "",
) -> dict[str, Any]:
    """The body OpenChat UI's page posts: system messages are joined into `prompt`."""
    checked = validate_messages(messages)
    # Each check is called only for a value of another type than the usual one: this runs before every request.
    if type(model) is not str and not is_model_id(model) or not model:
        raise InvalidRequest("the model must be a non-empty string")
    if not model.isascii():
        require_utf8(model, "the model")
    if type(temperature) is not float and not is_temperature(temperature):
        raise InvalidRequest(f"temperature must be a number or None, not {temperature!r}")
    if type(max_tokens) is not int and not is_token_limit(max_tokens):
        raise InvalidRequest(f"max_tokens must be an integer, not {max_tokens!r}")
    low, high = TEMPERATURE_RANGE
    if temperature is not None and not low <= temperature <= high:
        raise InvalidRequest(f"temperature {temperature} is outside [{low}, {high}]")
    if max_tokens <= 0:
        raise InvalidRequest(f"max_tokens must be positive, not {max_tokens}")
    return {
        "model": model_object(model, max_tokens),
        "messages": [m for m in checked if m["role"] != "system"],
        "key": key,
        "prompt": "\n".join(m["content"] for m in checked if m["role"] == "system"),
        "temperature": temperature,
    }


_ENCODER = json.JSONEncoder(ensure_ascii=False)  # json.dumps would make one per call for ensure_ascii=False
_CHAT_FIELDS = ("model", "messages", "key", "prompt", "temperature")
_MODEL_FIELDS = ("id", "name", "maxLength", "tokenLimit")
_MESSAGE_FIELDS = ("role", "content")


def encode_body(body: Mapping[str, Any]) -> bytes:
    """`body` as UTF-8 JSON: byte for byte `json.dumps(body, ensure_ascii=False)`."""
    if type(body) is dict and tuple(body) == _CHAT_FIELDS:
        written = _encode_chat_body(body)
        if written is not None:
            return written
    return _ENCODER.encode(body).encode("utf-8")


def _encode_chat_body(body: dict[str, Any]) -> bytes | None:
    """encode_body of a body of build_body's shape; None for any other.

    It runs before every request, right after the last reply streamed, when the json module's encoder is not in
    the CPU's caches: there it cost 20-40 microseconds, a quarter of what a direct request adds to the first byte
    (B1 in docs/performance.md). Here each message is written out, its content quoted by the json module's own
    string encoder, and what surrounds the messages is encoded by the json module once per model, key, prompt and
    temperature, and kept.
    """
    model, key, prompt, temperature = body["model"], body["key"], body["prompt"], body["temperature"]
    # The values that make the cache's key must be what build_body gives, and each of a type that is written one
    # way: 1 == 1.0 == True and -0.0 == 0.0, yet each is written otherwise.
    if (type(model) is not dict or tuple(model) != _MODEL_FIELDS or type(model["id"]) is not str
            or type(model["name"]) is not str or type(model["maxLength"]) is not int
            or type(model["tokenLimit"]) is not int or type(key) is not str or type(prompt) is not str):
        return None
    if not (temperature is None or type(temperature) is int or (type(temperature) is float and temperature)):
        return None
    written = []
    for message in body["messages"]:
        if type(message) is not dict or tuple(message) != _MESSAGE_FIELDS:
            return None
        role, content = message["role"], message["content"]
        if type(role) is not str or role not in ROLES or type(content) is not str:
            return None
        written.append(f'{{"role": "{role}", "content": {_quote(content)}}}')
    before, after = _around_messages(model["id"], model["name"], model["maxLength"], model["tokenLimit"], key, prompt,
                                     temperature, type(temperature) is float)
    return f"{before}{', '.join(written)}{after}".encode("utf-8")


@functools.lru_cache(maxsize=32)
def _around_messages(model_id: str, name: str, max_length: int, token_limit: int, key: str, prompt: str,
                     temperature: float | None, _is_float: bool) -> tuple[str, str]:
    """The JSON before and after a chat body's messages. (`_is_float` keeps 1 and 1.0, which hash the same, apart.)"""
    whole = _ENCODER.encode({
        "model": {"id": model_id, "name": name, "maxLength": max_length, "tokenLimit": token_limit},
        "messages": [], "key": key, "prompt": prompt, "temperature": temperature,
    })
    before, _, after = whole.partition('"messages": []')  # (a string's own quotes are escaped: no false match)
    return before + '"messages": [', "]" + after


def as_messages(prompt: str, system: str | None = None) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    return messages
