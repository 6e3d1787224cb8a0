"""What a profile file must hold, checked member by member before any of it is used.

A file can be valid JSON and still hostile or damaged: a number where a list belongs, a cookie
without a name, a header value with a line break in it (which would inject headers into every
request), NaN for a time. Each is found here and named, instead of failing later as a TypeError.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Callable

from .errors import InvalidRequest
from .origin import check_proxy, normalise_base_url

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A cookie's name and value go into a Cookie header as they are: no separator, no control character.
_NOT_IN_COOKIES = re.compile(r"[\x00-\x1f\x7f;]")
SAME_SITE = ("Strict", "Lax", "None")
LATEST_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z: the last second a date can be written of


class SchemaError(ValueError):
    """What is wrong, and where in the file: `storage_state.cookies[2].name must be ...`."""


def check_profile_data(data: dict[str, Any]) -> None:
    """Raise SchemaError for the first member of a profile file's JSON object that is missing or wrong."""
    _check(data, "base_url", _url(normalise_base_url))
    _check(data, "user_agent", _text(allow_empty=False))
    _check(data, "headers", _headers, optional=True)
    _check(data, "storage_state", _storage_state, optional=True)
    _check(data, "proxy", _url(check_proxy), optional=True, nullable=True)
    for name in ("driver", "browser_version"):
        _check(data, name, _text(), optional=True)
    _check(data, "captured_at", _timestamp, optional=True)
    for name in ("gate_expires_at", "direct_blocked_until"):
        _check(data, name, _timestamp, optional=True, nullable=True)
    _check(data, "header_order", _header_names, optional=True)
    _check(data, "models", _models, optional=True, nullable=True)
    _check(data, "transport_tier", _text(), optional=True, nullable=True)


def _check(data: dict[str, Any], name: str, check: Callable[[str, Any], None], *, optional: bool = False,
           nullable: bool = False, at: str = "") -> None:
    """Check member `name` of the object found at `at` (a path like `storage_state.cookies[0]`)."""
    where = f"{at}.{name}" if at else name
    if name not in data:
        if not optional:
            raise SchemaError(f"{where} is missing")
        return
    if data[name] is None and nullable:
        return
    check(where, data[name])


def _text(allow_empty: bool = True, forbidden: re.Pattern[str] = _CONTROL) -> Callable[[str, Any], None]:
    def check(where: str, value: Any) -> None:
        if not isinstance(value, str):
            raise SchemaError(f"{where} must be a string, not {_kind(value)}")
        if not value and not allow_empty:
            raise SchemaError(f"{where} is empty")
        if forbidden.search(value):
            raise SchemaError(f"{where} holds a control character (a line break would inject headers)")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate (JSON's "\udfff"): no request could carry it
            raise SchemaError(f"{where} is not valid UTF-8 text (at character {exc.start})") from None

    return check


def _url(normalise: Callable[[str], str]) -> Callable[[str, Any], None]:
    def check(where: str, value: Any) -> None:
        _text(allow_empty=False)(where, value)
        try:
            normalise(value)
        except InvalidRequest as exc:
            raise SchemaError(f"{where}: {exc}") from None

    return check


def _number(where: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SchemaError(f"{where} must be a finite number, not {_kind(value)}")


def _timestamp(where: str, value: Any) -> None:
    """Seconds since 1970 that a date can be made of: none before 1970, none after 9999."""
    _number(where, value)
    if not 0 <= value <= LATEST_TIMESTAMP:
        raise SchemaError(f"{where} must be a time between 1970 and 9999, not {value!r}")


def _cookie_expiry(where: str, value: Any) -> None:
    """A cookie's `expires`: -1 for a session cookie (as Playwright writes it), else a timestamp."""
    if value != -1:
        _timestamp(where, value)


def _boolean(where: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise SchemaError(f"{where} must be true or false, not {_kind(value)}")


def _object(where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaError(f"{where} must be an object, not {_kind(value)}")
    return value


def _array(where: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise SchemaError(f"{where} must be an array, not {_kind(value)}")
    return value


def _headers(where: str, value: Any) -> None:
    for name, header in _object(where, value).items():
        if not _HEADER_NAME.fullmatch(name):
            raise SchemaError(f"{where} has a header name that is not one: {name[:40]!r}")
        _text()(f"{where}[{name!r}]", header)


def _header_names(where: str, value: Any) -> None:
    for index, name in enumerate(_array(where, value)):
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise SchemaError(f"{where}[{index}] must be a header name")


def _models(where: str, value: Any) -> None:
    for index, model in enumerate(_array(where, value)):
        at = f"{where}[{index}]"
        for name in ("id", "name"):
            _check(_object(at, model), name, _text(), at=at)


def _storage_state(where: str, value: Any) -> None:
    state = _object(where, value)
    for index, cookie in enumerate(_array(f"{where}.cookies", state.get("cookies"))):
        _cookie(f"{where}.cookies[{index}]", cookie)
    for index, entry in enumerate(_array(f"{where}.origins", state.get("origins", []))):
        at = f"{where}.origins[{index}]"
        _check(_object(at, entry), "origin", _text(), at=at)
        for item_index, item in enumerate(_array(f"{at}.localStorage", entry.get("localStorage", []))):
            item_at = f"{at}.localStorage[{item_index}]"
            for name in ("name", "value"):
                _check(_object(item_at, item), name, _text(), at=item_at)
            if item.get("name") == "apiKey":
                _api_key(f"{item_at}.value", item["value"])


def _api_key(where: str, value: str) -> None:
    """The page keeps its apiKey as JSON text; it is decoded for every request, so it must decode."""
    try:
        json.loads(value)
    except ValueError:  # not JSON: the key is used as it is
        pass
    except RecursionError:
        raise SchemaError(f"{where} is nested too deeply") from None


def _cookie(where: str, value: Any) -> None:
    cookie = _object(where, value)
    _check(cookie, "name", _text(allow_empty=False, forbidden=_NOT_IN_COOKIES), at=where)
    _check(cookie, "value", _text(forbidden=_NOT_IN_COOKIES), at=where)
    _check(cookie, "domain", _text(allow_empty=False), at=where)
    _check(cookie, "path", _text(), optional=True, at=where)
    _check(cookie, "expires", _cookie_expiry, optional=True, at=where)
    for name in ("httpOnly", "secure"):
        _check(cookie, name, _boolean, optional=True, at=where)
    if cookie.get("sameSite", "Lax") not in SAME_SITE:
        raise SchemaError(f"{where}.sameSite must be one of {', '.join(SAME_SITE)}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}" if isinstance(value, float) and not math.isfinite(value) else "a number"
    names: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
    return names.get(type(value), type(value).__name__)
