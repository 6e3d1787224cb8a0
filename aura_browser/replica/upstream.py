"""What the app does to an accepted /api/chat body before its model upstream sees it.

These are the replica's own copies of the app's rules, written from what was observed on the real app,
not imported from the client: one wrong constant or count must not pass on both sides at once.
"""

from __future__ import annotations

import math
import re
from typing import Any

APP_SYSTEM_PROMPT = (
    "You are ChatGPT, a large language model trained by OpenAI. Follow the user's instructions carefully. "
    "Respond using markdown."
)
APP_TEMPERATURE = 1
UPSTREAM_MAX_TOKENS = 1000  # what the app asks its upstream for, whatever the request says
REPLY_RESERVE = 768  # what the app's trimming keeps free for the reply

# Roughly the Llama 3 pre-tokenizer's split: a contraction, a word with its leading space, up to three digits,
# a run of punctuation, a run of spaces or newlines.
_PIECE = re.compile(r"'(?:s|t|re|ve|m|ll|d)| ?[^\W\d_]+|\d{1,3}| ?[^\s\w]+|\s+|.", re.S | re.I)


def count_tokens(text: str) -> int:
    """The replica's stand-in for the app's Llama 3 count: one token per piece of the pre-tokenizer's
    split, a long piece one more per 6 bytes, plus the begin and end markers `encode` adds.

    Close to the real count for prose, rougher elsewhere; the client's own estimate (aura_browser.wire.tokens)
    is a separate, deliberately higher one.
    """
    pieces = _PIECE.findall(text)
    return sum(max(1, math.ceil(len(piece.encode("utf-8", "surrogatepass")) / 6)) for piece in pieces) + 2


def kept_messages(messages: list[dict[str, Any]], prompt: str, token_limit: float) -> list[dict[str, Any]]:
    """The newest messages the app keeps: each while prompt + kept + it + the reply reserve <= tokenLimit."""
    used = count_tokens(prompt) + REPLY_RESERVE
    kept = 0
    for message in reversed(messages):
        tokens = count_tokens(str(message.get("content", "")))
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
