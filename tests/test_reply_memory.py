"""What one reply may cost in memory: an endless reply, or a compression bomb, ends with ReplyTooLarge once it
passes `--max-reply-bytes` (8 MiB by default), with memory flat on every transport, in every tool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import tracemalloc
from dataclasses import dataclass

import pytest

from aura_browser.environment import DEFAULT_MAX_REPLY_BYTES
from aura_browser.errors import InvalidRequest, ReplyTooLarge
from aura_browser.settings import Settings

from tests.support.cli import err, run_cli

MiB = 1024 * 1024
CLI_PEAK_LIMIT = 160 * MiB  # the CLI's whole resident set, Python and its libraries included
RUNAWAY = 600 * MiB  # a run past this is stopped at once: memory is growing with the reply


@dataclass
class Run:
    returncode: int
    stdout_bytes: int
    stderr: str
    # Bytes: the process's own high-water mark (VmHWM), read every 50 ms while it ran. Not wait4's ru_maxrss: the
    # kernel carries the forking process's high-water mark across fork and exec into it, so in a long pytest run
    # every child would report pytest's size.
    peak_rss: int


def run_measured(*args: str, env: dict[str, str], deadline: float = 60) -> Run:
    """`aura-browser ARGS` with stdout counted and dropped; its own peak resident memory.

    The run is killed (and the test fails) once it holds more than RUNAWAY bytes, or passes `deadline`.
    """
    process = subprocess.Popen([sys.executable, "-m", "aura_browser", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**os.environ, **env})
    counted = [0]
    stderr: list[bytes] = []
    stdout_done = threading.Event()

    def drain_stdout() -> None:
        while data := process.stdout.read1(1 << 20):  # type: ignore[union-attr]
            counted[0] += len(data)
        stdout_done.set()

    readers = [threading.Thread(target=drain_stdout, daemon=True),
               threading.Thread(target=lambda: stderr.append(process.stderr.read()), daemon=True)]  # type: ignore[union-attr]
    for reader in readers:
        reader.start()
    waited, own_peak = 0.0, 0
    try:
        while True:
            pid, status = os.waitpid(process.pid, os.WNOHANG)
            if pid:
                break
            rss, own_peak = _memory(process.pid, own_peak)
            assert rss < RUNAWAY, f"the run's memory grew past {RUNAWAY // MiB} MiB ({rss // MiB} MiB)"
            assert waited < deadline, f"the run did not end within {deadline}s"
            stdout_done.wait(0.05)  # wakes at once when the run ends and closes stdout
            waited += 0.05
    finally:
        if process.returncode is None and not locals().get("pid"):
            process.kill()
            os.waitpid(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join(10)
    return Run(process.returncode, counted[0], b"".join(stderr).decode("utf-8", "replace"), own_peak)


def _memory(pid: int, peak: int) -> tuple[int, int]:
    """The process's resident bytes now, and the highest of `peak` and its own high-water mark."""
    found = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    found[name] = int(value.split()[0]) * 1024
    except OSError:  # it has just ended
        pass
    return found.get("VmRSS", 0), max(peak, found.get("VmHWM", 0))


def assert_capped(run: Run, limit: int) -> None:
    assert run.returncode == 5, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and f"passed {limit} bytes, the most kept of one reply (--max-reply-bytes" in lines[0], \
        run.stderr
    assert "Traceback" not in run.stderr
    assert 20 * MiB < run.peak_rss < CLI_PEAK_LIMIT, f"peak {run.peak_rss // MiB} MiB"  # (and it was measured)


@pytest.mark.parametrize("transport", ["direct", "impersonate"])
def test_an_endless_reply_stops_at_the_default_cap_with_flat_memory(gateless_site, profile_dir, transport):
    gateless_site.config.update(dict(endless=True, chunk_size=64 * 1024))
    run = run_measured("ask", "--base-url", gateless_site.url, "--transport", transport, "Hi",
                       env={"AURA_PROFILE_DIR": str(profile_dir)})
    assert_capped(run, DEFAULT_MAX_REPLY_BYTES)
    # what came before the cap was printed as it arrived (and forgotten), to its last whole character
    assert DEFAULT_MAX_REPLY_BYTES - 3 <= run.stdout_bytes <= DEFAULT_MAX_REPLY_BYTES + 1  # + the line's end


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
@pytest.mark.parametrize("transport", ["direct", "impersonate"])
def test_a_compression_bomb_is_decoded_no_further_than_the_cap(gateless_site, profile_dir, transport, encoding):
    # Each 4 MiB chunk of filler compresses to a few KiB: the reply is a bomb that never ends.
    gateless_site.config.update(dict(endless=True, chunk_size=4 * MiB, content_encoding=encoding))
    run = run_measured("ask", "--base-url", gateless_site.url, "--transport", transport, "Hi",
                       env={"AURA_PROFILE_DIR": str(profile_dir), "AURA_MAX_REPLY_BYTES": str(2 * MiB)})
    assert_capped(run, 2 * MiB)
    assert 2 * MiB - 3 <= run.stdout_bytes <= 2 * MiB + 1


