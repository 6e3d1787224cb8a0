"""The token estimate against the app's own tokenizer, and what the client does with it before sending."""

from __future__ import annotations

import base64
import json
import random
import re
import shutil
import string
import subprocess
from pathlib import Path

import pytest

from aura_browser.errors import InvalidRequest
from aura_browser.replica import upstream as replica_upstream
from aura_browser.wire import tokens
from aura_browser.wire.api import APP_SYSTEM_PROMPT, as_messages, build_body
from aura_browser.wire.tokens import REPLY_RESERVE, check_fits, estimate_tokens, plan_trimming, token_range

from tests.support.token_corpus import corpus, english_question

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


_COUNTED: dict[str, int] = {}  # the real tokenizer's counts, kept for the session: one node run serves the tests


def llama3_counts(texts: list[str]) -> list[int]:
    node = shutil.which("node")
    if node is None or not TOKENIZER.is_dir():
        pytest.skip("Node.js or tests/node/node_modules/llama3-tokenizer-js is missing (scripts/setup.sh installs them)")
    missing = list(dict.fromkeys(text for text in texts if text not in _COUNTED))
    if missing:
        bundle = json.loads((TOKENIZER / "package.json").read_text())["main"]
        script = COUNT_JS % json.dumps(str(TOKENIZER / bundle))
        done = subprocess.run([node, "--input-type=module", "-e", script], input=json.dumps(missing).encode(),
                              capture_output=True, timeout=120, check=True)
        _COUNTED.update(zip(missing, json.loads(done.stdout)))
    return [_COUNTED[text] for text in texts]


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


def test_the_estimate_is_within_ten_percent_above_llama3_on_the_corpus_and_its_range_holds_the_count():
    texts = corpus()
    true_counts = dict(zip(texts, llama3_counts(list(texts.values()))))
    wrong = {}
    for name, text in texts.items():
        estimate, spread, count = estimate_tokens(text), token_range(text), true_counts[name]
        if not (count <= estimate <= 1.1 * count and spread.low <= count <= spread.high):
            wrong[name] = (count, estimate, str(spread))
    assert not wrong, wrong


def test_the_replica_counts_the_corpus_as_the_app_does():
    # Both directions: a replica that counts fewer forwards what the app drops, one that counts more drops
    # what the app forwards.
    texts = corpus()
    true_counts = dict(zip(texts, llama3_counts(list(texts.values()))))
    wrong = {name: (true_counts[name], replica_upstream.count_tokens(text)) for name, text in texts.items()
             if not true_counts[name] <= replica_upstream.count_tokens(text) <= 1.1 * true_counts[name]}
    assert not wrong, wrong


def test_the_replica_drops_twelve_thousand_cjk_characters_and_forwards_fifty_thousand_as():
    cjk = (corpus()["chinese"] * 20)[:12000]
    runs = "a" * 50000
    assert llama3_counts([cjk, runs]) == [9086, 6252]  # what the app counts: over and under 8192 - 768 - prompt
    body = {"model": {"id": "openchat_3.6", "tokenLimit": 8192}, "prompt": "", "temperature": None}
    dropped = replica_upstream.upstream_request({**body, "messages": [{"role": "user", "content": cjk}]})
    forwarded = replica_upstream.upstream_request({**body, "messages": [{"role": "user", "content": runs}]})
    assert dropped["messages"] == [] and forwarded["messages"] == [{"role": "user", "content": runs}]


def test_a_4594_token_english_question_fits_and_a_short_one_needs_no_vocabulary():
    question = english_question()
    assert llama3_counts([question]) == [4594]
    fit = check_fits(build_body(as_messages(question)), APP_SYSTEM_PROMPT)
    assert fit.dropped == 0 and fit.used_tokens < 8192
    tokens._ranks.cache_clear()
    check_fits(build_body(as_messages("What is 2+2? " * 200)), APP_SYSTEM_PROMPT)  # 2,600 bytes: fits unread
    assert tokens._ranks.cache_info().currsize == 0


def test_near_the_limit_the_refusal_gives_the_estimates_range_and_send_anyway_sends():
    question = english_question()
    count = tokens.count_tokens(question)
    prompt = tokens.count_tokens(APP_SYSTEM_PROMPT)
    limit = count + prompt + REPLY_RESERVE + 20  # the app keeps it: its count is 20 under the limit
    body = build_body(as_messages(question), max_tokens=limit)
    with pytest.raises(InvalidRequest, match=rf"may not fit the app's tokenLimit {limit} .*: \d+ to \d+ tokens "
                                             r".*--send-anyway") as refused:
        check_fits(body, APP_SYSTEM_PROMPT)
    low, high = map(int, re.search(r"(\d+) to (\d+) tokens", str(refused.value)).groups())
    assert low <= limit - 20 <= high
    assert check_fits(body, APP_SYSTEM_PROMPT, send_anyway=True).token_limit == limit  # planned, not refused
    # far over the limit the answer is certain, and says how to send anyway all the same
    with pytest.raises(InvalidRequest, match=r"does not fit .* would drop it .*--send-anyway"):
        check_fits(build_body(as_messages(question), max_tokens=3000), APP_SYSTEM_PROMPT)


