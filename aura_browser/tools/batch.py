"""Batch runs: JSON Lines of prompts in, one JSON record per item out, written the moment the item finishes.

All items share one `AuraClient`, so they share its profile, its single-flight refresh and its one
browser for in-page replies. A bad line becomes an error record for that line. A failure that
would repeat for every item (no login, browser broken, site down, blocked everywhere) stops the
run instead: what is running finishes, the rest is not started, and `--resume` picks it up later.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, TextIO

from ..errors import AuraError, FileUnusable, InvalidRequest, OutputError
from ..transports.base import StreamStats
from ..wire.api import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_MODEL,
    DEFAULT_TEMPERATURE,
    is_model_id,
    is_temperature,
    is_token_limit,
)

if TYPE_CHECKING:
    from ..client import AuraClient


Record = dict[str, Any]

BOM = "\ufeff"
# How `--resume` keys a line that has no usable id: by the error its record carries, which names the line.
LINE_ERROR = "line error: "


@dataclass(frozen=True)
class ItemDefaults:
    """What an input line gets for the fields it leaves out."""

    system: str | None = None
    model: str = DEFAULT_MODEL
    temperature: float | None = DEFAULT_TEMPERATURE
    max_tokens: int = DEFAULT_MAX_TOKENS


@dataclass
class BatchItem:
    """One input line: what to send, or why it cannot be sent (`problem`)."""

    line: int
    id: Any = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    model: str = DEFAULT_MODEL
    temperature: float | None = DEFAULT_TEMPERATURE
    max_tokens: int = DEFAULT_MAX_TOKENS
    problem: str | None = None


@dataclass
class BatchOutcome:
    total: int = 0
    done: int = 0
    failed: int = 0
    stopped_by: AuraError | None = None  # the error that ended the run early (its class `stops_batch`)


def parse_item(raw: bytes | str, line: int, defaults: ItemDefaults = ItemDefaults()) -> BatchItem:
    """Read one input line; a line that cannot be used gets a `problem` that names its line number."""
    item = BatchItem(line, model=defaults.model, temperature=defaults.temperature, max_tokens=defaults.max_tokens)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        data = json.loads(text)
    except UnicodeDecodeError as exc:
        item.problem = f"line {line}: not valid UTF-8 (byte {exc.start})"
        return item
    except json.JSONDecodeError as exc:
        item.problem = f"line {line}: not JSON ({exc.msg} at column {exc.colno})"
        return item
    except RecursionError:
        item.problem = f"line {line}: nested too deeply"
        return item
    except ValueError:  # the one ValueError json raises that is no JSONDecodeError: Python's int digit limit
        item.problem = f"line {line}: a number longer than {sys.get_int_max_str_digits()} digits"
        return item
    if not isinstance(data, dict):
        item.problem = f"line {line}: not a JSON object"
        return item
    try:
        item.id = _checked_id(data.get("id"))
        _fill(item, data, defaults)
    except InvalidRequest as exc:
        item.problem = f"line {line}: {exc}"
    return item


def _checked_id(value: Any) -> Any:
    """An id must survive being written as strict JSON: no NaN or infinity, no lone surrogate."""
    if value is None:
        raise InvalidRequest("no 'id'")
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except ValueError:  # UnicodeEncodeError is one too
        raise InvalidRequest("'id' must be valid JSON: finite numbers (not NaN, Infinity or 1e999), UTF-8 text") from None
    return value


def _fill(item: BatchItem, data: Mapping[str, Any], defaults: ItemDefaults) -> None:
    prompt, messages = data.get("prompt"), data.get("messages")
    if (prompt is None) == (messages is None):
        raise InvalidRequest("give either 'prompt' or 'messages'")
    if prompt is not None and not isinstance(prompt, str):
        raise InvalidRequest("'prompt' must be a string")
    if messages is not None and not (isinstance(messages, list) and all(isinstance(m, dict) for m in messages)):
        raise InvalidRequest("'messages' must be a list of {role, content} objects")
    system = data.get("system", defaults.system)
    if system is not None and not isinstance(system, str):
        raise InvalidRequest("'system' must be a string")
    item.messages = [{"role": "system", "content": system}] if system else []
    item.messages += messages if messages is not None else [{"role": "user", "content": prompt}]
    if "model" in data:
        if not is_model_id(data["model"]):
            raise InvalidRequest("'model' must be a non-empty string")
        item.model = data["model"]
    if "temperature" in data:
        if not is_temperature(data["temperature"]):
            raise InvalidRequest("'temperature' must be a number or null")
        item.temperature = data["temperature"]
    if "max_tokens" in data:
        if not is_token_limit(data["max_tokens"]):
            raise InvalidRequest("'max_tokens' must be an integer")
        item.max_tokens = data["max_tokens"]


def read_items(lines: Iterable[bytes | str], defaults: ItemDefaults = ItemDefaults()) -> list[BatchItem]:
    """Every non-blank line, numbered from 1 as an editor numbers them. A byte order mark before line 1 is skipped."""
    items = []
    for number, raw in enumerate(lines, 1):
        if number == 1:
            raw = raw.removeprefix(BOM.encode("utf-8")) if isinstance(raw, bytes) else raw.removeprefix(BOM)
        if raw.strip():
            items.append(parse_item(raw, number, defaults))
    return items


def id_key(value: Any) -> str:
    """Ids are any JSON value; 1 and "1" are different ids."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def item_key(item: BatchItem) -> str:
    """What `--resume` knows an item by: its id, or for a line without a usable id, the error that line gets."""
    return id_key(item.id) if item.id is not None else LINE_ERROR + (item.problem or "")


