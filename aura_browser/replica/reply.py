"""What /api/chat answers: the deterministic reply text, its bytes, and how they are cut into chunks."""

from __future__ import annotations

import zlib
from itertools import pairwise
from typing import Any, Callable, NamedTuple

INVALID_UTF8 = b"\xff\xfe"

# Filler for `reply_bytes`; it has 2-, 3- and 4-byte characters so long replies still exercise decoding.
_FILLER = " Lorem ipsum dolor sit amet, ünïcödé 中文字符 🌍🚀."


def reply_text(messages: list[dict[str, Any]], prompt: str, reply_bytes: int | None = None) -> str:
    """The exact deterministic reply for a request body's messages and prompt."""
    said = next((str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), "")
    text = f"Hello! You said: {said}. Ünïcödé check: naïve café, 中文字符, emoji 🌍🚀."
    if prompt:
        text = f"[system: {prompt}] {text}"
    if reply_bytes is None:
        return text
    return _fit(text, reply_bytes)


def _fit(text: str, size: int) -> str:
    """Cut or pad `text` to exactly `size` UTF-8 bytes, never splitting a character."""
    filler_size = len(_FILLER.encode("utf-8"))
    room = size - len(text.encode("utf-8"))
    if room > 0:
        text += _FILLER * (room // filler_size) + _FILLER
    out: list[str] = []
    used = 0
    for char in text:
        n = len(char.encode("utf-8"))
        if used + n > size:
            break
        out.append(char)
        used += n
    return "".join(out) + "." * (size - used)


def reply_body(text: str, invalid_utf8: bool = False) -> bytes:
    """The reply's bytes; with `invalid_utf8`, an invalid sequence sits at the character border nearest the middle."""
    body = text.encode("utf-8")
    if not invalid_utf8:
        return body
    middle = _char_start(body, len(body) // 2)
    return body[:middle] + INVALID_UTF8 + body[middle:]


def chunk_body(body: bytes, chunk_size: int, split_multibyte: bool = True) -> list[bytes]:
    """Cut `body` into chunks of `chunk_size` bytes.

    With `split_multibyte`, there is also a border after the first byte of every multi-byte character, so a
    client that decodes chunk by chunk breaks. Without it, borders are moved back to character starts
    (so a chunk can be a few bytes shorter or longer).
    """
    size = max(1, int(chunk_size))
    borders = set(range(size, len(body), size))
    if split_multibyte:
        borders.update(i + 1 for i, byte in enumerate(body) if byte >= 0xC0 and i + 1 < len(body))
    else:
        borders = {_char_start(body, b) for b in borders}
    borders.discard(0)
    cuts = [0, *sorted(borders), len(body)]
    return [body[a:b] for a, b in pairwise(cuts) if b > a]


def decoded_per_packet(packets: list[bytes]) -> list[bytes]:
    """What the app forwards when it decodes each upstream packet on its own: a character split
    across packets arrives as U+FFFD characters."""
    return [packet.decode("utf-8", "replace").encode("utf-8") for packet in packets]


def _char_start(body: bytes, index: int) -> int:
    """Move `index` back to the start of the UTF-8 character it falls in."""
    while 0 < index < len(body) and 0x80 <= body[index] < 0xC0:
        index -= 1
    return index


def filler(size: int) -> bytes:
    """`size` bytes (at least) of filler text, whole characters: what an endless reply goes on sending."""
    block = _FILLER.encode("utf-8")
    return block * max(1, -(-size // len(block)))


class Encoder(NamedTuple):
    """A Content-Encoding applied as the reply streams: each chunk compressed and flushed on its own."""

    chunk: Callable[[bytes], bytes]
    end: Callable[[], bytes]


def encoder(name: str | None) -> Encoder:
    """The encoder of a Content-Encoding ("gzip", "br", "zstd"); None: the bytes as they are."""
    if name == "gzip":
        gzip = zlib.compressobj(wbits=31)
        return Encoder(lambda data: gzip.compress(data) + gzip.flush(zlib.Z_SYNC_FLUSH), gzip.flush)
    if name == "br":
        import brotli

        br = brotli.Compressor()
        return Encoder(lambda data: br.process(data) + br.flush(), br.finish)
    if name == "zstd":
        try:
            from compression import zstd  # type: ignore[import-not-found]
        except ImportError:
            from backports import zstd

        compressor = zstd.ZstdCompressor()
        return Encoder(lambda data: compressor.compress(data, zstd.ZstdCompressor.FLUSH_BLOCK), compressor.flush)
    return Encoder(lambda data: data, lambda: b"")
