"""The AURA_* environment variables that choose the site, profile and browser, in one table.

The CLI's shared options name their `envvar=` from it, and the provider face reads the same
variables through `site_options_from_env`, so the two cannot drift apart.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from .errors import InvalidRequest

DEFAULT_BASE_URL = "https://openchat.team"

# AuraClient option -> environment variable.
SITE_ENV: dict[str, str] = {
    "base_url": "AURA_BASE_URL",
    "profile": "AURA_PROFILE",
    "profile_dir": "AURA_PROFILE_DIR",
    "browser": "AURA_BROWSER",
    "driver": "AURA_DRIVER",
    "proxy": "AURA_PROXY",
    "insecure": "AURA_INSECURE",
    # a browser somewhere else instead of one launched here (at most one)
    "browser_ws": "AURA_BROWSER_WS",
    "cdp_url": "AURA_CDP_URL",
    "remote_webdriver": "AURA_REMOTE_WEBDRIVER",
    "headless": "AURA_HEADLESS",  # unset: headed on a private virtual display (see drivers/display.py)
}
FLAGS = frozenset({"insecure", "headless"})


def site_options_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The AuraClient options that the AURA_* variables set; unset or empty variables are left out.

    Values are read as click reads them for the CLI: an empty variable counts as unset, and a
    flag takes click's boolean words (1/0, true/false, yes/no, on/off, t/f, y/n).
    """
    from click.types import BoolParamType  # click's own table, so a flag means the same in both faces

    environ = os.environ if environ is None else environ
    options: dict[str, Any] = {}
    for option, variable in SITE_ENV.items():
        value = environ.get(variable)
        if not value:
            continue
        if option in FLAGS:
            flag = BoolParamType.str_to_bool(value)
            if flag is None:
                raise InvalidRequest(f"{variable}={value!r} is not a boolean; use 1/0, true/false, yes/no or on/off")
            options[option] = flag
        else:
            options[option] = value
    return options


def base_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get(SITE_ENV["base_url"]) or DEFAULT_BASE_URL
