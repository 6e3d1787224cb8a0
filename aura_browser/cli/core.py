"""The core commands: login, ask, profiles, replica, demo."""

from __future__ import annotations

import sys

import click

from ..errors import AuraError, InvalidRequest, StreamInterrupted
from ..run import Terminated, run_async
from .options import (
    ConnectOptions,
    ReplyOptions,
    Seconds,
    SiteOptions,
    connect_options,
    profile_dir_option,
    reply_options,
    site_options,
    verbose_option,
)



@click.command()
@site_options
@click.option("--timeout", type=Seconds(min=1), default=120.0, show_default=True, envvar="AURA_LOGIN_TIMEOUT",
              show_envvar=True, help="Seconds to wait for the gate to let the browser through.")
def login(site: SiteOptions, timeout: float) -> None:
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

    async def main() -> None:
        async with site.client(login_timeout=timeout) as client:
            profile = await client.login()
            path = client.store.path(site.profile)
        summary = profile.summary()
        click.echo(f"Saved profile {site.profile!r} for {profile.base_url} to {path}")
        click.echo(f"  cookies: {', '.join(summary['cookies']) or 'none'}")
        click.echo(f"  user agent: {profile.user_agent}")
        click.echo(f"  gate cookie expires: {summary['gate_expires_at'] or 'no gate cookie'}")

    run_async(main())


def _read_prompt(prompt: str | None) -> str:
    if prompt is None and sys.stdin.isatty():
        raise click.UsageError("give a PROMPT, or '-' to read it from stdin")
    if prompt is None or prompt == "-":
        data = sys.stdin.buffer.read()
        try:
            prompt = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRequest(f"stdin is not valid UTF-8 (byte {exc.start})") from None
    if not prompt.strip():
        raise InvalidRequest("the prompt is empty")
    return prompt


@click.command()
@click.argument("prompt", required=False)
@site_options
@click.option("--system", envvar="AURA_SYSTEM", show_envvar=True, help="System prompt (sent as the body's `prompt`).")
@reply_options
@connect_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object at the end instead of streaming.")
def ask(prompt: str | None, site: SiteOptions, system: str | None, reply: ReplyOptions, connect: ConnectOptions,
        as_json: bool) -> None:
    """Ask one question and stream the reply to stdout as it arrives.

    Logs in first when there is no usable profile. PROMPT '-' (or no PROMPT, with
    stdin piped) reads the prompt from stdin.

    \b
    Examples:
      aura-browser ask "Hello, how are you?"
      echo "Summarise this" | aura-browser ask -
      aura-browser ask --system "Answer in French" --temperature 0.2 "Hi"
      aura-browser ask --json "Hi" | jq .ttfb_ms
    """
    import json

    from ..wire.api import as_messages
    from ..transports.base import StreamStats

    printed: list[str] = []
    stats: StreamStats | None = None

    def record(answer: str, error: str | None) -> str:
        return json.dumps({
            "text": answer,
            "error": error,
            "transport": stats.transport if stats else None,
            "model": reply.model,
            "ttfb_ms": stats.ttfb_ms if stats else None,
            "elapsed_ms": stats.elapsed_ms if stats else None,
            "queue_ms": stats.queue_ms if stats else None,
            "trimmed_messages": stats.trimmed_messages if stats else 0,
        }, ensure_ascii=False)

    async def main() -> None:
        nonlocal stats
        async with site.client(**connect.client_kwargs()) as client:
            try:
                async for chunk in client.stream(as_messages(text, system), model=reply.model,
                                                 temperature=reply.temperature, max_tokens=reply.max_tokens):
                    printed.append(chunk)
                    if not as_json:
                        sys.stdout.write(chunk)
                        sys.stdout.flush()
            finally:
                stats = client.last_stats
        answer = "".join(printed)
        if as_json:
            click.echo(record(answer, None))
        elif not answer.endswith("\n"):
            sys.stdout.write("\n")

    try:
        text = _read_prompt(prompt)
        run_async(main())
    except (AuraError, KeyboardInterrupt, Terminated) as exc:
        # What was streamed stays printed; end its line so the error message stands on its own.
        if printed and not as_json and not printed[-1].endswith("\n"):
            sys.stdout.write("\n")
            sys.stdout.flush()
        if as_json:  # one object whatever happened; the exit code still says what it was
            partial = exc.partial_text if isinstance(exc, StreamInterrupted) else "".join(printed)
            reason = str(exc) or {KeyboardInterrupt: "interrupted", Terminated: "terminated"}.get(type(exc), "")
            click.echo(record(partial, reason))
        raise


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


