"""`aura-browser batch`: many prompts from JSON Lines, one record per item, on one shared client."""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from pathlib import Path
from typing import IO, Any

import click

from ..errors import BATCH_ITEMS_FAILED
from ..sync import run_command
from .options import ConnectOptions, ReplyOptions, SiteOptions, declared_option, question_options


@click.command()
@click.argument("source", metavar="IN.jsonl", type=click.File("rb"))
@declared_option("output", "batch")
@declared_option("resume", "batch")
@declared_option("allow_duplicate_ids", "batch")
@declared_option("concurrency", "batch")
@question_options("batch", system_help="System prompt for lines that give none.")
def batch(source: IO[bytes], output: str, resume: bool, allow_duplicate_ids: bool, concurrency: int, site: SiteOptions,
          system: str | None, reply: ReplyOptions, connect: ConnectOptions) -> None:
    """Ask every line of IN.jsonl ('-': stdin) and write one JSON record per item as it finishes.

    \b
    An input line is {"id": ..., "prompt": "..."} or {"id": ..., "messages": [...]},
    with optional "system", "model", "temperature", "max_tokens".
    A record is {"id", "text", "transport", "error", "ttfb_ms", "elapsed_ms"}.
    Ids must be unique (unless --allow-duplicate-ids) and finite.

    All items share one profile and one browser. A bad line gets an error record and the
    run goes on; the exit code is 8 when any record has an error. A failure that would hit
    every item (login, browser, site down, blocked) stops the run with its own exit code;
    --resume then carries on where it stopped. A progress bar shows on a terminal.

    \b
    Examples:
      aura-browser batch prompts.jsonl -o answers.jsonl --concurrency 8
      aura-browser batch prompts.jsonl -o answers.jsonl --resume
      jq -c '{id: .n, prompt: .question}' questions.json | aura-browser batch - > answers.jsonl
    """
    from ..errors import InvalidRequest, OutputError
    from ..tools.batch import (
        ItemDefaults,
        describe_duplicates,
        duplicate_ids,
        finished_items,
        open_output,
        read_items,
        record_writer,
        refuse_same_file,
        run_batch,
        without_finished,
    )

    to_stdout = output == "-"
    if resume and to_stdout:
        raise click.UsageError("--resume needs -o OUT.jsonl: it reads the ids OUT already has")
    if not to_stdout:
        refuse_same_file(source, Path(output))
    defaults = ItemDefaults(system, reply.model, reply.temperature, reply.max_tokens)
    items = read_items(source.read().splitlines(), defaults)
    duplicates = duplicate_ids(items)
    if duplicates and not allow_duplicate_ids:
        raise InvalidRequest(f"{describe_duplicates(duplicates)}; give each line its own id, or pass "
                             "--allow-duplicate-ids")
    if duplicates:
        click.echo(f"aura-browser: warning: {describe_duplicates(duplicates)}", err=True)
    todo, skipped = without_finished(items, finished_items(Path(output)) if resume else Counter())
    out = sys.stdout if to_stdout else open_output(Path(output), resume=resume)
    progress = _progress_bar(len(todo))

    async def main() -> Any:
        async with site.client(**connect.client_kwargs()) as client:
            return await run_batch(client, todo, record_writer(out), concurrency=concurrency, on_record=progress)

    try:
        outcome = run_command(main())
    finally:
        if progress is not None:
            progress.close()
        if not to_stdout:
            # Every record was flushed as it was written: what close() could still fail on is a record
            # whose write already failed and was reported.
            with contextlib.suppress(OSError):
                out.close()
    if isinstance(outcome.stopped_by, OutputError) and outcome.stopped_by.broken_pipe:
        raise outcome.stopped_by  # the reader left: nobody wants the summary
    note = f", {skipped} already in {output}" if skipped else ""
    left = f", {outcome.total - outcome.done} without a record (--resume continues)" if outcome.stopped_by else ""
    click.echo(f"aura-browser: batch: {outcome.done} done, {outcome.failed} failed{left}{note}", err=True)
    if outcome.stopped_by is not None:
        raise outcome.stopped_by
    if outcome.failed:
        click.get_current_context().exit(BATCH_ITEMS_FAILED)


class _Progress:
    """done/total, failures and rate on stderr, redrawn as each record is written."""

    def __init__(self, total: int) -> None:
        import os

        from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no type hints

        # A pty nobody sized reports 0x0, and tqdm draws nothing on a screen that small.
        size = {} if os.get_terminal_size(sys.stderr.fileno()).columns else {"ncols": 80, "nrows": 24}
        self.bar = tqdm(total=total, unit="item", file=sys.stderr, dynamic_ncols=not size, **size)

    def __call__(self, record: dict[str, Any], outcome: Any) -> None:
        self.bar.set_postfix(failed=outcome.failed, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def _progress_bar(total: int) -> _Progress | None:
    """A bar only for a person watching: none when stderr is piped or a file."""
    return _Progress(total) if sys.stderr.isatty() else None

