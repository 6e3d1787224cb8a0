"""Many callers, one profile: one login between them; and a profile write killed with SIGKILL loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from aura_browser.profile import Profile, ProfileStore
from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages

from tests.support.cli import cli_process, err, finish, out

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"


def save_expired_profile(profile_dir, url: str) -> Profile:
    cookie = {"name": "cf_clearance", "value": "1.expired", "domain": "127.0.0.1", "path": "/",
              "expires": time.time() - 60, "httpOnly": True, "secure": False, "sameSite": "Lax"}
    profile = Profile(base_url=url, user_agent=UA, storage_state={"cookies": [cookie], "origins": []},
                      captured_at=time.time() - 3600, gate_expires_at=time.time() - 60)
    ProfileStore(profile_dir).save("default", profile)
    return profile


def test_two_processes_on_one_expired_profile_log_in_once_and_both_answer(make_replica, profile_dir):
    # The challenge takes 2 s, so the second process surely finds the profile expired while the first logs in.
    replica = make_replica(gate="challenge", challenge_delay=2)
    save_expired_profile(profile_dir, replica.url)
    env = {"AURA_PROFILE_DIR": str(profile_dir), "AURA_LOGIN_TIMEOUT": "60"}
    args = ["ask", "--base-url", replica.url, "-v"]
    with cli_process(*args, "one", env=env) as first, cli_process(*args, "two", env=env) as second:
        results = [finish(first), finish(second)]

    for result, prompt in zip(results, ("one", "two")):
        assert result.returncode == 0, err(result)
        assert out(result) == reply_text(as_messages(prompt), "") + "\n"
    assert replica.stats.clearances_issued == 1
    logs = sorted(err(result) for result in results)
    assert sum("logging in to" in log for log in logs) == 1, logs
    assert sum("using the profile another process just refreshed" in log for log in logs) == 1, logs

    profile = ProfileStore(profile_dir).load("default")
    assert not profile.is_expired() and "cf_clearance" in profile.gate_cookie_names()


async def test_concurrent_asks_in_one_client_share_one_login(make_replica, make_client, profile_dir):
    replica = make_replica(gate="challenge")
    save_expired_profile(profile_dir, replica.url)
    client = make_client(replica.url)
    prompts = [f"question {n}" for n in range(10)]
    answers = await asyncio.gather(*(client.ask(prompt) for prompt in prompts))
    assert answers == [reply_text(as_messages(prompt), "") for prompt in prompts]
    assert replica.stats.clearances_issued == 1


# --- kill -9 while a profile is written -------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import os, sys, time
    from aura_browser.profile import Profile, ProfileStore

    store = ProfileStore(sys.argv[1])
    mode = sys.argv[2]
    big = "x" * 200_000  # a profile big enough that a write takes a while

    def profile(n):
        return Profile(base_url="http://127.0.0.1:1", user_agent=f"writer {n}", headers={"padding": big})

    if mode == "loop":
        n = 0
        while True:
            n += 1
            store.save("default", profile(n))
            print(n, flush=True)
    else:
        real = getattr(os, mode)

        def paused(*args):
            print("paused", flush=True)
            sys.stdin.readline()  # never answered: the test kills us here
            return real(*args)

        setattr(os, mode, paused)
        store.save("default", profile("new"))
    """
)


def start_writer(profile_dir, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(profile_dir), mode],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )


@pytest.mark.parametrize("pause_in", ["fsync", "replace"])
def test_kill_9_inside_a_profile_write_leaves_the_previous_profile(profile_dir, pause_in):
    store = ProfileStore(profile_dir)
    store.save("default", Profile(base_url="http://127.0.0.1:1", user_agent="previous"))
    writer = start_writer(profile_dir, pause_in)
    try:
        assert writer.stdout.readline().strip() == "paused"  # the new profile is half-way to disk
        os.kill(writer.pid, signal.SIGKILL)
        assert writer.wait(timeout=10) == -signal.SIGKILL
    finally:
        writer.kill()
    assert store.load("default").user_agent == "previous"
    assert store.names() == ["default"]  # the orphaned temp file is not taken for a profile
    store.save("default", Profile(base_url="http://127.0.0.1:1", user_agent="after"))
    assert store.load("default").user_agent == "after"


def test_kill_9_at_any_moment_of_a_writing_loop_leaves_a_whole_profile(profile_dir):
    store = ProfileStore(profile_dir)
    for round_ in range(5):
        writer = start_writer(profile_dir, "loop")
        try:
            target = 3 + round_ * 2
            for line in writer.stdout:  # kill it somewhere within its next write, wherever that is
                if int(line) >= target:
                    break
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait(timeout=10)
        finally:
            writer.kill()
        written = store.load("default")
        assert written.user_agent.startswith("writer ") and int(written.user_agent.split()[1]) >= target
        assert len(written.headers["padding"]) == 200_000
