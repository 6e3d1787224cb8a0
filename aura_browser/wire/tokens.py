"""How many tokens OpenChat UI counts, estimated without its tokenizer, and what its trimming will keep.

The app trims a conversation before it forwards it: walking from the newest message, it keeps each one
while prompt + kept + message + 768 <= model.tokenLimit, counting with the Llama 3 tokenizer (npm
`llama3-tokenizer-js`, whose `encode` adds a begin and an end token to every text). A message that does not
fit is dropped without a word, the newest one too, and the reply is then about nothing.

`estimate_tokens` is a deliberate over-count: the Llama 3 vocabulary is not shipped here, so each piece the
tokenizer's own pre-split would make is costed at what a rare piece of its kind costs, plus 10%, and never
more than the text's UTF-8 length (a byte-level BPE never makes more tokens than bytes). English prose is
over-counted by about 1.5x to 2x, CJK and other scripts by up to 4x to 6x; random letters, hex and base64
by about 10%. tests/test_tokens.py measures it against the real tokenizer. Over-counting means a
warning (or a refusal) a little early, never a question the app silently drops.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import InvalidRequest

# What the app keeps free for the reply when it trims (its upstream is always asked for 1000 tokens).
REPLY_RESERVE = 768
# encode() adds <|begin_of_text|> and <|end_of_text|> to each text the app counts.
MARKERS_PER_TEXT = 2
MARGIN = 1.1

# The Llama 3 pre-tokenizer's split, with Python's classes: letters [^\W\d_], digits \d.
_PIECE = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)"
    r"|(?:[^\r\n\w]|_)?[^\W\d_]+"
    r"|\d{1,3}"
    r"| ?(?:[^\s\w]|_)+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
    r"|.",
    re.S,
)
_ASCII_WORD = re.compile(r"(?:[^\r\n\w]|_)?([A-Za-z]+)")
_VOWELS = frozenset("aeiouyAEIOUY")


# Texts short enough to remember their estimate: a system prompt and a conversation's history are sent again
# with every request, and estimating them again is most of the work an ask does before it sends.
REMEMBERED_LENGTH = 4096


def estimate_tokens(text: str) -> int:
    """At least as many tokens as the app's Llama 3 tokenizer counts for `text` (markers included)."""
    return _remembered_estimate(text) if len(text) <= REMEMBERED_LENGTH else _estimate(text)


def _estimate(text: str) -> int:
    size = len(text.encode("utf-8", "surrogatepass"))
    pieces = sum(_piece_cost(piece) for piece in _PIECE.findall(text))
    return min(size, math.ceil(MARGIN * pieces)) + MARKERS_PER_TEXT


_remembered_estimate = functools.lru_cache(maxsize=512)(_estimate)  # at most 512 x 4096 characters held


def _piece_cost(piece: str) -> float:
    if not piece.isascii():
        return sum(_char_cost(char) for char in piece)
    word = _ASCII_WORD.fullmatch(piece)
    if word is not None:
        prefix = 1 if len(piece) > len(word.group(1)) and piece[0] != " " else 0
        return _word_cost(word.group(1)) + prefix
    if piece.isspace():
        return 1 + len(piece) // 16  # runs of spaces and of newlines have tokens of their own
    if piece.isdigit():
        return 1  # at most three digits
    symbols = piece.strip(" ")
    if len(set(symbols)) == 1:
        return 1 + len(piece) // 4
    return len(symbols) if len(piece) < 3 else 0.75 * len(piece)


def _word_cost(word: str) -> float:
    length = len(word)
    if length <= 2:
        return 1
    if len(set(word.lower())) <= 2:
        return 1 + length // 4
    vowels = sum(char in _VOWELS for char in word)
    one_case = word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())
    if one_case and length <= 24 and vowels / length >= 0.3:
        return 1 + (length - 1) // 6  # looks like a word of some language: whole, or a few sub-words
    return math.ceil(length / 1.5)  # random letters: identifiers, keys, base64


def _char_cost(char: str) -> float:
    if char.isascii():
        return 0.5
    code = ord(char)
    size = len(char.encode("utf-8", "surrogatepass"))
    if size == 3 and 0x2000 <= code <= 0x206F:
        return 1  # general punctuation (’ “ — …) is one token
    if size == 3 and (0x3000 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7A3):
        return 2.5  # CJK and Hangul: the vocabulary has many, rare ones take two or three tokens
    return {2: 1.1, 3: 3.0}.get(size, 4.0)


@dataclass(frozen=True)
class Fit:
    """What the app's trimming keeps of one request body, by our estimate."""

    token_limit: int
    prompt_tokens: int
    used_tokens: int  # prompt + kept messages + the reply reserve
    kept: int  # newest messages kept
    dropped: int  # older messages the app would drop


def plan_trimming(body: Mapping[str, Any], default_prompt: str) -> Fit:
    """Walk the body's messages as the app does, newest first, and say what it would keep."""
    token_limit = int(body["model"]["tokenLimit"])
    messages = body["messages"]
    prompt_tokens = estimate_tokens(body.get("prompt") or default_prompt)
    used = prompt_tokens + REPLY_RESERVE
    kept = 0
    for message in reversed(messages):
        tokens = estimate_tokens(message["content"])
        if used + tokens > token_limit:
            break
        used += tokens
        kept += 1
    return Fit(token_limit, prompt_tokens, used, kept, len(messages) - kept)


def check_fits(body: Mapping[str, Any], default_prompt: str) -> Fit:
    """The trimming plan; raises InvalidRequest when the app would drop the newest user message."""
    fit = plan_trimming(body, default_prompt)
    messages = body["messages"]
    newest_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=-1)
    needed = len(messages) - newest_user
    if newest_user >= 0 and fit.kept < needed:
        question = sum(estimate_tokens(m["content"]) for m in messages[newest_user:])
        size = fit.prompt_tokens + question + REPLY_RESERVE
        raise InvalidRequest(
            f"the question does not fit the app's tokenLimit {fit.token_limit} (max_tokens, --max-tokens): about {size} tokens "
            f"(question ~{question}, system prompt ~{fit.prompt_tokens}, {REPLY_RESERVE} kept for the reply); "
            "the app would drop it and answer nothing"
        )
    return fit
