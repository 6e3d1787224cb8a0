"""Each error class owns what it leads to: the CLI's exit code, doctor's problem, serve's HTTP answer and
whether `batch` stops. Every surface reads the class, so one class is the one place to change."""

import asyncio
import inspect
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from aura_browser import AuraClient
from aura_browser.cli import EXIT_CODES_HELP
from aura_browser.doctor.problems import Problem, problem_of
from aura_browser.errors import (
    AuraError,
    ClientClosed,
    FileUnusable,
    InvalidRequest,
    LoginRequired,
    ProfileBusy,
    ProfileError,
    ResponseTimeout,
    WrongEventLoop,
    exit_code_for,
)
from aura_browser.profile import ProfileStore
from aura_browser.serve.api import ERROR_TYPES, create_app, describe
from aura_browser.sync import refuse_running_loop
from aura_browser.tools.batch import BatchItem, run_batch, run_item
from aura_browser.wire.api import as_messages

from tests.support.profiles import save_plain_profile

README = Path(__file__).resolve().parent.parent / "README.md"


def every_error_class() -> list[type[AuraError]]:
    found, todo = [], [AuraError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: cls.__name__)


ERROR_CLASSES = every_error_class()
# A value for each constructor argument any of the classes takes.
ARGUMENTS = {"message": "what happened", "path": "/profiles/default.json", "detail": "what is wrong with it",
             "status": 500, "reason": "", "url": "http://127.0.0.1:9/api/chat", "target": None,
             "partial_text": "the text so far"}


def instance_of(cls: type[AuraError]) -> AuraError:
    named = [parameter.name for parameter in inspect.signature(cls.__init__).parameters.values()
             if parameter.name != "self" and parameter.default is inspect.Parameter.empty
             and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)]
    return cls(*(ARGUMENTS[name] for name in named)) if named else cls("what happened")


def exit_code_rows() -> dict[int, str]:
    """README's exit-code table: code -> the row's list of exception classes."""
    section = README.read_text().split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].isdigit():
            rows[int(cells[0])] = cells[2]
    return rows


def test_the_walk_finds_the_classes_of_every_kind():
    names = {cls.__name__ for cls in ERROR_CLASSES}
    assert {"InvalidRequest", "ProfileBusy", "Redirected", "StreamInterrupted", "OutputError", "ClientClosed"} <= names


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_error_class_owns_a_documented_outcome_on_every_surface(cls):
    assert cls.exit_code in range(1, 8)
    assert cls.problem in Problem.__members__
    assert cls.http_status in ERROR_TYPES
    assert re.fullmatch(r"[a-z_]+", cls.api_code)
    assert isinstance(cls.stops_batch, bool)
    # README's exit-code table names each class in the row of its code, and `--help` lists that code.
    assert re.search(rf"`{cls.__name__}`", exit_code_rows()[cls.exit_code]), cls.__name__
    assert re.search(rf"^  {cls.exit_code} ", EXIT_CODES_HELP, re.M)


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_exit_code_problem_and_http_answer_are_read_from_the_class(cls):
    error = instance_of(cls)
    assert exit_code_for(error) == cls.exit_code
    assert problem_of(error) is Problem[cls.problem]
    status, body = describe(error)
    assert status == cls.http_status
    assert body["error"]["code"] == cls.api_code and body["error"]["type"] == ERROR_TYPES[status]
    assert body["error"]["message"] == str(error)


def test_an_outcome_changed_on_a_class_is_what_every_surface_gives(monkeypatch):
    """No surface keeps a table of its own: changing the class is enough."""
    error = instance_of(ResponseTimeout)
    monkeypatch.setattr(ResponseTimeout, "exit_code", 4)
    monkeypatch.setattr(ResponseTimeout, "problem", "BLOCKED")
    monkeypatch.setattr(ResponseTimeout, "http_status", 503)
    monkeypatch.setattr(ResponseTimeout, "api_code", "changed")
    assert exit_code_for(error) == 4 and problem_of(error) is Problem.BLOCKED
    assert describe(error)[0] == 503 and describe(error)[1]["error"]["code"] == "changed"


def test_errors_that_are_not_ours_are_unexpected():
    assert exit_code_for(KeyError("x")) == 1 and problem_of(KeyError("x")) is Problem.OTHER


# --- the misuses of issue 9, point 6 ------------------------------------------------------


def test_a_response_timeout_is_a_timeout_error():
    assert issubclass(ResponseTimeout, TimeoutError)
    with pytest.raises(TimeoutError):
        raise instance_of(ResponseTimeout)


