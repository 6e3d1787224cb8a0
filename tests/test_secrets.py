"""Secrets and origins: no cookie value, apiKey, proxy password or API key is ever printed or logged; profile
files are private; cookies go only to their own origin; TLS is verified unless --insecure; serve stays on
loopback. (serve's 401 without the key: test_serve.py::test_api_key_is_required_when_set_and_never_printed.)
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from aura_browser.profile import ProfileStore
from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages

from tests.support.cli import assert_one_line_error, cli_process, err, finish, out, run_cli
from tests.support.processes import chromium_pids, wait_for_no_new_chromium
from tests.support.profiles import save_plain_profile
from tests.support.servers.auth_proxy import auth_proxy

API_KEY = "sk-page-apikey-7f3a9c1d"
PROXY_PASSWORD = "proxy-pw-Zq81x"
SERVE_KEY = "serve-key-4b7e2a"
CLEARANCE_SHAPE = re.compile(r"\b\d{10}\.[0-9a-f]{64}\b")  # the replica's cf_clearance values


def set_api_key(profile_dir: Path, key: str) -> None:
    """What a user does once in the page (Set API Key): the key lives in the site's localStorage."""
    store = ProfileStore(profile_dir)
    profile = store.load("default")
    origins = profile.storage_state.setdefault("origins", [])
    entry = next((e for e in origins if e["origin"] == profile.origin), None)
    if entry is None:  # the app writes no localStorage before a first message
        entry = {"origin": profile.origin, "localStorage": []}
        origins.append(entry)
    entry["localStorage"] = [i for i in entry["localStorage"] if i["name"] != "apiKey"]
    entry["localStorage"].append({"name": "apiKey", "value": key})
    store.save("default", profile)


def run_long(args: list[str], env: dict[str, str], ready: str, then) -> subprocess.CompletedProcess[bytes]:
    """Run a command that serves until Ctrl-C: wait for its ready line, call `then(line)`, then stop it."""
    with cli_process(*args, env=env) as process:
        line = process.stdout.readline()
        assert ready in line.decode(), line.decode() + process.stderr.read1(65536).decode()
        then(line.decode())
        process.send_signal(signal.SIGINT)
        return finish(process, line)


def test_every_command_at_the_highest_verbosity_leaks_no_secret(make_replica, tmp_path, profile_dir):
    replica = make_replica(gate="challenge", api_key=API_KEY)
    home = tmp_path / "home"
    home.mkdir()
    with auth_proxy("aura", PROXY_PASSWORD) as proxy:
        env = {"AURA_PROFILE_DIR": str(profile_dir), "AURA_LOGIN_TIMEOUT": "30", "AURA_BASE_URL": replica.url,
               "AURA_PROXY": proxy.url(), "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
               "XDG_CACHE_HOME": str(home / "cache"), "XDG_CONFIG_HOME": str(home / "config")}
        runs: dict[str, subprocess.CompletedProcess[bytes]] = {}
        before = chromium_pids()

        def run(name: str, *args: str, stdin: bytes | None = None, code: int = 0) -> None:
            result = runs[name] = run_cli(*args, input=stdin, env=env)
            assert result.returncode == code, f"{name}: {err(result)}"

        run("login", "login", "-vv")
        set_api_key(profile_dir, API_KEY)
        run("ask", "ask", "-vv", "Hi")
        assert out(runs["ask"]) == reply_text(as_messages("Hi"), "") + "\n"
        assert replica.stats.last_chat_body["key"] == API_KEY
        run("ask --json", "ask", "-vv", "--json", "Hi")
        run("ask in-page", "ask", "-vv", "--transport", "page", "Hi")
        assert out(runs["ask in-page"]) == reply_text(as_messages("Hi"), "") + "\n"
        replica.revoke_clearances()
        run("ask after a revoke", "ask", "-vv", "Hi")  # a refresh: a second login, new cookies
        assert replica.stats.clearances_issued == 2
        run("batch", "batch", "-vv", "-", stdin=b'{"id": 1, "prompt": "Hi"}\n{"id": 2, "prompt": "Ho"}\n')
        run("chat", "chat", "-vv", stdin=b"Hi\n/exit\n")
        run("doctor", "doctor", "-vv")
        run("profiles list", "profiles", "list")
        run("profiles show", "profiles", "show", "default")
        run("demo", "demo", "-vv")
        runs["serve"] = run_long(
            ["serve", "-vv", "--port", "0"], {**env, "AURA_SERVE_API_KEY": SERVE_KEY}, " at http://",
            lambda line: ask_served(line.split(" at ")[1].split()[0]),
        )
        runs["replica"] = run_long(["replica", "-vv", "--port", "0", "--gate", "challenge"], env, "listening on",
                                   lambda line: None)
        wrong = {**env, "AURA_PROXY": proxy.url(password="not-" + PROXY_PASSWORD)}
        runs["a wrong proxy password"] = run_cli("ask", "-vv", "--profile", "other", "Hi", env=wrong)
        assert runs["a wrong proxy password"].returncode != 0
        run("profiles delete", "profiles", "delete", "default")

    wait_for_no_new_chromium(before)
    # Both the browser and the direct requests went through the proxy, with its password.
    assert proxy.log.authorised("GET", replica.url + "/") >= 2  # the logins
    # (>=: the proxy also saw the chat request that the gate challenged, which the app itself never counted)
    assert proxy.log.authorised("POST", replica.url + "/api/chat") >= replica.stats.chat_requests >= 8
    assert proxy.log.refused() >= 1  # and it does check the password

    secrets = {API_KEY, PROXY_PASSWORD, "not-" + PROXY_PASSWORD, SERVE_KEY, *replica.stats.issued_cookie_values}
    assert len(replica.stats.issued_cookie_values) >= 4
    for name, result in runs.items():
        text = out(result) + err(result)
        leaked = [secret for secret in secrets if secret in text]
        assert not leaked, f"{name} printed a secret"
        assert not CLEARANCE_SHAPE.search(text), f"{name} printed a cf_clearance value"
    for path in [*home.rglob("*"), *profile_dir.rglob("*")]:  # any log or other file a command left
        if path.is_file():
            data = path.read_bytes()
            assert not [s for s in secrets if s.encode() in data], f"{path} holds a secret"


