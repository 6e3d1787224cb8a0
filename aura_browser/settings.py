"""`Settings`: every site, browser, transport and reply option, as one frozen value.

As httpx's `Timeout` and `Limits` are, it is a small value object that every entry point takes: the
client (`AuraClient(settings=...)`), the CLI, the gpt4free face, the pytest plugin and `doctor`.
Its values are checked once, here, when it is made; `from_env` reads the AURA_* variables of
`environment.py`'s table. What the tools need without a client (the profile store, the browser's
launch options, the driver that will speak to it) is derived from it.

```python
settings = Settings.from_env(profile="work")          # AURA_* variables, then these
async with AuraClient(settings=settings.replace(transport="direct")) as client:
    ...
```
"""

from __future__ import annotations

import enum
import functools
import math
from dataclasses import KW_ONLY, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping

from .environment import (
    DEFAULT_BASE_URL,
    DEFAULT_LOGIN_TIMEOUT,
    DEFAULT_MAX_REPLY_BYTES,
    DEFAULT_REMOTE_IDLE_TIMEOUT,
    MAX_LOGIN_TIMEOUT,
    env_name,
    settings_from_env,
)
from .errors import AuraError, InvalidRequest
from .option_values import MIN_LOGIN_TIMEOUT, MIN_TIMEOUT, TIERS, Timeouts, TransportName, require_seconds
from .origin import check_proxy, normalise_base_url, origin_of
from .redaction import redact_url
from .wire.api import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_MODEL,
    DEFAULT_TEMPERATURE,
    TEMPERATURE_RANGE,
    is_model_id,
    is_temperature,
    is_token_limit,
)

if TYPE_CHECKING:
    from .drivers.base import LaunchOptions
    from .profile import ProfileStore

TRANSPORTS: tuple[str, ...] = ("auto", *TIERS)
DriverName = Literal["playwright", "selenium"]
DRIVERS: tuple[DriverName, ...] = ("playwright", "selenium")


class FromSettings(enum.Enum):
    """The default of an option that was not given: the client's `Settings` decide (its keywords, and the
    per-call reply options `model`, `temperature`, `max_tokens`). A value equal to a default is still given."""

    FROM_SETTINGS = "the client's settings"


FROM_SETTINGS = FromSettings.FROM_SETTINGS
URL_OPTIONS = frozenset({"proxy", "browser_ws", "cdp_url", "remote_webdriver"})


def timeouts_for(timeout: float | None = None, first_byte: float | None = None, idle: float | None = None,
                 connect: float | None = None) -> Timeouts:
    """`Timeouts` from seconds of silence: `first_byte` and `idle` default to `timeout`, which defaults to Timeouts'."""
    default = Timeouts()
    timeout = default.first_byte if timeout is None else timeout
    return Timeouts(
        connect=default.connect if connect is None else connect,
        first_byte=timeout if first_byte is None else first_byte,
        idle=timeout if idle is None else idle,
    )


