"""`Settings`: every site, browser, transport and reply option, as one frozen value.

As httpx's `Timeout` and `Limits` are, it is a small value object that every entry point takes: the
client (`AuraClient(settings=...)`), the CLI, the gpt4free face, the pytest plugin and `doctor`.
Its values are checked once, here, when it is made; `from_env` reads the AURA_* variables of
`environment.py`'s table. Each field's default, variable, flag and help are declared in `option_table.py`
(tests/test_option_table.py holds these fields to it). What the tools need without a client (the profile
store, the browser's launch options, the driver that will speak to it) is derived from it.

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
import os
from dataclasses import KW_ONLY, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, Mapping, TypeVar, overload

from .environment import env_name, settings_from_env
from .errors import AuraError, InvalidRequest
from .option_table import SETTINGS_OPTIONS, default_of
from .option_values import Timeouts, TransportName, require_seconds
from .origin import check_proxy, normalise_base_url, origin_of
from .redaction import redact_url
from .wire.api import TEMPERATURE_RANGE, is_model_id, is_temperature, is_token_limit

if TYPE_CHECKING:
    from .drivers.base import LaunchOptions
    from .profile import ProfileStore

DriverName = Literal["playwright", "selenium"]
TRANSPORTS: tuple[str, ...] = SETTINGS_OPTIONS["transport"].choices
DRIVERS: tuple[str, ...] = SETTINGS_OPTIONS["driver"].choices
# The options given as a choice, and those given in seconds, each checked by the one rule of its kind.
_CHOICES = tuple(name for name, option in SETTINGS_OPTIONS.items() if option.kind == "choice")
_SECONDS = tuple(name for name, option in SETTINGS_OPTIONS.items() if option.kind == "seconds")


class FromSettings(enum.Enum):
    """The default of an option that was not given: the client's `Settings` decide (its keywords, and the
    per-call reply options `model`, `temperature`, `max_tokens`). A value equal to a default is still given."""

    FROM_SETTINGS = "the client's settings"


FROM_SETTINGS = FromSettings.FROM_SETTINGS
URL_OPTIONS = frozenset({"proxy", "browser_ws", "cdp_url", "remote_webdriver"})


def _impersonate_from_env() -> str | None:
    # The one option read from its variable even by Settings made without `from_env`, as the impersonate
    # transport read it before it was a setting: a script that sets AURA_IMPERSONATE keeps its target.
    return os.environ.get(env_name("impersonate")) or None


def _check_seconds(value: Any, name: str) -> None:
    """The one rule of a timeout (`option_values.seconds_problem`), with the option's declared least and most."""
    option = SETTINGS_OPTIONS[name]
    require_seconds(value, name, option.minimum or 0)
    if option.maximum is not None and value > option.maximum:
        raise InvalidRequest(f"{name} must be at most {option.maximum:.0f} seconds ({option.maximum / 86400:g} days), "
                             f"not {value!r}")


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value  # the browser's own, never the frozen settings'


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

    base_url: str = default_of("base_url")  # normalised when made: https://host[:port][/path], no trailing slash
    _: KW_ONLY
    profile: str | None = default_of("profile")  # None: this site's own (`profile_name`)
    profile_dir: str | Path | None = default_of("profile_dir")  # None: aura-browser's user data folder
    transport: TransportName = default_of("transport")
    driver: DriverName = default_of("driver")
    browser: str | None = default_of("browser")  # the Chromium binary; None: Playwright's, then the system's
    proxy: str | None = default_of("proxy")
    insecure: bool = default_of("insecure")
    headless: bool | None = default_of("headless")  # None: the stealthy default (headed on a private virtual display)
    timeouts: Timeouts = field(default_factory=Timeouts)  # AURA_TIMEOUT, AURA_FIRST_BYTE_TIMEOUT, AURA_IDLE_TIMEOUT
    login_timeout: float = default_of("login_timeout")
    max_reply_bytes: int = default_of("max_reply_bytes")  # past it a reply fails with ReplyTooLarge
    # a browser somewhere else instead of one launched here (at most one)
    browser_ws: str | None = default_of("browser_ws")
    cdp_url: str | None = default_of("cdp_url")
    remote_webdriver: str | None = default_of("remote_webdriver")
    # merged into a remote WebDriver's new-session request (browserVersion, platformName, a node's own tag...)
    remote_capabilities: Mapping[str, Any] = field(default_factory=dict)
    remote_idle_timeout: float = default_of("remote_idle_timeout")  # seconds before an unused remote browser is let go
    # what each request is sent with, unless the call says otherwise
    model: str = default_of("model")
    temperature: float | None = default_of("temperature")  # None: the app's own (1)
    max_tokens: int = default_of("max_tokens")
    send_anyway: bool = default_of("send_anyway")  # send a question the token estimate says the app may drop
    # the curl_cffi target the impersonate transport shows; None: the Chrome nearest the profile's
    impersonate: str | None = field(default_factory=_impersonate_from_env)

    def __post_init__(self) -> None:
        from .profile import check_name

        set_ = object.__setattr__  # the dataclass is frozen; normalising belongs to making it
        set_(self, "base_url", normalise_base_url(self.base_url))
        set_(self, "proxy", check_proxy(self.proxy) if self.proxy else None)
        if self.profile is not None:
            if not isinstance(self.profile, str):
                raise InvalidRequest(f"profile must be a profile name, not {self.profile!r}")
            check_name(self.profile)
        for name in _CHOICES:
            *others, last = choices = SETTINGS_OPTIONS[name].choices
            if getattr(self, name) not in choices:
                raise InvalidRequest(f"unknown {name} {getattr(self, name)!r}; use {', '.join(others)} or {last}")
        if not isinstance(self.timeouts, Timeouts):
            raise InvalidRequest(f"timeouts must be a Timeouts, not {self.timeouts!r}")
        for name in _SECONDS:
            if name in self.__dataclass_fields__:  # the others make `timeouts`, checked by Timeouts
                _check_seconds(getattr(self, name), name)
        if isinstance(self.max_reply_bytes, bool) or not isinstance(self.max_reply_bytes, int) or self.max_reply_bytes < 1:
            raise InvalidRequest(f"max_reply_bytes must be a positive integer, not {self.max_reply_bytes!r}")
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
        if self.impersonate is not None and not isinstance(self.impersonate, str):
            raise InvalidRequest(f"impersonate must be a curl_cffi target name, not {self.impersonate!r}")
        set_(self, "impersonate", (self.impersonate or "").strip() or None)  # empty: the nearest Chrome
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
        for option in _SECONDS:
            if option in options:  # held to the CLI's rule, and named as the user wrote it
                require_seconds(options[option], env_name(option), SETTINGS_OPTIONS[option].minimum or 0)
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

        return LaunchOptions(screenshot_path=self.store().screenshot_path(self.profile_name), **self.browser_options())

    def browser_options(self) -> dict[str, Any]:
        """The options a browser is started with (the `LaunchOptions` fields the table names), and no profile's."""
        return {option.launch: _copy(getattr(self, name)) for name, option in SETTINGS_OPTIONS.items() if option.launch}

    def chosen_driver(self) -> str:
        """The driver that will speak to the browser: a remote endpoint's own, else `driver`."""
        if not (self.browser_ws or self.cdp_url or self.remote_webdriver):
            return self.driver  # a browser started here (and a direct ask imports no driver module)
        from .drivers import choose_driver

        return choose_driver(self.driver, self)  # the settings name the remote endpoints as LaunchOptions do



# The fields, in order: AuraClient's keywords are these (tests/test_option_table.py holds them equal).
SETTINGS_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Settings))

T = TypeVar("T")


class SettingsAttribute(Generic[T]):
    """An attribute that is its owner's `settings`' one of the same name (a client's, a site under test's), read
    from them so that the two cannot disagree: `base_url = SettingsAttribute[str]()`."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = self.name or name

    @overload
    def __get__(self, instance: None, owner: type) -> SettingsAttribute[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object, owner: type) -> Any:
        if instance is None:
            return self
        return getattr(instance.settings, self.name)  # type: ignore[attr-defined]
