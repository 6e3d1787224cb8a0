"""Options shared by commands: which site, which profile, which browser, how verbose."""

from __future__ import annotations

import functools
import math
import sys
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

import click

from ..environment import MAX_LOGIN_TIMEOUT, default_of, env_name
from ..option_values import MIN_LOGIN_TIMEOUT, MIN_TIMEOUT, seconds_problem

if TYPE_CHECKING:
    from ..client import AuraClient
    from ..settings import Settings


class SiteOptions(NamedTuple):  # a NamedTuple: `--help` need not import the Settings module
    base_url: str
    profile: str | None  # None: the site's own
    profile_dir: str | None
    browser: str | None
    driver: str
    proxy: str | None
    insecure: bool
    browser_ws: str | None = None
    cdp_url: str | None = None
    remote_webdriver: str | None = None
    headless: bool | None = None  # None: the stealthy default (headed on a private virtual display)
    remote_capabilities: dict[str, Any] = {}  # never changed in place (a NamedTuple's default is shared)
    remote_idle_timeout: float = default_of("remote_idle_timeout")

    def settings(self, **changes: Any) -> Settings:
        """These options as `Settings`, with `changes` (more Settings fields: transport, timeouts, model...)."""
        from ..settings import Settings

        return Settings(**{**self._asdict(), **changes})

    def client(self, **changes: Any) -> AuraClient:
        """An AuraClient on these options, with `changes` (Settings fields: `connect.client_kwargs()`...)."""
        from ..client import AuraClient

        if self.insecure:
            click.echo("aura-browser: warning: --insecure: TLS certificates are not verified", err=True)
        return AuraClient(settings=self.settings(**changes))


def _setup_logging(verbose: int) -> None:
    import logging

    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    from ..redaction import printable

    class RedactingFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return "\n".join(printable(line) for line in super().format(record).split("\n"))

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("aura-browser: %(message)s"))
    root = logging.getLogger("aura_browser")
    root.handlers[:] = [handler]
    root.setLevel(level)


def profile_dir_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--profile-dir",
        envvar=env_name("profile_dir"),
        show_envvar=True,
        type=click.Path(file_okay=False),
        help="Folder of saved profiles [default: the user data folder of aura-browser].",
    )(command)


VERBOSE_HELP = "Say what happens (-vv: more). Secrets are never printed."
QUIET_HELP = "No status line on stderr while a login runs (errors and warnings still show)."


def verbose_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """-v and -q, after the command name; the group's own, given before it (`aura-browser -v ask`), count too."""

    @click.option("-v", "--verbose", count=True, help=VERBOSE_HELP)
    @click.option("-q", "--quiet", is_flag=True, help=QUIET_HELP)
    @functools.wraps(command)
    def wrapper(*args: Any, verbose: int, quiet: bool, **kwargs: Any) -> Any:
        before_command = click.get_current_context().find_root().params
        verbose += before_command.get("verbose") or 0
        quiet = quiet or bool(before_command.get("quiet"))
        _setup_logging(verbose)
        from .status_line import showing_progress

        # With -v the log lines say what the login does; a status line redrawn among them would garble both.
        with showing_progress(enabled=not quiet and not verbose):
            return command(*args, **kwargs)

    return wrapper


