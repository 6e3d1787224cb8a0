"""The token estimate against the app's own tokenizer, and what the client does with it before sending."""

from __future__ import annotations

import base64
import json
import random
import shutil
import string
import subprocess
from pathlib import Path

import pytest

from aura_browser.errors import InvalidRequest
from aura_browser.wire.api import APP_SYSTEM_PROMPT, as_messages, build_body
from aura_browser.wire.tokens import REPLY_RESERVE, check_fits, estimate_tokens, plan_trimming

TOKENIZER = Path(__file__).parent / "node" / "node_modules" / "llama3-tokenizer-js"
ROOT = Path(__file__).resolve().parents[1]

# Reads a JSON list of texts on stdin; prints the count the app takes for each: encode(text).length.
COUNT_JS = """
import tokenizer from %s;
let data = "";
process.stdin.on("data", (d) => { data += d; });
process.stdin.on("end", () => {
  console.log(JSON.stringify(JSON.parse(data).map((t) => tokenizer.encode(t).length)));
});
"""


def llama3_counts(texts: list[str]) -> list[int]:
    node = shutil.which("node")
    if node is None or not TOKENIZER.is_dir():
        pytest.skip("Node.js or tests/node/node_modules/llama3-tokenizer-js is missing (scripts/setup.sh installs them)")
    bundle = json.loads((TOKENIZER / "package.json").read_text())["main"]
    script = COUNT_JS % json.dumps(str(TOKENIZER / bundle))
    done = subprocess.run([node, "--input-type=module", "-e", script], input=json.dumps(texts).encode(),
                          capture_output=True, timeout=120, check=True)
    return json.loads(done.stdout)


def varied_texts() -> list[str]:
    rng = random.Random(7)
    letters = lambda alphabet, n: "".join(rng.choice(alphabet) for _ in range(n))  # noqa: E731
    return [
        "What is 2+2?",
        "The quick brown fox jumps over the lazy dog. " * 40,
        "Internationalization, antidisestablishmentarianism and pneumonoultramicroscopicsilicovolcanoconiosis.",
        (ROOT / "aura_browser" / "client.py").read_text(),
        (ROOT / "aura_browser" / "replica" / "page.py").read_text(),
        json.dumps({"a": [1, 2, 3], "nested": {"key": "value", "pi": 3.14159}}, indent=2) * 10,
        "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';\n" * 30,
        "\t\tif (x) {\n\t\t\treturn y_value;\n\t\t}\n" * 50,
        "人工智能是计算机科学的一个分支，它企图了解智能的实质，并生产出一种新的能以人类智能相似的方式做出反应的智能机器。" * 5,
        "日本語のテキストです。カタカナとひらがなと漢字が混ざっています。" * 5,
        "한국어 텍스트입니다. 안녕하세요, 반갑습니다." * 5,
        "Привет, как дела? Съешь же ещё этих мягких французских булок." * 5,
        "مرحبا كيف حالك؟ هذا نص باللغة العربية." * 5,
        "ภาษาไทยเป็นภาษาที่สวยงาม" * 20,
        "🌍🚀😀👨‍👩‍👧‍👦🏳️‍🌈👍🏽❤️🔥✨🎉" * 5,
        "emoji in text 😀 like this 🎉 and that 🚀!" * 5,
        "mixed 中文 and English 和 日本語 with 123 numbers 😀 " * 30,
        base64.b64encode(rng.randbytes(3000)).decode(),
        rng.randbytes(2000).hex(),
        letters(string.ascii_letters, 3000),
        letters(string.ascii_lowercase + " ", 4000),
        letters(string.printable, 3000),
        letters(string.punctuation, 2000),
        "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(800)),
        "".join(chr(rng.randint(0xAC00, 0xD7A3)) for _ in range(800)),
        "".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(800)),
        "".join(chr(rng.randint(0x1F300, 0x1FAFF)) for _ in range(400)),
        "ᚠᛇᚻ᛫ᛒᛦᚦ ᚠᚱᚩᚠᚢᚱ ᚹᛁᚦ ᚦᚪ ᚹᛖᛥᚫ" * 20,
        "a" * 3000, " " * 3000, "\n" * 300, "1" * 999, "x1y2z3" * 300, "",
        APP_SYSTEM_PROMPT,
    ]