def duplicate_ids(items: Iterable[BatchItem]) -> dict[str, list[int]]:
    """The ids more than one line uses (as `id_key`s), each with the numbers of those lines."""
    lines: dict[str, list[int]] = {}
    for item in items:
        if item.id is not None:
            lines.setdefault(id_key(item.id), []).append(item.line)
    return {key: numbers for key, numbers in lines.items() if len(numbers) > 1}


def describe_duplicates(duplicates: Mapping[str, list[int]], shown: int = 3) -> str:
    listed = [f"{key[:40]} on lines {', '.join(map(str, numbers))}" for key, numbers in list(duplicates.items())[:shown]]
    more = f" and {len(duplicates) - shown} more" if len(duplicates) > shown else ""
    return f"duplicate ids: {'; '.join(listed)}{more}"


def finished_items(path: Path) -> Counter[str]:
    """How many records an earlier run wrote for each `item_key`. A torn last line (a crash mid-write) does not count."""
    done: Counter[str] = Counter()
    if path.exists() and not path.is_file():  # a device or a pipe: reading it may never end
        raise InvalidRequest(f"--resume needs OUT to be a regular file; {path} is not one")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return done
    except OSError as exc:
        raise FileUnusable(f"cannot read {path}: {exc.strerror or exc}") from None
    for line in raw.splitlines():
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # not UTF-8, not JSON, a number too long
            continue
        if not isinstance(record, dict):
            continue
        if record.get("id") is not None:
            done[id_key(record["id"])] += 1
        elif isinstance(record.get("error"), str):
            done[LINE_ERROR + record["error"]] += 1
    return done


def without_finished(items: Iterable[BatchItem], finished: Counter[str]) -> tuple[list[BatchItem], int]:
    """The items still to do, and how many were left out because the output already has their record.

    Each record accounts for one item, so of two lines sharing an id (`--allow-duplicate-ids`) only the first
    counts as done when one record has that id.
    """
    unclaimed = Counter(finished)
    todo = []
    everything = list(items)
    for item in everything:
        key = item_key(item)
        if unclaimed[key] > 0:
            unclaimed[key] -= 1
        else:
            todo.append(item)
    return todo, len(everything) - len(todo)


