"""Servers run in the foreground (`replica`, `serve`): Ctrl-C, SIGTERM or SIGHUP is how they are meant to stop."""

from __future__ import annotations

from typing import Any, Coroutine

import click

from ..sync import Terminated, run_command


def run_until_stopped(server: Coroutine[Any, Any, None], name: str) -> None:
    """Run a server until a signal stops it; being stopped is its normal end (exit 0), said in one line."""
    try:
        run_command(server)
    except (KeyboardInterrupt, Terminated):
        click.echo(f"{name} stopped.", err=True)
