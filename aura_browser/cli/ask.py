"""`aura-browser ask`: one question, its reply streamed to stdout as it arrives."""

from __future__ import annotations

import sys

import click

from ..errors import AuraError, InvalidRequest, ReplyTooLarge, StreamInterrupted
from ..sync import Terminated, run_command
from .options import ConnectOptions, ReplyOptions, SiteOptions, question_options


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
@question_options("ask")
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

    from ..transports.base import StreamStats
    from ..wire.api import as_messages

    kept: list[str] = []  # the reply, for --json only: printed text is forgotten once written
    line_open = False  # the last text printed did not end its line
    printed_any = False
    stats: StreamStats | None = None

    def record(answer: str, error: str | None) -> str:
        return json.dumps({
            "text": answer,
            "error": error,
            "transport": (stats.transport or None) if stats else None,  # null until a transport answered, as in batch
            "model": reply.model,
            "ttfb_ms": stats.ttfb_ms if stats else None,
            "elapsed_ms": stats.elapsed_ms if stats else None,
            "queue_ms": stats.queue_ms if stats else None,
            "trimmed_messages": stats.trimmed_messages if stats else 0,
        }, ensure_ascii=False)

    async def main() -> None:
        nonlocal stats, line_open, printed_any
        async with site.client(**connect.client_kwargs()) as client:
            try:
                async for chunk in client.stream(as_messages(text, system), model=reply.model,
                                                 temperature=reply.temperature, max_tokens=reply.max_tokens):
                    if as_json:
                        kept.append(chunk)
                    else:
                        sys.stdout.write(chunk)
                        sys.stdout.flush()
                        if chunk:
                            line_open = not chunk.endswith("\n")
                            printed_any = True
            finally:
                stats = client.last_stats
        if as_json:
            click.echo(record("".join(kept), None))
        elif line_open or not printed_any:  # an empty reply still prints its (empty) line
            sys.stdout.write("\n")

    try:
        text = _read_prompt(prompt)
        run_command(main())
    except (AuraError, KeyboardInterrupt, Terminated) as exc:
        # What was streamed stays printed; end its line so the error message stands on its own.
        if line_open:
            sys.stdout.write("\n")
            sys.stdout.flush()
        if as_json:  # one object whatever happened; the exit code still says what it was
            partial = exc.partial_text if isinstance(exc, (StreamInterrupted, ReplyTooLarge)) else "".join(kept)
            reason = str(exc) or {KeyboardInterrupt: "interrupted", Terminated: "terminated"}.get(type(exc), "")
            click.echo(record(partial, reason))
        raise
