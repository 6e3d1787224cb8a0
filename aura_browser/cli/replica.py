"""`aura-browser replica`: the embedded replica of OpenChat UI and its gate, in the foreground."""

from __future__ import annotations

import click

from .foreground import run_until_stopped, warn_when_exposed
from .options import declared_option, verbose_option


@click.command()
@declared_option("host", "replica")
@declared_option("port", "replica")
@declared_option("gate", "replica")
@declared_option("tls", "replica")
@click.option("--challenge-delay", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Seconds the challenge script waits.")
@click.option("--cookie-ttl", type=click.FloatRange(min=1), default=1800.0, show_default=True,
              help="Seconds a cf_clearance cookie stays valid.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--chunk-delay", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Seconds between reply chunks.")
@click.option("--drop-after", type=click.IntRange(min=0), help="Drop the connection after this many reply bytes.")
@click.option("--status", type=click.IntRange(100, 599), help="Answer /api/chat with this status instead.")
@click.option("--reason", help="Reason phrase to go with --status (and with --upstream-down).")
@click.option("--upstream-down", is_flag=True, help="The app's model upstream fails: /api/models and /api/chat answer 500.")
@click.option("--truncate-after", type=click.IntRange(min=0), metavar="BYTES",
              help="End each reply cleanly after this many bytes: a short reply that looks whole (the app "
                   "itself never does this; see --hang-after).")
@click.option("--hang-after", type=click.IntRange(min=0), metavar="BYTES",
              help="Send nothing after this many reply bytes, and never end the reply: what the app does when its "
                   "upstream breaks off mid-reply (it sends what it has and holds the connection open).")
@click.option("--decode-per-packet", is_flag=True,
              help="Decode each chunk on its own, as the app does: characters split across chunks become U+FFFD.")
@declared_option("tls_allow", "replica")
@verbose_option
def replica(host: str, port: int, gate: str, tls: bool, challenge_delay: float, cookie_ttl: float, chunk_size: int,
            chunk_delay: float, drop_after: int | None, status: int | None, reason: str | None, upstream_down: bool,
            truncate_after: int | None, hang_after: int | None, decode_per_packet: bool, tls_allow: str) -> None:
    """Run the embedded replica of OpenChat UI and its gate, for trying things out and for tests.

    It answers GET /, POST /api/models and POST /api/chat as the real app does, with a
    deterministic reply. /__replica__/config (GET, POST JSON) changes any knob at run time.

    \b
    Example:
      aura-browser replica --port 8765 --gate challenge
      aura-browser ask --base-url http://127.0.0.1:8765 "Hi"
    """
    from ..errors import CannotListen
    from ..replica import CannotListen as ReplicaCannotListen
    from ..replica import ReplicaConfig, serve

    try:
        config = ReplicaConfig(gate=gate, tls=tls or gate == "strict", challenge_delay=challenge_delay,
                               cookie_ttl=cookie_ttl, chunk_size=chunk_size, chunk_delay=chunk_delay,
                               drop_after=drop_after, status=status, reason=reason, upstream_down=upstream_down,
                               truncate_after=truncate_after, hang_after=hang_after,
                               decode_per_packet=decode_per_packet, tls_allow=tls_allow)  # type: ignore[arg-type]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tls-allow") from None

    def ready(url: str) -> None:
        click.echo(f"Replica of OpenChat UI listening on {url} (gate: {config.gate}). Ctrl-C stops it.")

    async def main() -> None:
        try:
            await serve(config, host, port, on_ready=ready)
        except ReplicaCannotListen as exc:
            raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    warn_when_exposed(host, f"the replica listens on {host}, not on loopback: anyone who can reach it can use it")
    run_until_stopped(main(), "Replica")
