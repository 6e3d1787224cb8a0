"""Every AURA_* environment variable, as a table derived from the options' one declaration (`option_table.py`).

`Settings.from_env` reads the rows of the settings (site, browser, transport, reply); the CLI's
`envvar=`s, the pytest plugin and the provider face name their variables from here, so the faces
cannot drift apart. tests/test_settings.py checks that every AURA_* name in the package is a row.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, NamedTuple

from .errors import InvalidRequest

# The declared defaults the layers below Settings read (they import this module, not the declaration).
from .option_table import DEFAULT_BASE_URL as DEFAULT_BASE_URL
from .option_table import DEFAULT_LOGIN_TIMEOUT as DEFAULT_LOGIN_TIMEOUT
from .option_table import DEFAULT_MAX_REPLY_BYTES as DEFAULT_MAX_REPLY_BYTES
from .option_table import OPTIONS, SETTINGS, SITE_OPTIONS
from .option_table import default_of as default_of


class Variable(NamedTuple):  # a NamedTuple: this module is read by `aura-browser CMD --help`, so it stays cheap
    name: str
    option: str  # the Settings field it sets; for a command's own option, that option's parameter name
    default: Any = None  # None: no default, or one worked out from other options
    kind: str = "text"  # how the value is read: text, flag, seconds, number, integer, choice or json (an object)
    scope: str = SETTINGS  # "settings", or who else reads it: the commands that have it


VARIABLES: tuple[Variable, ...] = tuple(
    Variable(option.variable, option.name, option.default, option.kind, option.scope)
    for option in OPTIONS if option.variable
)

NAMES = frozenset(variable.name for variable in VARIABLES)
# Settings field (or the timeout that builds its Timeouts) -> its row.
SETTINGS_VARIABLES: dict[str, Variable] = {v.option: v for v in VARIABLES if v.scope == SETTINGS}

# The site and browser options (AuraClient's, the provider's keyword arguments) -> their variable.
SITE_ENV: dict[str, str] = {option: SETTINGS_VARIABLES[option].name for option in SITE_OPTIONS}
FLAGS = frozenset(option for option, variable in SETTINGS_VARIABLES.items() if variable.kind == "flag")


def env_name(option: str) -> str:
    """The AURA_* variable of a Settings option: `env_name("model") == "AURA_MODEL"`."""
    return SETTINGS_VARIABLES[option].name


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