def site_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say which site, which profile, and which browser; collected into `site`."""

    @click.option(
        "--base-url", envvar=env_name("base_url"), show_envvar=True, default=default_of("base_url"), show_default=True,
        help="The OpenChat UI deployment to talk to.",
    )
    @click.option("--profile", envvar=env_name("profile"), show_envvar=True,
                  help="Name of the saved session profile [default: the site's own, default-HOST...].")
    @profile_dir_option
    @click.option("--browser", envvar=env_name("browser"), show_envvar=True,
                  help="Chromium binary [default: Playwright's, then /usr/lib/chromium/chromium, then PATH].")
    @click.option("--driver", envvar=env_name("driver"), show_envvar=True, default=default_of("driver"), show_default=True,
                  type=click.Choice(["playwright", "selenium"]), help="What drives the browser.")
    @click.option("--proxy", envvar=env_name("proxy"), show_envvar=True,
                  help="http://[user:password@]host:port for the browser and the direct requests; kept in the profile.")
    @click.option("--insecure", envvar=env_name("insecure"), show_envvar=True, is_flag=True,
                  help="Accept self-signed TLS certificates (browser and direct).")
    @click.option("--browser-ws", envvar=env_name("browser_ws"), show_envvar=True, metavar="WS_URL",
                  help="Use a remote Playwright browser server (ws://host:port/...) instead of a local browser.")
    @click.option("--cdp-url", envvar=env_name("cdp_url"), show_envvar=True, metavar="URL",
                  help="Use a remote Chromium's DevTools endpoint (http://host:9222), e.g. a browserless-style service.")
    @click.option("--remote-webdriver", envvar=env_name("remote_webdriver"), show_envvar=True, metavar="URL",
                  help="Use a remote WebDriver server (http://host:4444, Selenium Grid); implies --driver selenium.")
    @click.option("--remote-capability", "remote_capabilities", multiple=True, metavar="KEY=JSON",
                  cls=_CapabilitiesOption, envvar=env_name("remote_capabilities"), show_envvar=True,
                  callback=_remote_capabilities,
                  help=f"A capability for --remote-webdriver's new-session request, e.g. browserVersion='\"126\"' "
                       f"(repeatable; added to the JSON object in ${env_name('remote_capabilities')}).")
    @click.option("--remote-idle-timeout", envvar=env_name("remote_idle_timeout"), show_envvar=True,
                  type=Seconds(MIN_TIMEOUT), default=default_of("remote_idle_timeout"), show_default=True,
                  help="Seconds a remote browser (a Grid slot) may sit unused before it is let go; a new one is "
                       "started when needed.")
    @click.option("--headless/--headed", envvar=env_name("headless"), show_envvar=True, default=None,
                  help="Force a headless browser, or a headed one (on $DISPLAY, else on a private Xvfb) "
                       "[default: headed on a private Xvfb when installed, which is what passes bot checks].")
    @verbose_option
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        site = SiteOptions(**{name: kwargs.pop(name) for name in SiteOptions._fields})
        return command(*args, site=site, **kwargs)

    return wrapper


class _CapabilitiesOption(click.Option):
    """Its variable holds one JSON object, which click would split at whitespace: the callback reads it instead,
    and adds the options' KEY=JSON pairs to it."""

    def value_from_envvar(self, ctx: click.Context) -> Any:
        return None