def ask_served(base: str) -> None:
    body = json.dumps({"model": "openchat_3.6", "messages": [{"role": "user", "content": "Hi"}]}).encode()
    request = urllib.request.Request(base + "/chat/completions", data=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {SERVE_KEY}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert json.loads(response.read())["choices"][0]["message"]["content"] == reply_text(as_messages("Hi"), "")


def test_profile_files_are_private_even_under_umask_000(replica, profile_dir):
    result = subprocess.run(
        [sys.executable, "-m", "aura_browser", "login", "--base-url", replica.url],
        capture_output=True, env={**os.environ, "AURA_PROFILE_DIR": str(profile_dir)}, umask=0,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert stat.S_IMODE(profile_dir.stat().st_mode) == 0o700
    files = list(profile_dir.iterdir())
    assert profile_dir / "default.json" in files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path.name} is readable by others"
    assert stat.S_IMODE((profile_dir / "default.json").stat().st_mode) == 0o600


def test_a_failed_login_screenshot_is_private_too(make_replica, profile_dir):
    replica = make_replica(gate="challenge", challenge_delay=60)
    result = subprocess.run(
        [sys.executable, "-m", "aura_browser", "login", "--base-url", replica.url, "--login-timeout", "2"],
        capture_output=True, env={**os.environ, "AURA_PROFILE_DIR": str(profile_dir)}, umask=0,
        timeout=120,
    )
    assert result.returncode == 3
    screenshot = profile_dir / "default.failed-login.png"
    assert stat.S_IMODE(screenshot.stat().st_mode) == 0o600


async def test_a_second_site_on_another_port_never_gets_the_first_sites_cookie(make_replica, make_client):
    first, second = make_replica(gate="challenge"), make_replica(gate="challenge")
    await make_client(first.url).login()
    for transport in ("auto", "direct", "page"):
        with pytest.raises(Exception, match=f"captured for {first.url}"):
            await make_client(second.url, transport=transport).ask("Hi")
    # Nothing at all reached the second site: no request, so no cookie either.
    assert second.stats.chat_requests == 0 and second.stats.challenges_served == 0
    assert first.stats.clearances_issued == 1


@pytest.mark.parametrize("with_profile", [True, False], ids=["direct", "browser-login"])
def test_tls_is_verified_unless_insecure_and_the_error_names_the_flag(make_replica, profile_dir, with_profile):
    replica = make_replica(gate="strict")
    env = {"AURA_PROFILE_DIR": str(profile_dir), "AURA_LOGIN_TIMEOUT": "30"}
    if with_profile:
        save_plain_profile(profile_dir, replica.url)
    result = run_cli("ask", "--base-url", replica.url, "--transport", "direct" if with_profile else "auto", "Hi",
                     env=env)
    assert_one_line_error(result, 6, "certificate", "--insecure")
    assert replica.stats.chat_requests == 0


def test_insecure_accepts_the_self_signed_certificate_and_says_so(make_replica, profile_dir):
    replica = make_replica(gate="off", tls=True)  # the strict replica's certificate, without its fingerprint gate
    save_plain_profile(profile_dir, replica.url)
    accepted = run_cli("ask", "--base-url", replica.url, "--insecure", "Hi", env={"AURA_PROFILE_DIR": str(profile_dir)})
    assert accepted.returncode == 0, err(accepted)
    assert out(accepted) == reply_text(as_messages("Hi"), "") + "\n"
    assert "TLS certificates are not verified" in err(accepted)  # said out loud, every time


def listening_addresses(pid: int) -> set[str]:
    """The local addresses of the TCP sockets `pid` listens on, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.add(fields[1].split(":")[0])
    return found


def test_serve_listens_on_loopback_only_by_default(make_replica, profile_dir):
    replica = make_replica(gate="off")
    env = {"AURA_PROFILE_DIR": str(profile_dir), "AURA_BASE_URL": replica.url}
    with cli_process("serve", "--port", "0", env=env) as process:
        assert " at http://127.0.0.1:" in process.stdout.readline().decode()
        assert listening_addresses(process.pid) == {"0100007F"}  # 127.0.0.1, and nothing else
        process.send_signal(signal.SIGINT)
        assert finish(process).returncode == 0
