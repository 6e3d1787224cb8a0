"""gpt4free's own client drives `aura_browser.g4f.Aura` (the real `g4f` package from PyPI) against the replica."""

from __future__ import annotations

import asyncio

import pytest
from g4f.client import AsyncClient
from g4f.cookies import get_cookies_dir, set_cookies_dir
from g4f.providers.base_provider import AsyncGeneratorProvider

from aura_browser.g4f import Aura
from aura_browser.replica import reply_text


@pytest.fixture(autouse=True)
def g4f_files_in_tmp(tmp_path):
    """gpt4free keeps cookies and usage logs in a folder of its own; keep it out of the home folder."""
    before = get_cookies_dir()
    set_cookies_dir(str(tmp_path / "g4f"))
    yield
    set_cookies_dir(before)


def test_it_is_a_gpt4free_provider():
    assert issubclass(Aura, AsyncGeneratorProvider)
    assert Aura.working and Aura.supports_stream and Aura.default_model == "openchat_3.6"
    assert "openchat_3.6" in Aura.get_models()
    assert "temperature" in Aura.get_parameters()  # gpt4free reads our signature


async def test_gpt4free_async_client_with_and_without_streaming(replica, profile_dir, monkeypatch):
    monkeypatch.setenv("AURA_BASE_URL", replica.url)
    monkeypatch.setenv("AURA_PROFILE_DIR", str(profile_dir))
    client = AsyncClient()
    messages = [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hello, how are you?"}]
    expected = reply_text(messages[1:], "Be brief")

    reply = await client.chat.completions.create(model="openchat_3.6", messages=messages, provider=Aura)

    assert reply.choices[0].message.content == expected  # the system message became the body's prompt
    assert reply.choices[0].finish_reason == "stop"
    assert reply.provider == "Aura" and reply.model == "openchat_3.6"

    replica.config.hold_after = 2
    deltas: list[str] = []
    stream = client.chat.completions.create(model="openchat_3.6", messages=messages, provider=Aura, stream=True)
    async for chunk in stream:
        if chunk.choices[0].delta.content:
            deltas.append(chunk.choices[0].delta.content)
            if len(deltas) == 1:
                # The server holds the rest of the reply: this chunk came through gpt4free while it streamed.
                assert await asyncio.to_thread(replica.stats.wait_until, lambda s: s.holding == 1, 10)
                assert replica.stats.chat_completed == 1
                replica.release()

    assert "".join(deltas) == expected
    assert replica.stats.chat_completed == 2
    assert replica.stats.clearances_issued == 1  # one login, saved in the profile, served both