def test_a_question_that_cannot_fit_fails_before_sending_naming_the_limit_and_size():
    body = build_body(as_messages("What is 2+2?"), max_tokens=500)
    with pytest.raises(InvalidRequest, match=r"tokenLimit 500 .*about \d+ tokens"):
        check_fits(body, APP_SYSTEM_PROMPT)
    big = build_body(as_messages("lorem ipsum dolor " * 2500), max_tokens=8192)  # a 45 KB prompt
    with pytest.raises(InvalidRequest, match="tokenLimit 8192"):
        check_fits(big, APP_SYSTEM_PROMPT)
    assert check_fits(build_body(as_messages("What is 2+2?")), APP_SYSTEM_PROMPT).dropped == 0


def test_older_messages_that_do_not_fit_are_counted_as_dropped_newest_kept():
    old = "word " * 7500  # 7,502 tokens: with the 797 of prompt and reserve, no room for another
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
    long_line = "tell me about " + "word " * 3900  # fits alone; with the echoing reply it no longer does
    result = run_cli("chat", "--base-url", replica.url, input=f"{long_line}\nand now?\n".encode(), env=env)
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert stderr.count("leave out the") == 1 and "oldest message(s)" in stderr, stderr
    assert replica.stats.chat_requests == 2


async def test_last_stats_says_how_many_messages_the_app_will_leave_out(make_replica, make_client):
    replica = make_replica()
    client = make_client(replica.url)
    old = "word " * 7500  # 7,502 tokens: with the 797 of prompt and reserve, no room for another
    history = [{"role": "user", "content": old}, {"role": "assistant", "content": old},
               {"role": "user", "content": "and now?"}]
    await client.ask(history)
    assert client.last_stats.trimmed_messages == 2
    assert client.last_stats.estimated_tokens is not None and client.last_stats.estimated_tokens <= 8192
    await client.ask("short")
    assert client.last_stats.trimmed_messages == 0


def test_ask_sends_a_4594_token_english_question_and_the_replica_forwards_it(make_replica, profile_dir):
    from tests.support.cli import out, run_cli

    replica = make_replica()
    question = english_question()
    result = run_cli("ask", "--base-url", replica.url, "-", input=question.encode(),
                     env={"AURA_PROFILE_DIR": str(profile_dir)})
    assert result.returncode == 0, result.stderr.decode()
    assert replica.stats.chat_requests == 1
    assert replica.stats.last_upstream is not None
    assert replica.stats.last_upstream["messages"] == [{"role": "user", "content": question}]  # kept, not dropped
    assert question[:40] in out(result)


def test_send_anyway_sends_what_the_estimate_refuses_from_the_cli_and_the_environment(make_replica, profile_dir):
    from tests.support.cli import assert_one_line_error, run_cli

    replica = make_replica()
    question = english_question()
    limit = str(tokens.count_tokens(question) + tokens.count_tokens(APP_SYSTEM_PROMPT) + REPLY_RESERVE + 20)
    env = {"AURA_PROFILE_DIR": str(profile_dir)}
    refused = run_cli("ask", "--base-url", replica.url, "--max-tokens", limit, "-", input=question.encode(), env=env)
    assert_one_line_error(refused, 2, f"may not fit the app's tokenLimit {limit}", " to ", "--send-anyway")
    assert replica.stats.chat_requests == 0
    sent = run_cli("ask", "--base-url", replica.url, "--max-tokens", limit, "--send-anyway", "-",
                   input=question.encode(), env=env)
    assert sent.returncode == 0, sent.stderr.decode()
    from_env = run_cli("ask", "--base-url", replica.url, "--max-tokens", limit, "-", input=question.encode(),
                       env={**env, "AURA_SEND_ANYWAY": "1"})
    assert from_env.returncode == 0, from_env.stderr.decode()
    assert replica.stats.chat_requests == 2
    # the replica counts as the app does: 20 tokens under the limit, the question is forwarded
    assert replica.stats.last_upstream is not None and replica.stats.last_upstream["messages"]
