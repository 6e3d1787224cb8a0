"""How many tokens OpenChat UI counts, and what its trimming will keep.

The app trims a conversation before it forwards it: walking from the newest message, it keeps each one
while prompt + kept + message + 768 <= model.tokenLimit, counting with the Llama 3 tokenizer (npm
`llama3-tokenizer-js`, whose `encode` adds a begin and an end token to every text). A message that does not
fit is dropped without a word, the newest one too, and the reply is then about nothing.

`count_tokens` is that count, made here: the Llama 3 pre-tokenizer's split (with Python's character classes)
and byte-pair merges by rank over the tokenizer's own vocabulary (`aura_browser/llama3-ranks.xz`, 0.5 MB,
read the first time a text is long enough to matter). Python's classes differ from the tokenizer's Unicode
properties at a few characters (superscript digits, for one), so `estimate_tokens` adds a small margin on top:
the estimate's range is [count, estimate], and tests/test_tokens.py measures both against the real tokenizer
on a corpus of prose, code, JSON, CJK, emoji, base64, digits and runs of one character. A text of fewer UTF-8
bytes than the room left is known to fit without counting (a token is at least one byte), so a short question
never loads the vocabulary.
"""

from __future__ import annotations

import functools
import heapq
import lzma
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple, Sequence

from ..errors import InvalidRequest

# What the app keeps free for the reply when it trims (its upstream is always asked for 1000 tokens).
REPLY_RESERVE = 768
# encode() adds <|begin_of_text|> and <|end_of_text|> to each text the app counts.
MARKERS_PER_TEXT = 2
# How far the count may stray from the app's, either way (see the module's docstring).
MARGIN = 0.03
LONGEST_TOKEN = 128  # bytes: so a text has at least a 128th of its bytes in tokens
RANKS_FILE = "llama3-ranks.xz"  # in the package's folder


# The Llama 3 pre-tokenizer's split, with Python's classes: a letter is [^\W\d_], a number \d. Compiled when a
# text is first counted (a short question never is), so a process that asks starts without it.
@functools.cache
def _pieces() -> re.Pattern[str]:
    return re.compile(
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)"
        r"|(?:[^\r\n\w]|_)?[^\W\d_]+"
        r"|\d{1,3}"
        r"| ?(?:[^\s\w]|_)+[\r\n]*"
        r"|\s*[\r\n]+|\s+(?!\S)|\s+"
        r"|.",
        re.S,
    )


@dataclass(frozen=True)
class TokenRange:
    """What the app's tokenizer counts for some text, by our count: at least `low`, at most `high`."""

    low: int
    high: int

    def __add__(self, other: TokenRange) -> TokenRange:
        return TokenRange(self.low + other.low, self.high + other.high)

    def __str__(self) -> str:
        return str(self.high) if self.low == self.high else f"{self.low} to {self.high}"


# Texts short enough to remember their count: a system prompt and a conversation's history are sent again
# with every request, and counting them again is most of the work an ask does before it sends.
REMEMBERED_LENGTH = 4096


def count_tokens(text: str) -> int:
    """The app's count of `text` (`encode(text).length`, its two markers included), made here."""
    return _remembered_count(text) if len(text) <= REMEMBERED_LENGTH else _count(text)


def _count(text: str) -> int:
    ranks = _ranks()
    return sum(_piece_tokens(piece, ranks) for piece in _pieces().findall(text)) + MARKERS_PER_TEXT


_remembered_count = functools.lru_cache(maxsize=512)(_count)  # at most 512 x 4096 characters held


def token_range(text: str, give_up_above: int | None = None) -> TokenRange:
    """The count with its margin either way: the app's count lies within it.

    A text that has more than `give_up_above` tokens whatever its words (by its size alone) is not counted:
    its range is then what its size says, which is all a caller comparing it with a limit needs.
    """
    if give_up_above is not None:
        size = bytes_bound(text)
        if size.low > give_up_above:
            return size
    count = count_tokens(text)
    return TokenRange(math.floor(count / (1 + MARGIN)), math.ceil(count * (1 + MARGIN)))


def estimate_tokens(text: str) -> int:
    """At least as many tokens as the app counts for `text`, and at most about 3% more."""
    return token_range(text).high


