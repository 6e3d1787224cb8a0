"""The command line's options, made from their rows of `option_table.py` (`declared_option`), and the groups many
commands share: which site, which profile, which browser (`site_options`), what each request is sent with
(`reply_options`), the transport and its timeouts (`connect_options`), how verbose."""

from __future__ import annotations

import functools
import math
import sys
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

import click

from ..option_table import OPTIONS, SETTINGS_OPTIONS, SITE_OPTIONS, Option, own_option
from ..option_values import seconds_problem

if TYPE_CHECKING:
    from ..client import AuraClient
    from ..settings import Settings


class SiteOptions(dict[str, Any]):
    """The site options (the table's `site` group) as the command line gave them: `site.base_url`, `site["proxy"]`.

    A dict, not Settings: `--help` need not import the Settings module."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def settings(self, **changes: Any) -> Settings:
        """These options as `Settings`, with `changes` (more Settings fields: transport, timeouts, model...), and the
        options the CLI has no flag for (AURA_IMPERSONATE) from their variables."""
        from ..environment import settings_from_env
        from ..settings import Settings

        return Settings(**{**settings_from_env(options=UNFLAGGED), **self, **changes})

    def client(self, **changes: Any) -> AuraClient:
        """An AuraClient on these options, with `changes` (Settings fields: `connect.client_kwargs()`...)."""
        from ..client import AuraClient

        if self.insecure:
            click.echo("aura-browser: warning: --insecure: TLS certificates are not verified", err=True)
        return AuraClient(settings=self.settings(**changes))


# The Settings options the command line has no flag for: read from their variables (AURA_IMPERSONATE).
UNFLAGGED = tuple(name for name, option in SETTINGS_OPTIONS.items() if option.flag is None and option.variable)


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def declared_option(name: str, command: str | None = None, **changes: Any) -> Decorator:
    """The click option of a row of the table (a Settings option's, or `command`'s own): its flag, variable, default,
    type and help as declared there; `changes` are click's keywords for this command alone (another help...)."""
    option = SETTINGS_OPTIONS[name] if command is None else own_option(command, name)
    assert option.flag is not None, f"{name} has no flag"
    return click.option(*option.flag.split(), option.name, **{**_click_keywords(option), **changes})


def declared_options(group: str, **changes: dict[str, Any]) -> Decorator:
    """The click options of the table's `group` (site, reply, connect), in table order; `changes` by option name."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed([option for option in OPTIONS if option.group == group and option.flag]):
            command = declared_option(option.name, **changes.get(option.name, {}))(command)
        return command

    return decorate


def _click_keywords(option: Option) -> dict[str, Any]:
    keywords: dict[str, Any] = {"envvar": option.variable, "show_envvar": option.variable is not None,
                                "help": option.help, "metavar": option.metavar, "multiple": option.multiple}
    # Given even when None: a --x/--no-x pair with no default would read an absent flag as False, not as unset.
    keywords["default"] = option.default
    if option.default is not None:
        keywords["show_default"] = option.kind != "flag"
    if option.kind == "flag" and "/" not in (option.flag or ""):
        keywords["is_flag"] = True
    if option.kind == "json":  # one JSON object in its variable, KEY=JSON pairs on the command line
        keywords.update(cls=_CapabilitiesOption, callback=_json_object_option)
    kind_type = _click_type(option)
    if kind_type is not None:
        keywords["type"] = kind_type
    return keywords


def _click_type(option: Option) -> click.ParamType[Any] | None:
    low, high = option.minimum, option.maximum
    if option.kind == "seconds":
        return Seconds(low or 0, high)
    if option.kind == "integer":
        return click.IntRange(None if low is None else int(low), None if high is None else int(high))
    if option.kind == "number":
        return click.FloatRange(low, high)
    if option.kind == "choice":
        return click.Choice(list(option.choices))
    if option.kind == "folder":
        return click.Path(file_okay=False)
    if option.kind == "file":
        return click.Path(dir_okay=False, allow_dash=True)
    return None


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
    return declared_option("profile_dir")(command)


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

    @declared_options("site")
    @verbose_option
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        site = SiteOptions({name: kwargs.pop(name) for name in SITE_OPTIONS})
        return command(*args, site=site, **kwargs)

    return wrapper


class _CapabilitiesOption(click.Option):
    """Its variable holds one JSON object, which click would split at whitespace: the callback reads it instead,
    and adds the options' KEY=JSON pairs to it."""

    def value_from_envvar(self, ctx: click.Context) -> Any:
        return None


def _json_object_option(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    """Its variable's JSON object ($AURA_REMOTE_CAPABILITIES), then each KEY=JSON given."""
    import json
    import os

    from ..environment import json_object
    from ..errors import InvalidRequest

    variable = str(param.envvar)
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


# The typed faces of the `reply` and `connect` groups of the table (tests/test_option_table.py holds them to it).
class ReplyOptions(NamedTuple):
    model: str
    temperature: float
    max_tokens: int

    def client_kwargs(self) -> dict[str, Any]:
        """The Settings fields these options set."""
        return self._asdict()


def reply_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--model, --temperature, --max-tokens: what every request is sent with; collected into `reply`."""

    @declared_options("reply", model={"callback": _utf8_text})
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return command(*args, reply=ReplyOptions(**{name: kwargs.pop(name) for name in ReplyOptions._fields}), **kwargs)

    return wrapper


class ConnectOptions(NamedTuple):
    transport: str
    timeout: float
    first_byte_timeout: float | None
    idle_timeout: float | None
    login_timeout: float
    send_anyway: bool
    max_reply_bytes: int

    def client_kwargs(self) -> dict[str, Any]:
        """The Settings fields these options set (what `SiteOptions.client` takes besides the site)."""
        from ..settings import timeouts_for

        options = self._asdict()
        timeouts = timeouts_for(*(options.pop(name) for name in ("timeout", "first_byte_timeout", "idle_timeout")))
        return {**options, "timeouts": timeouts}


def login_timeout_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--login-timeout: the seconds a login may take (every command that may log in)."""
    return declared_option("login_timeout")(command)


def connect_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--transport, the timeouts of a request and of a login, and --send-anyway; collected into `connect`."""

    @declared_options("connect")
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        connect = ConnectOptions(**{name: kwargs.pop(name) for name in ConnectOptions._fields})
        return command(*args, connect=connect, **kwargs)

    return wrapper


def question_options(command: str, system_help: str | None = None) -> Decorator:
    """What each command that asks (ask, chat, batch) takes: the site options, --system (`system_help`: the command's
    own words for it), the reply and the connect options; collected into `site`, `system`, `reply` and `connect`."""
    system = declared_option("system", command, **({"help": system_help} if system_help else {}))

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        return site_options(system(reply_options(connect_options(function))))

    return decorate
