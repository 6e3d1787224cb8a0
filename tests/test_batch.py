"""`aura-browser batch`, end to end as a subprocess against the replica with real Chromium."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aura_browser.profile import ProfileStore

from tests.support.cli import run_cli
from tests.support.processes import chromium_pids, wait_for_no_new_chromium
from tests.support.profiles import save_plain_profile
from tests.support.replies import answer


def write_lines(path: Path, *lines: object) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def records(path: Path) -> dict:
    return {json.dumps(r["id"]): r for r in map(json.loads, path.read_text().splitlines())}


def browser_mains(pids: set[int]) -> set[int]:
    """The browser processes themselves, not their renderer, GPU or zygote children (those have --type=)."""
    mains = set()
    for pid in pids:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if not any(arg.startswith(b"--type=") for arg in argv) and b"crashpad" not in argv[0]:
            mains.add(pid)
    return mains


def test_every_line_gets_a_record_bad_lines_become_errors_and_the_exit_code_says_so(replica, env, tmp_path):
    source = write_lines(
        tmp_path / "in.jsonl",
        {"id": 1, "prompt": "Hello"},
        {"id": "two", "messages": [{"role": "user", "content": "First"}, {"role": "assistant", "content": "Sure"},
                                   {"role": "user", "content": "Second"}], "system": "Be brief"},
        {"id": 3, "prompt": "Cool", "temperature": 0.1, "max_tokens": 4000},
        "",  # blank lines are skipped, but still counted for line numbers
        "{not json",
        {"prompt": "no id"},
        {"id": 7, "prompt": "x", "messages": []},
        {"id": 8, "prompt": "hot", "temperature": 3},
        {"id": 9, "prompt": "unknown model", "model": "gpt-4"},
    )
    result = run_cli("batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--concurrency", "3",
                     "--base-url", replica.url, env=env)
    assert result.returncode == 8, result.stderr.decode()
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == 8
    got = records(tmp_path / "out.jsonl")
    for key, prompt, system in (("1", "Hello", ""), ('"two"', "Second", "Be brief"), ("3", "Cool", "")):
        record = got[key]
        assert set(record) == {"id", "text", "transport", "error", "ttfb_ms", "elapsed_ms"}
        assert record["text"] == answer(prompt, system) and record["error"] is None
        assert record["transport"] == "direct" and 0 < record["ttfb_ms"] <= record["elapsed_ms"]
    bad = [r for r in map(json.loads, lines) if r["id"] is None]
    assert sorted(r["error"] for r in bad) == ["line 5: not JSON (Expecting property name enclosed in double quotes "
                                               "at column 2)", "line 6: no 'id'"]
    assert got["7"]["error"] == "line 7: give either 'prompt' or 'messages'"
    assert "temperature 3 is outside [0, 2]" in got["8"]["error"] and got["8"]["transport"] is None
    assert "site error 500" in got["9"]["error"] and got["9"]["transport"] == "direct"
    assert replica.stats.clearances_issued == 1  # one login served every item
    assert replica.stats.chat_requests == 4  # 1, two, 3 and the unknown model; bad lines never reach the site
    stderr = result.stderr.decode()
    assert "8 done, 5 failed" in stderr and "\r" not in stderr and "Traceback" not in stderr  # no bar when piped


def test_stdin_in_stdout_out_and_exit_0_when_all_succeed(replica, env):
    lines = "".join(json.dumps({"id": n, "prompt": f"question {n}"}) + "\n" for n in range(5))
    result = run_cli("batch", "-", "--base-url", replica.url, input=lines.encode(), env=env)
    assert result.returncode == 0, result.stderr.decode()
    got = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert sorted(r["id"] for r in got) == list(range(5))
    assert all(r["text"] == answer(f"question {r['id']}") and r["error"] is None for r in got)


def test_resume_skips_ids_already_written_and_redoes_a_torn_last_line(replica, env, tmp_path):
    source = write_lines(tmp_path / "in.jsonl", *({"id": n, "prompt": f"q{n}"} for n in range(4)))
    out = tmp_path / "out.jsonl"
    done = {"id": 0, "text": "earlier", "transport": "direct", "error": None, "ttfb_ms": 1, "elapsed_ms": 2}
    out.write_text(json.dumps(done) + "\n" + json.dumps({**done, "id": 1})[:25])  # a crash mid-write of id 1

    result = run_cli("batch", str(source), "-o", str(out), "--resume", "--base-url", replica.url, env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert "1 already in" in result.stderr.decode()
    lines = out.read_text().splitlines()
    assert json.loads(lines[0]) == done and lines[1] == json.dumps({**done, "id": 1})[:25]
    redone = [json.loads(line) for line in lines[2:]]
    assert sorted(r["id"] for r in redone) == [1, 2, 3] and all(r["error"] is None for r in redone)
    assert replica.stats.chat_requests == 3

    again = run_cli("batch", str(source), "-o", str(out), "--resume", "--base-url", replica.url, env=env)
    assert again.returncode == 0 and replica.stats.chat_requests == 3  # nothing left to do
    assert run_cli("batch", str(source), "--resume", env=env).returncode == 2  # --resume needs an OUT file


def test_a_failure_that_would_hit_every_item_stops_the_run(make_replica, env, tmp_path):
    replica = make_replica(gate="off")
    url = replica.url
    save_plain_profile(env["AURA_PROFILE_DIR"], url)
    replica.stop()  # nothing listens there any more
    source = write_lines(tmp_path / "in.jsonl", *({"id": n, "prompt": "Hi"} for n in range(20)))
    result = run_cli("batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--base-url", url, env=env)
    assert result.returncode == 6
    stderr = result.stderr.decode()
    assert "0 done" in stderr and "20 without a record (--resume continues)" in stderr and "cannot reach" in stderr
    assert (tmp_path / "out.jsonl").read_text() == ""


@pytest.mark.parametrize("staleness", ["revoked", "expired"])
def test_workers_on_a_stale_profile_cause_one_login_not_one_each(replica, env, tmp_path, staleness):
    assert run_cli("login", "--base-url", replica.url, env=env).returncode == 0
    store = ProfileStore(env["AURA_PROFILE_DIR"])
    if staleness == "revoked":
        replica.revoke_clearances()  # the site no longer accepts the cookie; the profile does not know yet
    else:
        profile = store.load("default")
        profile.gate_expires_at = 1.0  # the profile knows its cookie has expired
        store.save("default", profile)
    source = write_lines(tmp_path / "in.jsonl", *({"id": n, "prompt": f"q{n}"} for n in range(8)))

    result = run_cli("batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--concurrency", "8",
                     "--base-url", replica.url, env=env)
    assert result.returncode == 0, result.stderr.decode()
    got = records(tmp_path / "out.jsonl")
    assert len(got) == 8 and all(r["transport"] == "direct" and r["error"] is None for r in got.values())
    assert replica.stats.clearances_issued == 2  # the first login, then exactly one refresh for all eight


def test_strict_gate_in_page_fallback_shares_one_browser_and_one_refresh(make_replica, env, tmp_path):
    replica = make_replica(gate="strict")
    assert run_cli("login", "--base-url", replica.url, "--insecure", env=env).returncode == 0
    replica.config.hold_after = 1
    before = chromium_pids()
    source = write_lines(tmp_path / "in.jsonl", *({"id": n, "prompt": f"q{n}"} for n in range(4)))
    process = subprocess.Popen(
        [sys.executable, "-m", "aura_browser", "batch", str(source), "-o", str(tmp_path / "out.jsonl"),
         "--concurrency", "4", "--base-url", replica.url, "--insecure"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env},
    )
    try:
        # All four replies are streaming in-page at once, held by the replica mid-reply.
        assert replica.stats.wait_until(lambda s: s.holding == 4, 90), process.stderr.read1(65536).decode()
        assert len(browser_mains(chromium_pids() - before)) == 1
        replica.config.hold_after = None
        replica.release()
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, stderr.decode()
    got = records(tmp_path / "out.jsonl")
    assert all(r["transport"] == "page" and r["text"] == answer(f"q{r['id']}") for r in got.values()) and len(got) == 4
    assert replica.stats.clearances_issued == 2  # the login above, and one refresh when direct was blocked
    wait_for_no_new_chromium(before)


def test_a_progress_bar_only_on_a_terminal(make_replica, env, tmp_path):
    import pty

    replica = make_replica(gate="off")
    save_plain_profile(env["AURA_PROFILE_DIR"], replica.url)
    source = write_lines(tmp_path / "in.jsonl", {"id": 1, "prompt": "a"}, {"id": 2, "prompt": "b", "model": "nope"})
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "aura_browser", "batch", str(source), "-o", str(tmp_path / "out.jsonl"),
             "--base-url", replica.url],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal, env={**os.environ, **env},
        )
        os.close(terminal)
        seen = b""
        while True:
            try:
                data = os.read(controller, 4096)
            except OSError:  # the terminal's other end closed: the process is done with it
                break
            if not data:
                break
            seen += data
        assert process.wait(timeout=30) == 8
    finally:
        os.close(controller)
    screen = seen.decode("utf-8", "replace")
    assert "2/2" in screen and "failed=1" in screen and "item/s" in screen


async def test_a_profile_a_block_made_us_capture_is_not_replaced_when_direct_is_blocked_again(make_replica, make_client):
    """Strict gate: a new cookie did not help once, so a later blocked direct attempt goes in-page without a login.

    This is what keeps a stream that starts between another stream's refresh and its in-page fallback from
    logging in a second time.
    """
    replica = make_replica(gate="strict")
    client = make_client(replica.url)
    await client.ask("one")
    assert client.last_stats.transport == "page" and replica.stats.clearances_issued == 2  # login, one refresh
    client.profile.direct_blocked_until = None  # as when the profile's memory that direct is blocked runs out
    blocked = replica.stats.tls_blocked

    assert await client.ask("two") == answer("two")
    assert client.last_stats.transport == "page"
    assert replica.stats.tls_blocked > blocked  # direct was tried again...
    assert replica.stats.clearances_issued == 2  # ...but no new login came of it
