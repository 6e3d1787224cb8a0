"""Misuse of the Python API, `chat` and the replica: a clear error, and the rest keeps working."""

import asyncio
import json
import os
import stat
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from aura_browser import AuraClient
from aura_browser.errors import AuraError, WrongEventLoop

from tests.support.cli import assert_one_line_error, err, out, run_cli
from tests.support.replies import answer


@pytest.fixture
def env(gateless_site, profile_dir):
    return {"AURA_PROFILE_DIR": str(profile_dir), "AURA_BASE_URL": gateless_site.url}


def test_a_client_used_from_another_event_loop_or_thread_raises_wrong_event_loop(gateless_site, profile_dir):
    client = AuraClient(gateless_site.url, profile_dir=profile_dir)
    with asyncio.Runner() as own:
        assert own.run(client.ask("one")) == answer("one")

        with pytest.raises(WrongEventLoop, match="bound to the event loop"):
            asyncio.run(client.ask("two"))

        caught: list[BaseException] = []

        def in_another_thread() -> None:
            try:
                asyncio.run(client.ask("three"))
            except BaseException as exc:  # noqa: BLE001 - the test looks at whatever it was
                caught.append(exc)

        thread = threading.Thread(target=in_another_thread)
        thread.start()
        thread.join(60)
        assert len(caught) == 1 and isinstance(caught[0], WrongEventLoop) and isinstance(caught[0], AuraError)
        with pytest.raises(WrongEventLoop):
            asyncio.run(client.close())  # its HTTP session can only be closed on its own loop

        assert own.run(client.ask("four")) == answer("four")  # still fine where it belongs
        own.run(client.close())
    assert gateless_site.stats.chat_requests == 2


def test_chat_save_with_a_nul_in_the_name_is_an_error_line_and_saves_0600(env, tmp_path):
    saved = tmp_path / "chat.json"
    lines = f"/save a\0b\nHi\n/save {saved}\n".encode()
    result = subprocess.run([sys.executable, "-m", "aura_browser", "chat"], input=lines, capture_output=True,
                            env={**os.environ, **env}, timeout=120, umask=0)
    assert result.returncode == 0, err(result)
    assert "aura-browser: error: cannot write 'a\\x00b': a file name cannot hold a NUL character" in err(result)
    assert answer("Hi") in out(result)  # the session went on after the bad /save
    assert json.loads(saved.read_text())[0]["messages"][0] == {"role": "user", "content": "Hi"}
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600  # it holds the conversation; even under umask 000


@pytest.mark.parametrize("transport", ["direct", "page"])
def test_a_429_asking_for_longer_than_the_timeout_fails_at_once(gateless_site, env, transport):
    # 20 s is a wait aura-browser takes (<= 30 s), but not within a 10 s timeout; the next request would answer.
    gateless_site.config.update({"status": 429, "retry_after": 20, "faults_left": 1})
    result = run_cli("ask", "--timeout", "10", "--transport", transport, "Hi", env=env)
    assert_one_line_error(result, 5, "site error 429", "the site asks to wait 20s")
    assert gateless_site.stats.chat_requests == 1  # no waiting it out and asking again


@pytest.mark.parametrize("changes", [
    {"chunk_size": "x"}, {"chunk_size": 0}, {"chunk_delay": -1}, {"first_byte_delay": float("nan")},
    {"invalid_utf8": "yes"}, {"status": "429"}, {"retry_after": True}, {"reason": 5},
])
def test_the_replica_refuses_wrong_typed_knobs_with_400(gateless_site, changes):
    before = gateless_site.config.to_dict()
    request = urllib.request.Request(gateless_site.url + "/__replica__/config", data=json.dumps(changes).encode(),
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 400
    assert next(iter(changes)) in json.loads(caught.value.read())["error"]
    assert gateless_site.config.to_dict() == before