@profiles.command("show")
@click.argument("name")
@profile_dir_option
def profiles_show(name: str, profile_dir: str | None) -> None:
    """Show one profile as JSON, without cookie values, tokens or passwords.

    \b
    Example:
      aura-browser profiles show default
    """
    import json

    from ..errors import LoginRequired
    from ..profile import ProfileStore

    store = ProfileStore(profile_dir)
    profile = store.load(name)
    if profile is None:
        raise LoginRequired(f"no profile {name!r} in {store.directory}")
    click.echo(json.dumps({"name": name, "path": str(store.path(name)), **profile.summary()}, indent=2))


@profiles.command("delete")
@click.argument("name")
@profile_dir_option
def profiles_delete(name: str, profile_dir: str | None) -> None:
    """Delete a saved profile.

    \b
    Example:
      aura-browser profiles delete old
    """
    from ..profile import ProfileStore

    store = ProfileStore(profile_dir)
    if not store.delete(name):
        raise InvalidRequest(f"no profile {name!r} in {store.directory}")
    click.echo(f"Deleted profile {name!r}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="AURA_REPLICA_HOST", show_envvar=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              envvar="AURA_REPLICA_PORT", show_envvar=True, help="0 picks a free port.")
@click.option("--gate", type=click.Choice(["off", "challenge", "strict", "botcheck"]), default="off", show_default=True,
              envvar="AURA_REPLICA_GATE", show_envvar=True,
              help="challenge: a JS challenge sets cf_clearance. strict: also blocks non-browser TLS fingerprints. "
                   "botcheck: the challenge also checks that no program drives the browser (README: Stealth).")
@click.option("--tls", is_flag=True, envvar="AURA_REPLICA_TLS", show_envvar=True,
              help="Serve HTTPS with a self-signed certificate (strict implies it).")
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
              help="End each reply cleanly after this many bytes, as the app does when its upstream breaks off.")
@click.option("--hang-after", type=click.IntRange(min=0), metavar="BYTES",
              help="Send nothing after this many reply bytes, and never end the reply.")
@click.option("--decode-per-packet", is_flag=True,
              help="Decode each chunk on its own, as the app does: characters split across chunks become U+FFFD.")
@click.option("--tls-allow", default="chromium", show_default=True, envvar="AURA_REPLICA_TLS_ALLOW", show_envvar=True,
              help="Which TLS fingerprints the strict gate admits, comma-separated: 'chromium' (Chromium-like "
                   "hellos), a JA4 or a JA3 hash; '!' before one refuses it.")
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

    try:
        run_async(serve(config, host, port, on_ready=ready))
    except (KeyboardInterrupt, Terminated):
        click.echo("Replica stopped.", err=True)


@click.command()
@click.option("--question", default="Hello, how are you?", show_default=True)
@verbose_option
def demo(question: str) -> None:
    """Show the whole flow against the embedded replica: login, a direct answer, an in-page answer.

    Starts the replica on a free loopback port behind a JS challenge, logs in with
    Chromium (headed on a private Xvfb), asks directly over HTTP, then switches the replica to strict (it blocks
    non-browser TLS fingerprints) and asks again: the reply comes through the browser page.
    Profiles go to a temporary folder, not yours.
    """
    from ..demo import run_demo

    run_async(run_demo(question, echo=click.echo))


