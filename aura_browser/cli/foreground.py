"""Servers run in the foreground (`replica`, `serve`): Ctrl-C, SIGTERM or SIGHUP is how they are meant to stop."""

from __future__ import annotations

from typing import Any, Coroutine

import click

from ..sync import Terminated, run_command

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def warn_when_exposed(host: str, who: str) -> None:
    """One warning line when `host` is not loopback: every machine that can reach it may use the server."""
    if host not in LOOPBACK:
        click.echo(f"aura-browser: warning: {who}", err=True)


def run_until_stopped(server: Coroutine[Any, Any, None], name: str) -> None:
    """Run a server until a signal stops it; being stopped is its normal end (exit 0), said in one line."""
    try:
        run_command(server)
    except (KeyboardInterrupt, Terminated):
        click.echo(f"{name} stopped.", err=True)
