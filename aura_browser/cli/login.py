"""`aura-browser login`: pass the site's gate in Chromium and save the session profile."""

from __future__ import annotations

import click

from ..option_values import MIN_LOGIN_TIMEOUT
from ..sync import run_command
from .options import Seconds, SiteOptions, login_timeout_option, site_options


def _warn_deprecated_timeout(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None:
        click.echo("aura-browser: warning: login --timeout is deprecated; use --login-timeout (the same seconds, "
                   "named as in ask, chat, batch, serve and doctor)", err=True)
    return value


@click.command()
@site_options
@login_timeout_option
# The old name, kept for users' scripts: everywhere else --timeout is seconds of silence in a reply.
@click.option("--timeout", "deprecated_timeout", type=Seconds(MIN_LOGIN_TIMEOUT), hidden=True, callback=_warn_deprecated_timeout)
def login(site: SiteOptions, login_timeout: float, deprecated_timeout: float | None) -> None:
    """Open the site in Chromium, pass its gate, and save the session profile.

    The profile keeps the cookies, the user agent, the request headers the browser
    sent, localStorage and the proxy. On failure, a screenshot is saved beside it.
    By default the browser runs headed on a private virtual display (Xvfb), which bot
    checks cannot tell from a person's browser; --headed shows it on your $DISPLAY,
    to solve a challenge by hand.

    \b
    Examples:
      aura-browser login --base-url https://openchat.team --profile work
      aura-browser login --headed      # watch it, or solve a challenge by hand
    """

    if deprecated_timeout is not None and not _given_on_command_line("login_timeout"):
        login_timeout = deprecated_timeout

    async def main() -> None:
        async with site.client(login_timeout=login_timeout) as client:
            profile = await client.login()
            name = client.profile_name
            path = client.store.path(name)
        summary = profile.summary()
        click.echo(f"Saved profile {name!r} for {profile.base_url} to {path}")
        click.echo(f"  cookies: {', '.join(summary['cookies']) or 'none'}")
        click.echo(f"  user agent: {profile.user_agent}")
        click.echo(f"  gate cookie expires: {summary['gate_expires_at'] or 'no gate cookie'}")

    run_command(main())


def _given_on_command_line(name: str) -> bool:
    return click.get_current_context().get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
