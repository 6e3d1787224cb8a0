"""`aura-browser profiles`: list, show and delete saved profiles, never their secrets."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable

import click

from ..errors import AuraError, LoginRequired
from .options import profile_dir_option

if TYPE_CHECKING:
    from ..profile import ProfileStore


@click.group()
def profiles() -> None:
    """List, show and delete saved profiles. Secrets are never shown."""


@profiles.command("list")
@profile_dir_option
def profiles_list(profile_dir: str | None) -> None:
    """List saved profiles: name, site, age, and whether the gate cookie has expired.

    \b
    Example:
      aura-browser profiles list
    """
    from ..profile import ProfileStore

    store = ProfileStore(profile_dir)
    names = store.names()
    if not names:
        click.echo(f"No profiles in {store.directory}")
        return
    click.echo("NAME\tSITE\tCAPTURED\tGATE COOKIE")
    for name in names:
        try:
            profile = store.load(name)
        except AuraError as exc:
            click.echo(f"{name}\tunreadable: {exc}")
            continue
        assert profile is not None
        summary = profile.summary()
        state = "expired" if summary["expired"] else "ok"
        click.echo(f"{name}\t{profile.base_url}\tcaptured {summary['captured_at']}\t{state}")


def _on_one_profile(command_name: str) -> Callable[[Callable[[str, ProfileStore], None]], click.Command]:
    """A `profiles` command on the profile NAME (in --profile-dir): its function is given NAME and the store."""

    def decorate(function: Callable[[str, ProfileStore], None]) -> click.Command:
        @functools.wraps(function)
        def command(name: str, profile_dir: str | None) -> None:
            from ..profile import ProfileStore

            function(name, ProfileStore(profile_dir))

        return profiles.command(command_name)(click.argument("name")(profile_dir_option(command)))

    return decorate


@_on_one_profile("show")
def profiles_show(name: str, store: ProfileStore) -> None:
    """Show one profile as JSON, without cookie values, tokens or passwords.

    \b
    Example:
      aura-browser profiles show default
    """
    import json

    profile = store.load(name)
    if profile is None:
        raise _missing(name, store.directory)
    click.echo(json.dumps({"name": name, "path": str(store.path(name)), **profile.summary()}, indent=2))


@_on_one_profile("delete")
def profiles_delete(name: str, store: ProfileStore) -> None:
    """Delete a saved profile.

    \b
    Example:
      aura-browser profiles delete old
    """
    if not store.delete(name):
        raise _missing(name, store.directory)
    click.echo(f"Deleted profile {name!r}")


def _missing(name: str, directory: object) -> LoginRequired:
    """A profile named on the command line that is not there: exit 3 (no profile), for show and delete alike."""
    return LoginRequired(f"no profile {name!r} in {directory}")
