"""What the app does to an accepted /api/chat body before its model upstream sees it.

These are the replica's own copies of the app's rules, written from what was observed on the real app,
not imported from the client: one wrong constant or count must not pass on both sides at once.
"""

from __future__ import annotations

import functools
import heapq
import lzma
import re
from pathlib import Path
from typing import Any

APP_SYSTEM_PROMPT = (
    "You are ChatGPT, a large language model trained by OpenAI. Follow the user's instructions carefully. "
    "Respond using markdown."
)
APP_TEMPERATURE = 1
UPSTREAM_MAX_TOKENS = 1000  # what the app asks its upstream for, whatever the request says
REPLY_RESERVE = 768  # what the app's trimming keeps free for the reply

# The Llama 3 pre-tokenizer's split (Python's classes for its Unicode letters and numbers).
_PIECE = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|(?:[^\r\n\w]|_)?[^\W\d_]+|\d{1,3}| ?(?:[^\s\w]|_)+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+|.",
    re.S,
)
# The tokenizer's 128,000 mergeable tokens in rank order (one length byte, then the bytes), shipped beside the
# package: data, not the client's code, and both counts are measured against the real tokenizer.
LONGEST_TOKEN = 128  # bytes, in that vocabulary
# The app's tokenizer overflows its stack on one piece this long (measured: 768 KiB of one letter is counted, after
# half a minute; 1 MiB is answered 500 Error after more than that).
OVERFLOWING_PIECE = 1024 * 1024


class TokenizerOverflow(Exception):
    """The app's tokenizer threw (a stack overflow): the app answers 500 Error."""
VOCABULARY = Path(__file__).resolve().parents[1] / "llama3-ranks.xz"


def count_tokens(text: str) -> int:
    """The app's Llama 3 count (`encode(text).length`: its begin and end markers included), made the way its
    tokenizer makes it: the pre-tokenizer's pieces, each one token when the vocabulary has it whole, else
    byte-pair merged by rank."""
    vocabulary = _vocabulary()
    return sum(_tokens_of(piece.encode("utf-8", "surrogatepass"), vocabulary) for piece in _PIECE.findall(text)) + 2


@functools.cache
def _vocabulary() -> dict[bytes, int]:
    data = lzma.decompress(VOCABULARY.read_bytes())
    tokens: list[bytes] = []
    offset = 0
    while offset < len(data):
        tokens.append(data[offset + 1: offset + 1 + data[offset]])
        offset += 1 + data[offset]
    return {token: rank for rank, token in enumerate(tokens)}


def _tokens_of(piece: bytes, vocabulary: dict[bytes, int]) -> int:
    if piece in vocabulary:
        return 1
    # Parts as [start, stop) pairs in a doubly linked list; candidate merges in a heap keyed by rank, then
    # position. A candidate is stale once either of its parts has merged since it was pushed.
    stops = {i: i + 1 for i in range(len(piece))}
    following = {i: i + 1 for i in range(len(piece))}
    preceding = {i: i - 1 for i in range(len(piece))}
    candidates: list[tuple[int, int, int, int]] = []

    def consider(left: int) -> None:
        right = following.get(left, len(piece))
        if left in stops and right < len(piece):
            rank = vocabulary.get(piece[left:stops[right]])
            if rank is not None:
                heapq.heappush(candidates, (rank, left, stops[left], stops[right]))

    for start in range(len(piece) - 1):
        consider(start)
    while candidates:
        _, left, left_stop, right_stop = heapq.heappop(candidates)
        right = following.get(left)
        if left not in stops or stops[left] != left_stop or right is None or stops.get(right) != right_stop:
            continue
        stops[left] = right_stop
        del stops[right]
        following[left] = following[right]
        preceding[following[right]] = left
        consider(left)
        consider(preceding[left])
    return len(stops)


def kept_messages(messages: list[dict[str, Any]], prompt: str, token_limit: float) -> list[dict[str, Any]]:
    """The newest messages the app keeps: each while prompt + kept + it + the reply reserve <= tokenLimit.

    Raises TokenizerOverflow where the app's tokenizer would throw on a message it counts.
    """
    texts = [prompt, *(str(message.get("content", "")) for message in messages)]
    sizes = [len(text.encode("utf-8", "surrogatepass")) + 2 for text in texts]
    if sum(sizes) + REPLY_RESERVE <= token_limit and max(sizes) < OVERFLOWING_PIECE:
        return messages  # no token is shorter than a byte: all of it fits, whatever its words
    used = count_tokens(prompt) + REPLY_RESERVE
    kept = 0
    for message in reversed(messages):
        content = str(message.get("content", ""))
        if len(content) >= OVERFLOWING_PIECE and any(
                len(piece.encode("utf-8", "surrogatepass")) >= OVERFLOWING_PIECE for piece in _PIECE.findall(content)):
            raise TokenizerOverflow(f"a piece of {OVERFLOWING_PIECE} bytes or more")
        if used + len(content.encode("utf-8", "surrogatepass")) // LONGEST_TOKEN > token_limit:
            break  # too long whatever its words: no token is longer than 128 bytes
        tokens = count_tokens(content)
        if used + tokens > token_limit:
            break
        used += tokens
        kept += 1
    return messages[len(messages) - kept:]


def upstream_request(body: dict[str, Any]) -> dict[str, Any]:
    """What the app forwards to its model upstream: an empty prompt becomes its default system prompt, a
    null temperature its default, and the messages are trimmed to the model's tokenLimit, newest first."""
    sent = body.get("prompt")
    prompt = sent if isinstance(sent, str) and sent else APP_SYSTEM_PROMPT
    temperature = body.get("temperature")
    messages = body["messages"]
    limit = body["model"].get("tokenLimit")
    if isinstance(limit, (int, float)) and not isinstance(limit, bool):
        # The app counts the default prompt when none was sent, as it forwards that one.
        messages = kept_messages(messages, prompt, limit)
    # else: the app's comparisons with an undefined limit are all false, and it keeps every message
    return {"prompt": prompt, "messages": messages, "max_tokens": UPSTREAM_MAX_TOKENS,
            "temperature": APP_TEMPERATURE if temperature is None else temperature}
