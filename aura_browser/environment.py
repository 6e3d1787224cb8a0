"""Every AURA_* environment variable, in one table: the variable, the option it sets, and its default.

`Settings.from_env` reads the rows of the settings (site, browser, transport, reply); the CLI's
`envvar=`s, the pytest plugin and the provider face name their variables from here, so the faces
cannot drift apart. tests/test_settings.py checks that every AURA_* name in the package is a row.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, NamedTuple

from .errors import InvalidRequest
from .wire.api import DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_TEMPERATURE

DEFAULT_BASE_URL = "https://openchat.team"
DEFAULT_LOGIN_TIMEOUT = 120.0  # seconds a login may wait for the gate
# The most of one reply kept in memory (its text, as UTF-8, decompressed): the app's replies are a few KB.
DEFAULT_MAX_REPLY_BYTES = 8 * 1024 * 1024
# Playwright takes at most 2**31-1 ms (24.8 days) for a wait; a longer one fails at once.
MAX_LOGIN_TIMEOUT = 24 * 24 * 3600.0
# Seconds a remote browser (a Grid slot) may sit unused before the client lets it go; a Grid ends it after 300.
DEFAULT_REMOTE_IDLE_TIMEOUT = 120.0


class Variable(NamedTuple):  # a NamedTuple: this module is read by `aura-browser CMD --help`, so it stays cheap
    name: str
    option: str  # the Settings field it sets; for a command's own option, that option's parameter name
    default: Any = None  # None: no default, or one worked out from other options
    kind: str = "text"  # how the value is read: text, flag, seconds, number, integer or json (an object)
    scope: str = "settings"  # "settings", or who else reads it: a command, a transport


VARIABLES: tuple[Variable, ...] = (
    # Settings: which site, which profile, which browser.
    Variable("AURA_BASE_URL", "base_url", DEFAULT_BASE_URL),
    Variable("AURA_PROFILE", "profile"),  # unset: one profile per site (default-HOST...)
    Variable("AURA_PROFILE_DIR", "profile_dir"),  # unset: aura-browser's user data folder
    Variable("AURA_BROWSER", "browser"),  # unset: Playwright's Chromium, then the system's
    Variable("AURA_DRIVER", "driver", "playwright"),
    Variable("AURA_PROXY", "proxy"),
    Variable("AURA_INSECURE", "insecure", False, "flag"),
    # a browser somewhere else instead of one launched here (at most one)
    Variable("AURA_BROWSER_WS", "browser_ws"),
    Variable("AURA_CDP_URL", "cdp_url"),
    Variable("AURA_REMOTE_WEBDRIVER", "remote_webdriver"),
    Variable("AURA_REMOTE_CAPABILITIES", "remote_capabilities", None, "json"),  # a JSON object
    Variable("AURA_REMOTE_IDLE_TIMEOUT", "remote_idle_timeout", DEFAULT_REMOTE_IDLE_TIMEOUT, "seconds"),
    Variable("AURA_HEADLESS", "headless", None, "flag"),  # unset: headed on a private virtual display
    # Settings: the transport and its timeouts (AURA_TIMEOUT is the default of the two after it).
    Variable("AURA_TRANSPORT", "transport", "auto"),
    Variable("AURA_TIMEOUT", "timeout", 60.0, "seconds"),
    Variable("AURA_FIRST_BYTE_TIMEOUT", "first_byte_timeout", None, "seconds"),
    Variable("AURA_IDLE_TIMEOUT", "idle_timeout", None, "seconds"),
    Variable("AURA_LOGIN_TIMEOUT", "login_timeout", DEFAULT_LOGIN_TIMEOUT, "seconds"),
    Variable("AURA_MAX_REPLY_BYTES", "max_reply_bytes", DEFAULT_MAX_REPLY_BYTES, "integer"),
    # Settings: what each request is sent with.
    Variable("AURA_MODEL", "model", DEFAULT_MODEL),
    Variable("AURA_TEMPERATURE", "temperature", DEFAULT_TEMPERATURE, "number"),
    Variable("AURA_MAX_TOKENS", "max_tokens", DEFAULT_MAX_TOKENS, "integer"),
    Variable("AURA_SEND_ANYWAY", "send_anyway", False, "flag"),  # send what the estimate says may not fit
    # One command's (or one transport's) own options.
    Variable("AURA_SYSTEM", "system", None, "text", "ask, chat, batch"),
    Variable("AURA_BATCH_OUTPUT", "output", "-", "text", "batch"),
    Variable("AURA_BATCH_RESUME", "resume", False, "flag", "batch"),
    Variable("AURA_BATCH_ALLOW_DUPLICATE_IDS", "allow_duplicate_ids", False, "flag", "batch"),
    Variable("AURA_BATCH_CONCURRENCY", "concurrency", 4, "integer", "batch"),
    Variable("AURA_DOCTOR_SKIP_IN_PAGE", "skip_in_page", False, "flag", "doctor"),
    Variable("AURA_SERVE_HOST", "host", "127.0.0.1", "text", "serve"),
    Variable("AURA_SERVE_PORT", "port", 8000, "integer", "serve"),
    Variable("AURA_SERVE_API_KEY", "api_key", None, "text", "serve"),
    Variable("AURA_SERVE_ALLOW_HOST", "allow_hosts", None, "text", "serve"),
    Variable("AURA_SERVE_CORS_ORIGIN", "cors_origins", None, "text", "serve"),
    Variable("AURA_REPLICA_HOST", "host", "127.0.0.1", "text", "replica"),
    Variable("AURA_REPLICA_PORT", "port", 8765, "integer", "replica"),
    Variable("AURA_REPLICA_GATE", "gate", "off", "text", "replica"),
    Variable("AURA_REPLICA_TLS", "tls", False, "flag", "replica"),
    Variable("AURA_REPLICA_TLS_ALLOW", "tls_allow", "chromium", "text", "replica"),
    Variable("AURA_IMPERSONATE", "target", None, "text", "the impersonate transport"),  # a curl_cffi target
)

NAMES = frozenset(variable.name for variable in VARIABLES)
# Settings field (or the timeout that builds its Timeouts) -> its row.
SETTINGS_VARIABLES: dict[str, Variable] = {v.option: v for v in VARIABLES if v.scope == "settings"}

# The site and browser options (AuraClient's, the provider's keyword arguments) -> their variable.
SITE_ENV: dict[str, str] = {
    option: SETTINGS_VARIABLES[option].name
    for option in ("base_url", "profile", "profile_dir", "browser", "driver", "proxy", "insecure",
                   "browser_ws", "cdp_url", "remote_webdriver", "headless")
}
FLAGS = frozenset(option for option, variable in SETTINGS_VARIABLES.items() if variable.kind == "flag")


def env_name(option: str) -> str:
    """The AURA_* variable of a Settings option: `env_name("model") == "AURA_MODEL"`."""
    return SETTINGS_VARIABLES[option].name


def default_of(option: str) -> Any:
    """The default of a Settings option, as the table gives it."""
    return SETTINGS_VARIABLES[option].default


def read_value(variable: Variable, value: str) -> Any:
    """The text of a variable read as its kind says, as click reads it for the CLI; InvalidRequest if it is not one."""
    if variable.kind == "flag":
        from click.types import BoolParamType  # click's own table, so a flag means the same in every face

        flag = BoolParamType.str_to_bool(value)
        if flag is None:
            raise InvalidRequest(f"{variable.name}={value!r} is not a boolean; use 1/0, true/false, yes/no or on/off")
        return flag
    if variable.kind == "json":
        return json_object(value, variable.name)
    if variable.kind in ("seconds", "number", "integer"):
        what = {"seconds": "a number of seconds", "number": "a number", "integer": "an integer"}[variable.kind]
        try:
            return int(value) if variable.kind == "integer" else float(value)
        except ValueError:
            raise InvalidRequest(f"{variable.name}={value!r} is not {what}") from None
    return value


def json_object(text: str, what: str) -> dict[str, Any]:
    """`text` read as a JSON object; InvalidRequest naming `what` when it is not one."""
    import json

    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidRequest(f"{what} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidRequest(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def settings_from_env(environ: Mapping[str, str] | None = None, options: tuple[str, ...] | None = None
                      ) -> dict[str, Any]:
    """The settings options (all, or those named) that the AURA_* variables set; unset or empty ones are left out.

    An empty variable counts as unset, as click counts it.
    """
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for option in SETTINGS_VARIABLES if options is None else options:
        variable = SETTINGS_VARIABLES[option]
        value = environ.get(variable.name)
        if value:
            found[option] = read_value(variable, value)
    return found


def site_options_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The site and browser options (SITE_ENV) that the AURA_* variables set; unset or empty variables are left out.

    Values are read as click reads them for the CLI: an empty variable counts as unset, and a
    flag takes click's boolean words (1/0, true/false, yes/no, on/off, t/f, y/n).
    """
    return settings_from_env(environ, tuple(SITE_ENV))


def base_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get(SITE_ENV["base_url"]) or DEFAULT_BASE_URL