async def test_a_profile_lock_held_too_long_is_a_busy_profile_not_a_login_to_do(tmp_path):
    store = ProfileStore(tmp_path / "profiles")
    async with store.lock("default"):  # the holder: another process's login, as far as the lock can tell
        with pytest.raises(ProfileBusy, match="held its lock too long") as caught:
            async with store.lock("default", timeout=0.1):
                pass
    assert isinstance(caught.value, ProfileError) and problem_of(caught.value) is Problem.PROFILE_BUSY
    assert caught.value.exit_code == 3  # kept: scripts tell "no usable profile now" by it
    async with store.lock("default", timeout=0.1):  # free again
        pass


async def test_a_closed_client_is_client_closed_not_bad_input(tmp_path):
    client = AuraClient("http://127.0.0.1:9", profile_dir=tmp_path)
    await client.close()
    with pytest.raises(ClientClosed, match="closed") as caught:
        await client.ask("Hi")
    assert not isinstance(caught.value, InvalidRequest)


async def test_a_blocking_call_from_a_running_loop_is_wrong_event_loop_not_bad_input():
    with pytest.raises(WrongEventLoop, match="running event loop") as caught:
        refuse_running_loop("Aura.create_completion", "create_async_generator")
    assert isinstance(caught.value, RuntimeError) and not isinstance(caught.value, InvalidRequest)


# --- through each surface ----------------------------------------------------------------


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "aura_browser", *args], capture_output=True,
                          env={**os.environ, **env}, timeout=120)


def one_line_error(result: subprocess.CompletedProcess[bytes]) -> str:
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aura-browser: error: "), lines
    return lines[0]


async def test_the_cli_exits_with_the_class_exit_code(tmp_path):
    store = ProfileStore(tmp_path / "profiles")
    save_plain_profile(store.directory, "http://127.0.0.1:9")
    env = {"AURA_PROFILE_DIR": str(store.directory)}
    async with store.lock("default"):
        busy = await asyncio.to_thread(run_cli, "profiles", "delete", "default", env=env)
    assert busy.returncode == ProfileBusy.exit_code and "is in use" in one_line_error(busy)
    (tmp_path / "in.jsonl").write_text('{"id": 1, "prompt": "Hi"}\n')
    unwritable = run_cli("batch", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "missing" / "out.jsonl"), env=env)
    assert unwritable.returncode == FileUnusable.exit_code and "cannot write" in one_line_error(unwritable)


def test_serve_that_cannot_listen_exits_with_its_class_code(tmp_path):
    from aura_browser.errors import CannotListen

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), "--base-url", "http://127.0.0.1:9",
                         env={"AURA_PROFILE_DIR": str(tmp_path)})
    assert result.returncode == CannotListen.exit_code
    assert f"cannot listen on 127.0.0.1:{port}" in one_line_error(result)


async def test_serve_answers_with_the_class_http_status_and_code(tmp_path):
    client = AuraClient("http://127.0.0.1:9", profile_dir=tmp_path)
    await client.close()
    runner = web.AppRunner(create_app(client))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{port}/v1/chat/completions",
                                    json={"model": "m", "messages": [{"role": "user", "content": "Hi"}]}) as reply:
                status, body = reply.status, await reply.json()
            async with session.post(f"http://127.0.0.1:{port}/v1/chat/completions", json={"model": "m"}) as reply:
                bad_status, bad_body = reply.status, await reply.json()
    finally:
        await runner.cleanup()
    assert status == ClientClosed.http_status and body["error"]["code"] == ClientClosed.api_code
    assert bad_status == InvalidRequest.http_status and bad_body["error"]["code"] == InvalidRequest.api_code


async def test_batch_stops_or_writes_a_record_as_the_class_says(tmp_path):
    client = AuraClient("http://127.0.0.1:9", profile_dir=tmp_path)
    # An item the client refuses (bad input): a record with the error, and the run goes on.
    assert not InvalidRequest.stops_batch
    record = await run_item(client, BatchItem(line=1, id="a", messages=as_messages("Hi"), max_tokens=0))
    assert record["id"] == "a" and "max_tokens must be positive" in record["error"]
    # A closed client fails every item alike: the run stops, with no record.
    assert ClientClosed.stops_batch and LoginRequired.stops_batch
    await client.close()
    written: list[dict] = []
    items = [BatchItem(line=n, id=n, messages=as_messages("Hi")) for n in range(3)]
    outcome = await run_batch(client, items, written.append, concurrency=1)
    assert isinstance(outcome.stopped_by, ClientClosed) and written == [] and outcome.done == 0