def test_the_estimate_never_undercounts_the_apps_llama3_tokenizer():
    texts = varied_texts()
    true_counts = llama3_counts(texts)
    under = [(text[:30], estimate, count) for text, estimate, count in
             zip(texts, map(estimate_tokens, texts), true_counts) if estimate < count]
    assert not under, under
    # and it stays useful: English prose is not counted as if every byte were a token
    prose = texts[1]
    assert estimate_tokens(prose) < len(prose.encode()) / 2


def test_a_question_that_cannot_fit_fails_before_sending_naming_the_limit_and_size():
    body = build_body(as_messages("What is 2+2?"), max_tokens=500)
    with pytest.raises(InvalidRequest, match=r"tokenLimit 500 .*about \d+ tokens"):
        check_fits(body, APP_SYSTEM_PROMPT)
    big = build_body(as_messages("lorem ipsum dolor " * 2500), max_tokens=8192)  # a 45 KB prompt
    with pytest.raises(InvalidRequest, match="tokenLimit 8192"):
        check_fits(big, APP_SYSTEM_PROMPT)
    assert check_fits(build_body(as_messages("What is 2+2?")), APP_SYSTEM_PROMPT).dropped == 0


def test_older_messages_that_do_not_fit_are_counted_as_dropped_newest_kept():
    old = "word " * 3000
    messages = [{"role": "user", "content": old}, {"role": "assistant", "content": old},
                {"role": "user", "content": "and now?"}]
    fit = check_fits(build_body(messages), APP_SYSTEM_PROMPT)
    assert fit.kept >= 1 and fit.dropped >= 1 and fit.kept + fit.dropped == 3
    assert fit.used_tokens <= 8192
    # the app's empty prompt is its default system prompt, and that is what it counts
    assert plan_trimming(build_body(as_messages("hi")), APP_SYSTEM_PROMPT).prompt_tokens == \
        estimate_tokens(APP_SYSTEM_PROMPT)
    assert plan_trimming(build_body(as_messages("hi")), APP_SYSTEM_PROMPT).used_tokens == \
        estimate_tokens(APP_SYSTEM_PROMPT) + estimate_tokens("hi") + REPLY_RESERVE


def test_ask_refuses_a_question_the_app_would_drop_without_sending_it(make_replica, profile_dir):
    from tests.support.cli import assert_one_line_error, run_cli

    replica = make_replica()
    env = {"AURA_PROFILE_DIR": str(profile_dir)}
    result = run_cli("ask", "--base-url", replica.url, "--max-tokens", "500", "What is 2+2?", env=env)
    line = assert_one_line_error(result, 2, "tokenLimit 500", "about ")
    assert "tokens" in line
    big = run_cli("ask", "--base-url", replica.url, "-", input=("lorem ipsum dolor " * 2500).encode(), env=env)
    assert_one_line_error(big, 2, "tokenLimit 8192")
    assert replica.stats.chat_requests == 0 and not profile_dir.exists()  # refused before any login or request


def test_chat_warns_when_the_app_will_leave_out_older_messages(make_replica, profile_dir):
    from tests.support.cli import run_cli

    replica = make_replica()
    env = {"AURA_PROFILE_DIR": str(profile_dir), "AURA_LOGIN_TIMEOUT": "30"}
    long_line = "tell me about " + "word " * 1200  # fits alone; with the echoing reply it no longer does
    result = run_cli("chat", "--base-url", replica.url, input=f"{long_line}\nand now?\n".encode(), env=env)
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert stderr.count("leave out the") == 1 and "oldest message(s)" in stderr, stderr
    assert replica.stats.chat_requests == 2


async def test_last_stats_says_how_many_messages_the_app_will_leave_out(make_replica, make_client):
    replica = make_replica()
    client = make_client(replica.url)
    old = "word " * 3000
    history = [{"role": "user", "content": old}, {"role": "assistant", "content": old},
               {"role": "user", "content": "and now?"}]
    await client.ask(history)
    assert client.last_stats.trimmed_messages == 2
    assert client.last_stats.estimated_tokens is not None and client.last_stats.estimated_tokens <= 8192
    await client.ask("short")
    assert client.last_stats.trimmed_messages == 0