def bytes_bound(text: str) -> TokenRange:
    """A count known without the vocabulary: never more tokens than UTF-8 bytes, nor fewer than a 128th of them
    (plus the two markers)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    return TokenRange(-(-size // LONGEST_TOKEN) + MARKERS_PER_TEXT, size + MARKERS_PER_TEXT)


@functools.cache
def _ranks() -> dict[bytes, int]:
    packed = lzma.decompress((Path(__file__).resolve().parents[1] / RANKS_FILE).read_bytes())
    ranks: dict[bytes, int] = {}
    at = 0
    while at < len(packed):
        size = packed[at]
        ranks[packed[at + 1: at + 1 + size]] = len(ranks)
        at += 1 + size
    return ranks


def _piece_tokens(text: str, ranks: Mapping[bytes, int]) -> int:
    piece = text.encode("utf-8", "surrogatepass")
    if piece in ranks:
        return 1  # the tokenizer takes a piece its vocabulary has whole as one token, without merging
    return _merged_parts(piece, ranks)


def _merged_parts(piece: bytes, ranks: Mapping[bytes, int]) -> int:
    """Byte-pair merging by rank (the pair whose joined bytes rank lowest first, leftmost on a tie), with a heap
    and a linked list of parts, so a 50,000-byte run of one letter takes a moment, not minutes."""
    size = len(piece)
    if size < 2:
        return size
    end = list(range(1, size + 1))  # end[i]: where the part starting at i ends
    after = list(range(1, size + 1))  # the next part's start
    before = list(range(-1, size - 1))
    gone = [False] * size
    heap = [(ranks[piece[i:i + 2]], i, i + 2) for i in range(size - 1) if piece[i:i + 2] in ranks]
    heapq.heapify(heap)

    def offer(start: int) -> None:
        nxt = after[start]
        if start >= 0 and nxt < size:
            rank = ranks.get(piece[start:end[nxt]])
            if rank is not None:
                heapq.heappush(heap, (rank, start, end[nxt]))

    parts = size
    while heap:
        _, start, stop = heapq.heappop(heap)
        nxt = after[start]
        if gone[start] or nxt >= size or end[nxt] != stop:
            continue  # an offer made before one of its parts merged elsewhere
        end[start] = stop
        gone[nxt] = True
        after[start] = after[nxt]
        if after[nxt] < size:
            before[after[nxt]] = start
        parts -= 1
        offer(start)
        offer(before[start])
    return parts


class Fit(NamedTuple):
    """What the app's trimming keeps of one request body, by our count."""

    token_limit: int
    prompt_tokens: int
    used_tokens: int  # prompt + kept messages + the reply reserve (at most this many)
    kept: int  # newest messages kept
    dropped: int  # older messages the app would drop


def plan_trimming(body: Mapping[str, Any], default_prompt: str,
                  count: Callable[[str], TokenRange] = token_range) -> Fit:
    """Walk the body's messages as the app does, newest first, and say what it would keep (by `count`'s high end)."""
    token_limit = int(body["model"]["tokenLimit"])
    messages: Sequence[Mapping[str, Any]] = body["messages"]
    prompt_tokens = count(body.get("prompt") or default_prompt).high
    used = prompt_tokens + REPLY_RESERVE
    kept = 0
    for message in reversed(messages):
        tokens = count(message["content"]).high
        if used + tokens > token_limit:
            break
        used += tokens
        kept += 1
    return Fit(token_limit, prompt_tokens, used, kept, len(messages) - kept)


def _whole_fits(body: Mapping[str, Any], default_prompt: str) -> Fit | None:
    """plan_trimming by bytes_bound when every message fits (the usual case, asked before every request), added up
    at once; None when some message may not."""
    token_limit = int(body["model"]["tokenLimit"])
    messages: Sequence[Mapping[str, Any]] = body["messages"]
    prompt_tokens = len((body.get("prompt") or default_prompt).encode("utf-8", "surrogatepass")) + MARKERS_PER_TEXT
    used = prompt_tokens + REPLY_RESERVE + MARKERS_PER_TEXT * len(messages)
    for message in messages:
        used += len(message["content"].encode("utf-8", "surrogatepass"))
    return Fit(token_limit, prompt_tokens, used, len(messages), 0) if used <= token_limit else None


def check_fits(body: Mapping[str, Any], default_prompt: str, *, send_anyway: bool = False) -> Fit:
    """The trimming plan; raises InvalidRequest when the app would (or may) drop the newest user message.

    A body whose UTF-8 size fits is known to fit without counting. `send_anyway` only plans: nothing is refused.
    """
    quick = _whole_fits(body, default_prompt) or plan_trimming(body, default_prompt, bytes_bound)
    if quick.dropped == 0:
        return quick
    limit = int(body["model"]["tokenLimit"])

    def count(text: str) -> TokenRange:
        return token_range(text, give_up_above=limit)

    fit = plan_trimming(body, default_prompt, count)
    messages = body["messages"]
    newest_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=-1)
    if send_anyway or newest_user < 0 or fit.kept >= len(messages) - newest_user:
        return fit
    prompt = count(body.get("prompt") or default_prompt)
    question = sum((count(m["content"]) for m in messages[newest_user:]), TokenRange(0, 0))
    size = prompt + question + TokenRange(REPLY_RESERVE, REPLY_RESERVE)
    parts = (f"(question ~{question}, system prompt ~{prompt}, {REPLY_RESERVE} kept for the reply)")
    if size.low > fit.token_limit:
        about = f"at least {size.low}" if size.high > 2 * size.low else f"about {size.high}"
        raise InvalidRequest(
            f"the question does not fit the app's tokenLimit {fit.token_limit} (max_tokens, --max-tokens): {about} "
            f"tokens {parts}; the app would drop it and answer nothing (send_anyway=True, --send-anyway, sends it all the same)"
        )
    raise InvalidRequest(
        f"the question may not fit the app's tokenLimit {fit.token_limit} (--max-tokens): {size} tokens by the "
        f"estimate {parts}; if the app counts more than {fit.token_limit} it drops the question and answers "
        "nothing. --send-anyway sends it all the same"
    )
