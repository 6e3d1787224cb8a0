"""`aura-browser demo`: the whole flow against the embedded replica."""

from __future__ import annotations

import click

from ..sync import run_command
from .options import verbose_option


@click.command()
@click.option("--question", default="Hello, how are you?", show_default=True)
@verbose_option
def demo(question: str) -> None:
    """Show the whole flow against the embedded replica: login, a direct answer, one over impersonate.

    Starts the replica on a free loopback port behind a JS challenge, logs in with
    Chromium (headed on a private Xvfb), asks directly over HTTP, then switches the replica to strict (it blocks
    non-browser TLS fingerprints) and asks again: the reply comes over impersonate (Chrome's TLS fingerprint,
    no browser); the browser page is the last resort. Profiles go to a temporary folder, not yours.
    """
    from ..tools.demo import run_demo

    run_command(run_demo(question, echo=click.echo))
