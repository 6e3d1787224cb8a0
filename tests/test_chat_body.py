"""The /api/chat request body, exactly as OpenChat UI's page builds it."""

import pytest

from aura_browser.errors import InvalidRequest
from aura_browser.wire.api import as_messages, build_body


def test_system_messages_become_the_prompt_and_leave_the_messages():
    body = build_body(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "system", "content": "Answer in French."},
            {"role": "user", "content": "How are you?"},
        ]
    )
    assert body["prompt"] == "Be brief.\nAnswer in French."
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert [m["content"] for m in body["messages"]] == ["Hi", "Hello", "How are you?"]


def test_seed_defaults_and_the_model_object():
    body = build_body(as_messages("Hello"))
    assert body == {
        "model": {"id": "openchat_3.6", "name": "OpenChat 3.6 (latest)", "maxLength": 24576, "tokenLimit": 8192},
        "messages": [{"role": "user", "content": "Hello"}],
        "key": "",
        "prompt": "",
        "temperature": 0.5,
    }


def test_max_tokens_is_sent_as_token_limit_and_the_key_is_passed():
    body = build_body(as_messages("Hi", system="S"), max_tokens=100, temperature=0.2, key="sk-x")
    assert body["model"]["tokenLimit"] == 100
    assert body["temperature"] == 0.2
    assert body["key"] == "sk-x"
    assert body["prompt"] == "S"


@pytest.mark.parametrize(
    "messages, options, complaint",
    [
        ([{"role": "user", "content": "  "}], {}, "empty"),
        ([{"role": "system", "content": "only a system prompt"}], {}, "no user message"),
        ([{"role": "tool", "content": "x"}], {}, "role 'tool'"),
        ([{"role": "user", "content": 5}], {}, "must be a string"),
        (["not a mapping"], {}, "not a mapping"),
        ([{"role": "user", "content": "Hi"}], {"temperature": 2.5}, "outside [0, 2]"),
        ([{"role": "user", "content": "Hi"}], {"temperature": -0.1}, "outside [0, 2]"),
        ([{"role": "user", "content": "Hi"}], {"max_tokens": 0}, "positive"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(messages, options, complaint):
    with pytest.raises(InvalidRequest, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        build_body(messages, **options)