def refuse_same_file(source: IO[bytes], output: Path) -> None:
    """OUT must not be the input (the same file, by a link or another name too): its records would overwrite the
    prompts. Checked before anything is read or written."""
    try:
        written, read = output.stat(), os.fstat(source.fileno())
    except (OSError, ValueError):  # no OUT yet (open_output says what else is wrong), or an input with no file
        return
    if (written.st_dev, written.st_ino) == (read.st_dev, read.st_ino):
        raise InvalidRequest(f"OUT {output} is the input file {getattr(source, 'name', '-')}: its records would "
                             "overwrite the prompts; write them to another file")


def open_output(path: Path, *, resume: bool) -> TextIO:
    """The output file: appended to on --resume (after ending a torn last line), else started afresh."""
    try:
        if not resume:
            return path.open("w", encoding="utf-8")
        torn = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
        out = path.open("a", encoding="utf-8")
        if torn:
            out.write("\n")
        return out
    except OSError as exc:
        raise FileUnusable(f"cannot write {path}: {exc.strerror or exc}") from None


def record_writer(out: TextIO) -> Callable[[Record], None]:
    """Write one record as one line and flush it, so a crash loses nothing that was done."""

    def write(record: Record) -> None:
        try:
            out.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
            out.flush()
        except OSError as exc:  # a full disk; stdout's own failures are OutputError already
            raise OutputError(f"cannot write {out.name}: {exc.strerror or exc}") from None

    return write


def error_record(item_id: Any, error: str) -> Record:
    return {"id": item_id, "text": "", "transport": None, "error": error, "ttfb_ms": None, "elapsed_ms": None}


async def run_item(client: AuraClient, item: BatchItem) -> Record:
    """Ask one item. Item-level failures become the record's `error`; those that `stops_batch` propagate.

    Those are failures of the environment, not of the item: one error record per item would only hide them.
    """
    if item.problem is not None:
        return error_record(item.id, item.problem)
    stats = StreamStats()
    parts: list[str] = []
    error: str | None = None
    try:
        async for chunk in client.stream(item.messages, model=item.model, temperature=item.temperature,
                                         max_tokens=item.max_tokens, stats=stats):
            parts.append(chunk)
    except AuraError as exc:  # what had arrived stays in `text`
        if exc.stops_batch:
            raise
        error = str(exc)
    return {
        "id": item.id,
        "text": "".join(parts),
        "transport": stats.transport or None,
        "error": error,
        "ttfb_ms": stats.ttfb_ms,
        "elapsed_ms": stats.elapsed_ms,
    }


async def run_batch(
    client: AuraClient,
    items: Iterable[BatchItem],
    write: Callable[[Record], None],
    *,
    concurrency: int = 4,
    on_record: Callable[[Record, BatchOutcome], None] | None = None,
) -> BatchOutcome:
    """Run `items` on `concurrency` workers sharing `client`; `write` each record as its item finishes.

    On an error that `stops_batch` (output that cannot be written is one), no new item starts; the ones running finish,
    and `stopped_by` tells why.
    """
    if concurrency < 1:
        raise InvalidRequest(f"concurrency must be at least 1, not {concurrency}")
    todo = list(items)
    outcome = BatchOutcome(total=len(todo))
    pending: Iterator[BatchItem] = iter(todo)  # shared: each item goes to exactly one worker

    async def worker() -> None:
        for item in pending:
            if outcome.stopped_by is not None:
                return
            try:
                record = await run_item(client, item)
                write(record)
            except AuraError as exc:
                if not exc.stops_batch:
                    raise
                outcome.stopped_by = outcome.stopped_by or exc
                return
            outcome.done += 1
            outcome.failed += record["error"] is not None
            if on_record is not None:
                on_record(record, outcome)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, max(1, len(todo)))):
            group.create_task(worker())
    return outcome