def test_an_endless_in_page_reply_stops_at_the_cap_too(gateless_site, profile_dir):
    gateless_site.config.update(dict(endless=True, chunk_size=64 * 1024))
    run = run_measured("ask", "--base-url", gateless_site.url, "--transport", "page", "--headless", "Hi",
                       env={"AURA_PROFILE_DIR": str(profile_dir), "AURA_MAX_REPLY_BYTES": str(MiB)}, deadline=120)
    assert_capped(run, MiB)  # the CLI's own: Playwright's driver, a child, is not the CLI's memory


async def test_ask_keeps_no_more_than_the_cap_and_says_what_came_before_it(gateless_site, make_client):
    gateless_site.config.update(dict(endless=True, chunk_size=64 * 1024))
    client = make_client(gateless_site.url, transport="direct", max_reply_bytes=MiB)
    tracemalloc.start()
    try:
        with pytest.raises(ReplyTooLarge) as raised:
            await client.ask("Hi")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert MiB - 3 <= len(raised.value.partial_text.encode()) <= MiB
    assert raised.value.partial_text.startswith("Hello! You said: Hi.")
    assert peak < 12 * MiB, f"peak {peak // MiB} MiB"


def test_batch_and_serve_answers_over_the_cap_are_errors_of_their_own(gateless_site, profile_dir, tmp_path):
    gateless_site.config.update(dict(endless=True, chunk_size=64 * 1024))
    env = {"AURA_PROFILE_DIR": str(profile_dir), "AURA_MAX_REPLY_BYTES": str(MiB)}
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "prompt": "Hi"}\n')
    out = tmp_path / "out.jsonl"
    result = run_cli("batch", str(source), "-o", str(out), "--base-url", gateless_site.url, env=env)
    assert result.returncode == 8, err(result)
    record = json.loads(out.read_text())
    assert record["text"] == "" or len(record["text"].encode()) <= MiB
    assert f"passed {MiB} bytes" in record["error"]


def test_the_cap_is_a_setting_of_its_own_checked_when_made():
    assert Settings().max_reply_bytes == DEFAULT_MAX_REPLY_BYTES == 8 * MiB
    assert Settings.from_env({"AURA_MAX_REPLY_BYTES": "1024"}).max_reply_bytes == 1024
    for bad in (0, -1, 1.5, True, "1024"):
        with pytest.raises(InvalidRequest, match="max_reply_bytes must be a positive integer"):
            Settings(max_reply_bytes=bad)
    refused = run_cli("ask", "--base-url", "http://127.0.0.1:9", "--max-reply-bytes", "0", "Hi")
    assert refused.returncode == 2 and "Invalid value for '--max-reply-bytes'" in err(refused)


def test_serve_answers_a_non_streamed_reply_over_the_cap_with_502_reply_too_large(gateless_site, profile_dir):
    import signal
    import urllib.error
    import urllib.request

    from tests.support.cli import cli_process, finish

    gateless_site.config.update(dict(endless=True, chunk_size=64 * 1024))
    env = {"AURA_PROFILE_DIR": str(profile_dir), "AURA_MAX_REPLY_BYTES": str(MiB)}
    with cli_process("serve", "--port", "0", "--base-url", gateless_site.url, env=env) as process:
        line = process.stdout.readline().decode()  # type: ignore[union-attr]
        base = "http://127.0.0.1:" + line.split(" at http://127.0.0.1:")[1].split("/")[0]
        body = json.dumps({"model": "openchat_3.6", "messages": [{"role": "user", "content": "Hi"}]}).encode()
        request = urllib.request.Request(base + "/v1/chat/completions", data=body,
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as answered:
            urllib.request.urlopen(request, timeout=30)
        error = json.loads(answered.value.read())["error"]
        process.send_signal(signal.SIGINT)
        result = finish(process)
    assert answered.value.code == 502 and error["code"] == "reply_too_large", error
    assert f"passed {MiB} bytes" in error["message"]
    assert "Traceback" not in result.stderr.decode()