@dataclass(frozen=True, repr=False)
class Settings:
    """Which site, profile and browser; which transport and timeouts; what each request is sent with."""

    base_url: str = DEFAULT_BASE_URL  # normalised when made: https://host[:port][/path], no trailing slash
    _: KW_ONLY
    profile: str | None = None  # None: this site's own (`profile_name`)
    profile_dir: str | Path | None = None  # None: aura-browser's user data folder
    transport: TransportName = "auto"
    driver: DriverName = "playwright"
    browser: str | None = None  # the Chromium binary; None: Playwright's, then the system's
    proxy: str | None = None
    insecure: bool = False
    headless: bool | None = None  # None: the stealthy default (headed on a private virtual display)
    timeouts: Timeouts = field(default_factory=Timeouts)
    login_timeout: float = DEFAULT_LOGIN_TIMEOUT
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES  # past it a reply fails with ReplyTooLarge
    # a browser somewhere else instead of one launched here (at most one)
    browser_ws: str | None = None
    cdp_url: str | None = None
    remote_webdriver: str | None = None
    # merged into a remote WebDriver's new-session request (browserVersion, platformName, a node's own tag...)
    remote_capabilities: Mapping[str, Any] = field(default_factory=dict)
    remote_idle_timeout: float = DEFAULT_REMOTE_IDLE_TIMEOUT  # seconds before an unused remote browser is let go
    # what each request is sent with, unless the call says otherwise
    model: str = DEFAULT_MODEL
    temperature: float | None = DEFAULT_TEMPERATURE  # None: the app's own (1)
    max_tokens: int = DEFAULT_MAX_TOKENS
    send_anyway: bool = False  # send a question the token estimate says the app may drop

    def __post_init__(self) -> None:
        from .profile import check_name

        set_ = object.__setattr__  # the dataclass is frozen; normalising belongs to making it
        set_(self, "base_url", normalise_base_url(self.base_url))
        set_(self, "proxy", check_proxy(self.proxy) if self.proxy else None)
        if self.profile is not None:
            if not isinstance(self.profile, str):
                raise InvalidRequest(f"profile must be a profile name, not {self.profile!r}")
            check_name(self.profile)
        if self.transport not in TRANSPORTS:
            raise InvalidRequest(f"unknown transport {self.transport!r}; use auto, direct, impersonate or page")
        if self.driver not in DRIVERS:
            raise InvalidRequest(f"unknown driver {self.driver!r}; use playwright or selenium")
        if not isinstance(self.timeouts, Timeouts):
            raise InvalidRequest(f"timeouts must be a Timeouts, not {self.timeouts!r}")
        require_seconds(self.login_timeout, "login_timeout", MIN_LOGIN_TIMEOUT)
        if self.login_timeout > MAX_LOGIN_TIMEOUT:
            raise InvalidRequest(f"login_timeout must be at most {MAX_LOGIN_TIMEOUT:.0f} seconds (24 days), "
                                 f"not {self.login_timeout!r}")
        if isinstance(self.max_reply_bytes, bool) or not isinstance(self.max_reply_bytes, int) or self.max_reply_bytes < 1:
            raise InvalidRequest(f"max_reply_bytes must be a positive integer, not {self.max_reply_bytes!r}")
        require_seconds(self.remote_idle_timeout, "remote_idle_timeout")
        if not isinstance(self.remote_capabilities, Mapping) or not all(
            isinstance(name, str) and name for name in self.remote_capabilities
        ):
            raise InvalidRequest(f"remote_capabilities must map capability names to values, not {self.remote_capabilities!r}")
        set_(self, "remote_capabilities", dict(self.remote_capabilities))
        if not is_model_id(self.model):
            raise InvalidRequest(f"model must be a model id, not {self.model!r}")
        temperature = self.temperature
        low, high = TEMPERATURE_RANGE
        if not is_temperature(temperature) or (temperature is not None and not (
            math.isfinite(temperature) and low <= temperature <= high
        )):
            raise InvalidRequest(f"temperature {temperature!r} is outside [{low}, {high}]")
        if not is_token_limit(self.max_tokens) or self.max_tokens <= 0:
            raise InvalidRequest(f"max_tokens must be a positive integer, not {self.max_tokens!r}")
        if not isinstance(self.send_anyway, bool):
            raise InvalidRequest(f"send_anyway must be true or false, not {self.send_anyway!r}")
        self.chosen_driver()  # a remote endpoint must be well formed, and one at most

    def __repr__(self) -> str:
        # Never a proxy password (or a remote endpoint's credentials), even in a traceback's locals.
        shown = {name: redact_url(value) if name in URL_OPTIONS and value else value
                 for name, value in self.options().items()}
        # Capabilities may hold a cloud Grid's access key: their names only.
        shown["remote_capabilities"] = {name: "..." for name in self.remote_capabilities}
        return f"Settings({', '.join(f'{name}={value!r}' for name, value in shown.items())})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """The AURA_* variables (`environ`, else os.environ), then `overrides`; an override that is None is not given.

        AURA_TIMEOUT is the default of AURA_FIRST_BYTE_TIMEOUT and AURA_IDLE_TIMEOUT; `timeouts=` overrides all three.
        """
        options = settings_from_env(environ)
        for option in ("timeout", "first_byte_timeout", "idle_timeout", "login_timeout", "remote_idle_timeout"):
            if option in options:  # held to the CLI's rule, and named as the user wrote it
                require_seconds(options[option], env_name(option),
                                MIN_LOGIN_TIMEOUT if option == "login_timeout" else MIN_TIMEOUT)
        timeout, first_byte, idle = (options.pop(name, None) for name in ("timeout", "first_byte_timeout",
                                                                           "idle_timeout"))
        if (timeout, first_byte, idle) != (None, None, None):
            options["timeouts"] = timeouts_for(timeout, first_byte, idle)
        options.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**options)

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes`, checked again."""
        return replace(self, **changes)

    def options(self) -> dict[str, Any]:
        """The settings as keyword arguments (of `Settings`, and of `AuraClient`)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # --- what the tools derive from them, without a client ------------------------------------

    @functools.cached_property
    def profile_name(self) -> str:
        """The profile these settings use: `profile` when given; else this site's own, one per origin
        (`default-HOST...`, see profile.site_profile_name). A profile saved under the plain name `default`
        before profiles were per site goes on serving the site it was captured for, until this site's own exists.
        """
        if self.profile is not None:
            return self.profile
        from .profile import DEFAULT_NAME, site_profile_name

        own = site_profile_name(self.origin)
        store = self.store()
        if not store.path(own).exists():
            try:
                legacy = store.load(DEFAULT_NAME)
            except AuraError:  # unreadable: it serves nobody; this site gets its own
                legacy = None
            if legacy is not None and legacy.origin == self.origin:
                return DEFAULT_NAME
        return own

    @property
    def origin(self) -> str:
        """`scheme://host[:port]` of the site: what a profile's cookies are bound to."""
        return origin_of(self.base_url)

    def store(self) -> ProfileStore:
        """The folder of saved profiles."""
        from .profile import ProfileStore

        return ProfileStore(self.profile_dir)

    def launch_options(self) -> LaunchOptions:
        """How a browser for these settings is started (or reached, when it runs somewhere else)."""
        from .drivers.base import LaunchOptions

        return LaunchOptions(
            executable=self.browser,
            headless=self.headless,
            proxy=self.proxy,
            insecure=self.insecure,
            timeout=self.login_timeout,
            screenshot_path=self.store().screenshot_path(self.profile_name),
            browser_ws=self.browser_ws,
            cdp_url=self.cdp_url,
            remote_webdriver=self.remote_webdriver,
            remote_capabilities=dict(self.remote_capabilities),
        )

    def chosen_driver(self) -> str:
        """The driver that will speak to the browser: a remote endpoint's own, else `driver`."""
        if not (self.browser_ws or self.cdp_url or self.remote_webdriver):
            return self.driver  # a browser started here (and a direct ask imports no driver module)
        from .drivers import choose_driver

        return choose_driver(self.driver, self)  # the settings name the remote endpoints as LaunchOptions do