def _remote_capabilities(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    """$AURA_REMOTE_CAPABILITIES (a JSON object), then each KEY=JSON given."""
    import json
    import os

    from ..environment import json_object
    from ..errors import InvalidRequest

    variable = env_name("remote_capabilities")
    try:
        capabilities = json_object(os.environ[variable], variable) if os.environ.get(variable) else {}
    except InvalidRequest as exc:
        raise click.BadParameter(str(exc)) from None
    for entry in values:
        name, sep, text = entry.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{entry!r} is not KEY=JSON (e.g. platformName='\"linux\"')")
        try:
            capabilities[name.strip()] = json.loads(text)
        except ValueError:
            raise click.BadParameter(f"the value of {name.strip()} is not JSON: {text!r} (a string needs its quotes: "
                                     f"'\"{text}\"')") from None
    return capabilities


class Seconds(click.ParamType[float]):
    """A timeout, held to the one rule Settings holds every timeout to (`option_values.seconds_problem`)."""

    name = "seconds"

    def __init__(self, minimum: float, maximum: float | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        problem = seconds_problem(number, self.minimum)
        if problem:
            self.fail(f"the timeout {problem}", param, ctx)
        if self.maximum is not None and number > self.maximum:
            self.fail(f"{number:g} is not in the range {self.minimum:.0f}<=x<={self.maximum:.0f}", param, ctx)
        return number


def _utf8_text(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse an argument that was not UTF-8 (Python hands it over with lone surrogates)."""
    from ..errors import InvalidRequest
    from ..wire.api import require_utf8

    if value is not None:
        try:
            require_utf8(value, "the value")
        except InvalidRequest as exc:
            raise click.BadParameter(str(exc)) from None
    return value


class ReplyOptions(NamedTuple):
    model: str
    temperature: float
    max_tokens: int

    def client_kwargs(self) -> dict[str, Any]:
        """The Settings fields these options set."""
        return self._asdict()


def reply_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--model, --temperature, --max-tokens: what every request is sent with; collected into `reply`."""

    @click.option("--model", envvar=env_name("model"), show_envvar=True, default=default_of("model"),
                  show_default=True, callback=_utf8_text)
    @click.option("--temperature", type=click.FloatRange(0, 2), default=default_of("temperature"), show_default=True,
                  envvar=env_name("temperature"), show_envvar=True)
    @click.option("--max-tokens", type=click.IntRange(min=1), default=default_of("max_tokens"), show_default=True,
                  envvar=env_name("max_tokens"), show_envvar=True,
                  help="The model's tokenLimit: the budget the app trims the conversation to, 768 of it kept "
                       "for the reply. Not the reply's length (the app caps that at 1000 tokens).")
    @functools.wraps(command)
    def wrapper(*args: Any, model: str, temperature: float, max_tokens: int, **kwargs: Any) -> Any:
        return command(*args, reply=ReplyOptions(model, temperature, max_tokens), **kwargs)

    return wrapper


class ConnectOptions(NamedTuple):
    transport: str
    timeout: float
    first_byte_timeout: float | None
    idle_timeout: float | None
    login_timeout: float
    send_anyway: bool
    max_reply_bytes: int = default_of("max_reply_bytes")

    def client_kwargs(self) -> dict[str, Any]:
        """The Settings fields these options set (what `SiteOptions.client` takes besides the site)."""
        from ..settings import timeouts_for

        timeouts = timeouts_for(self.timeout, self.first_byte_timeout, self.idle_timeout)
        return {"transport": self.transport, "timeouts": timeouts, "login_timeout": self.login_timeout,
                "send_anyway": self.send_anyway, "max_reply_bytes": self.max_reply_bytes}


def login_timeout_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--login-timeout: the seconds a login may take (every command that may log in)."""
    return click.option(
        "--login-timeout", type=Seconds(MIN_LOGIN_TIMEOUT, MAX_LOGIN_TIMEOUT), default=default_of("login_timeout"),
        show_default=True,
        envvar=env_name("login_timeout"), show_envvar=True,
        help="Seconds a login may take: for the gate to let the browser through.",
    )(command)


def connect_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--transport, the timeouts of a request and of a login, and --send-anyway; collected into `connect`."""

    @click.option("--transport", type=click.Choice(["auto", "direct", "impersonate", "page"]),
                  default=default_of("transport"), show_default=True, envvar=env_name("transport"), show_envvar=True,
                  help="auto: direct HTTP, then impersonate (Chrome's TLS fingerprint), then a refreshed profile, "
                       "then in-page.")
    @click.option("--timeout", type=Seconds(MIN_TIMEOUT), default=default_of("timeout"), show_default=True,
                  envvar=env_name("timeout"), show_envvar=True,
                  help="Seconds of silence allowed (first byte and between chunks).")
    @click.option("--first-byte-timeout", type=Seconds(MIN_TIMEOUT), envvar=env_name("first_byte_timeout"),
                  show_envvar=True, help="Seconds to the first byte [default: --timeout].")
    @click.option("--idle-timeout", type=Seconds(MIN_TIMEOUT), envvar=env_name("idle_timeout"), show_envvar=True,
                  help="Seconds between two chunks [default: --timeout].")
    @login_timeout_option
    @click.option("--send-anyway", is_flag=True, default=default_of("send_anyway"), envvar=env_name("send_anyway"),
                  show_envvar=True,
                  help="Send a question even when the token estimate says it may not fit --max-tokens (the app "
                       "then drops it and answers nothing, if its own count is over).")
    @click.option("--max-reply-bytes", type=click.IntRange(min=1), default=default_of("max_reply_bytes"),
                  show_default=True, envvar=env_name("max_reply_bytes"), show_envvar=True,
                  help="The most of one reply kept in memory (its text as UTF-8, decompressed); a longer reply "
                       "fails (exit 5).")
    @functools.wraps(command)
    def wrapper(*args: Any, transport: str, timeout: float, first_byte_timeout: float | None,
                idle_timeout: float | None, login_timeout: float, send_anyway: bool, max_reply_bytes: int,
                **kwargs: Any) -> Any:
        connect = ConnectOptions(transport, timeout, first_byte_timeout, idle_timeout, login_timeout, send_anyway,
                                 max_reply_bytes)
        return command(*args, connect=connect, **kwargs)

    return wrapper
