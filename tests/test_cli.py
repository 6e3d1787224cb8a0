"""Every CLI command, run end to end as a subprocess against the replica."""

import json
import os
import select
import signal
import subprocess
import sys
import time

import click
import pytest

from aura_browser.replica import reply_text
from aura_browser.wire.api import as_messages

from tests.support.cli import assert_one_line_error, err, out, run_cli
from tests.support.drivers import both_drivers
from tests.support.profiles import save_plain_profile


def test_login_ask_and_profiles_end_to_end(replica, env):
    login = run_cli("login", "--base-url", replica.url, env=env)
    assert login.returncode == 0, err(login)
    assert "Saved profile 'default'" in out(login) and "cf_clearance" in out(login)

    ask = run_cli("ask", "--base-url", replica.url, "Hello, how are you?", env=env)
    assert ask.returncode == 0, err(ask)
    assert out(ask) == reply_text(as_messages("Hello, how are you?"), "") + "\n"
    assert replica.stats.clearances_issued == 1  # the saved profile was reused

    piped = run_cli("ask", "--base-url", replica.url, "--system", "Answer in French", "--temperature", "0.2", "-",
                    input="Summarise this".encode(), env=env)
    assert piped.returncode == 0, err(piped)
    assert out(piped).rstrip("\n") == reply_text(as_messages("Summarise this"), "Answer in French")
    assert replica.stats.last_chat_body["temperature"] == 0.2

    as_json = run_cli("ask", "--base-url", replica.url, "--json", "Hi", env=env)
    record = json.loads(out(as_json))
    assert record["text"] == reply_text(as_messages("Hi"), "")
    assert record["transport"] == "direct" and record["ttfb_ms"] > 0 and record["elapsed_ms"] >= record["ttfb_ms"]

    listing = run_cli("profiles", "list", env=env)
    assert listing.returncode == 0 and "default" in out(listing) and replica.url in out(listing)

    show = run_cli("profiles", "show", "default", env=env)
    shown = json.loads(out(show))
    assert shown["base_url"] == replica.url and "cf_clearance" in shown["cookies"]
    profile_text = (env_dir := __import__("pathlib").Path(env["AURA_PROFILE_DIR"]) / "default.json").read_text()
    secret = next(c["value"] for c in json.loads(profile_text)["storage_state"]["cookies"] if c["name"] == "cf_clearance")
    assert secret not in out(show) + out(login) + out(listing)

    delete = run_cli("profiles", "delete", "default", env=env)
    assert delete.returncode == 0 and not env_dir.exists()
    again = run_cli("profiles", "delete", "default", env=env)
    assert_one_line_error(again, 3, "no profile 'default'")  # as `profiles show` of a missing profile
    missing = run_cli("profiles", "show", "default", env=env)
    assert_one_line_error(missing, 3, "no profile 'default'")


def test_a_500_error_exits_5_with_one_line(make_replica, env):
    replica = make_replica(gate="off", status=500, reason="upstream is down")
    result = run_cli("ask", "--base-url", replica.url, "Hi", env=env)
    assert result.returncode == 5
    lines = err(result).strip().splitlines()
    assert len(lines) == 1 and "site error 500 upstream is down" in lines[0]
    assert "Traceback" not in err(result)


def test_dropped_connection_keeps_what_was_printed_and_exits_6(make_replica, env):
    replica = make_replica(gate="off", drop_after=30, split_multibyte=False)
    result = run_cli("ask", "--base-url", replica.url, "Hi", env=env)
    assert result.returncode == 6
    assert out(result).rstrip("\n") == reply_text(as_messages("Hi"), "").encode()[:30].decode()
    assert "broke mid-reply" in err(result)


@pytest.mark.parametrize(
    "args, stdin, code, message",
    [
        (["ask", ""], None, 2, "the prompt is empty"),
        (["ask", "--temperature", "3", "Hi"], None, 2, "3"),
        (["ask", "--max-tokens", "0", "Hi"], None, 2, "0"),
        (["ask", "-"], b"\xff\xfe not utf-8", 2, "stdin is not valid UTF-8"),
        (["ask", "--base-url", "ftp://x", "Hi"], None, 2, "must look like https://"),
        (["ask", "--profile", "../x", "Hi"], None, 2, "profile name"),
        (["nonsense"], None, 2, "No such command"),
    ],
)
def test_bad_input_gets_one_clear_line_and_exit_2(args, stdin, code, message, env):
    result = run_cli(*args, input=stdin, env=env)
    assert result.returncode == code, err(result)
    assert message in err(result)
    assert "Traceback" not in err(result)


def test_a_corrupt_profile_exits_3_naming_the_path(profile_dir, env):
    profile_dir.mkdir(parents=True)
    (profile_dir / "default.json").write_text("{broken")
    result = run_cli("ask", "--base-url", "http://127.0.0.1:9", "Hi", env=env)
    assert result.returncode == 3
    assert str(profile_dir / "default.json") in err(result) and "not valid JSON" in err(result)


def test_help_teaches_exit_codes_and_env_vars():
    top = run_cli("--help")
    assert top.returncode == 0 and "Exit codes:" in out(top) and "blocked on every transport" in out(top)
    ask = run_cli("ask", "--help")
    assert "AURA_BASE_URL" in out(ask) and "AURA_PROXY" in out(ask) and "Examples:" in out(ask)


def test_replica_command_serves_until_interrupted(env):
    process = subprocess.Popen(
        [sys.executable, "-m", "aura_browser", "replica", "--port", "0", "--gate", "off"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env},
    )
    try:
        line = process.stdout.readline().decode()
        assert "listening on http://127.0.0.1:" in line
        url = line.split("listening on ")[1].split()[0]
        save_plain_profile(env["AURA_PROFILE_DIR"], url)
        ask = run_cli("ask", "--base-url", url, "Hi", env=env)
        assert out(ask).rstrip("\n") == reply_text(as_messages("Hi"), "")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=10) == 0
        finally:
            process.kill()  # a no-op once it has exited; a failed test must not leave a server behind


def test_demo_shows_login_direct_and_in_page_answers():
    result = run_cli("demo", timeout=180)
    text = out(result)
    assert result.returncode == 0, err(result)
    assert "saved profile 'demo'" in text
    assert text.count(reply_text(as_messages("Hello, how are you?"), "")) == 2
    assert "[transport: direct" in text and "[transport: page" in text


@both_drivers
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_an_in_page_reply_keeps_the_output_and_closes_the_browser(make_replica, env, sig, code, driver):
    from tests.support.processes import chromium_pids, wait_for_no_new_chromium

    replica = make_replica(gate="challenge", hold_after=2, split_multibyte=False)
    before = chromium_pids()
    process = subprocess.Popen(
        [sys.executable, "-m", "aura_browser", "ask", "--base-url", replica.url, "--transport", "page", "Hi"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env, "AURA_DRIVER": driver},
    )
    try:
        assert replica.stats.wait_until(lambda s: s.holding == 1, 60), "the reply never started"
        assert chromium_pids() - before, "no browser was started"
        sent = reply_text(as_messages("Hi"), "").encode()[:32]  # the two chunks the replica sent before it held
        first, deadline = b"", time.monotonic() + 30
        while len(first) < len(sent) and select.select([process.stdout], [], [], max(0, deadline - time.monotonic()))[0]:
            data = process.stdout.read1(4096)  # wait until both are printed (or the process ends)
            if not data:
                break
            first += data
        process.send_signal(sig)
        rest, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == code, stderr.decode()
    printed = (first + rest).decode()
    assert printed.rstrip("\n") == sent.decode()
    assert "Traceback" not in stderr.decode()
    wait_for_no_new_chromium(before)


def test_the_lazy_command_table_matches_each_commands_own_help():
    from aura_browser.cli import COMMANDS, cli

    context = click.Context(cli)
    for name, (_, short_help) in COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=200) == short_help, name


def test_help_imports_no_command_module_and_nothing_else_of_the_package():
    code = ("import sys; from aura_browser.cli import main; sys.argv=['aura-browser', '--help']\n"
            "try: main()\nexcept SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('aura_browser')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    # cli/streams.py guards stdin and stdout for every run, help included; it holds no command and no option, and
    # loads the errors only when a stream fails. What --help imports is its start (scripts/bench.py, B5).
    assert result.stdout.strip().splitlines()[-1] == "['aura_browser', 'aura_browser.cli', 'aura_browser.cli.streams']"


def test_verbosity_and_quiet_are_taken_before_the_command_too(make_replica, env):
    """`aura-browser -v ask` is what people type: -v before the command counts as after it."""
    replica = make_replica(gate="off")
    before = run_cli("-v", "ask", "--base-url", replica.url, "--profile", "one", "Hi", env=env)
    assert before.returncode == 0, err(before)
    assert err(before).startswith(f"aura-browser: logging in to {replica.url}")  # -v's log lines
    after = run_cli("ask", "-v", "--base-url", replica.url, "--profile", "two", "Hi", env=env)
    assert err(after).splitlines()[0] == err(before).splitlines()[0]
    quiet = run_cli("-q", "ask", "--base-url", replica.url, "--profile", "one", "Hi", env=env)
    assert quiet.returncode == 0 and err(quiet) == ""


def test_ask_json_says_transport_null_when_nothing_answered(gateless_site, env):
    """As batch's records do: no transport carried a reply, so `transport` is null, not an empty string."""
    result = run_cli("ask", "--json", "--base-url", gateless_site.url, "--max-tokens", "10", "Hi " * 50, env=env)
    record = json.loads(out(result))
    assert result.returncode == 2, err(result)
    assert record["transport"] is None and "does not fit" in record["error"]
    assert gateless_site.stats.chat_requests == 0


def test_profiles_list_has_a_header(gateless_site, env):
    listing = run_cli("profiles", "list", env=env)
    header, *rows = out(listing).splitlines()
    assert header.split("\t") == ["NAME", "SITE", "CAPTURED", "GATE COOKIE"]
    assert rows and rows[0].startswith("default\t" + gateless_site.url)


# Modules a direct ask with a saved profile never needs: the browser libraries, every driver module (the
# drivers package too), the other transports and their library, the page rules (only a reply that is not the text
# stream is judged by them) and what the drivers' Xvfb and profiles use (ctypes, secrets).
NOT_FOR_A_DIRECT_ASK = ("playwright", "patchright", "selenium", "curl_cffi", "ctypes", "secrets", "aura_browser.drivers",
                        "aura_browser.transports.impersonate", "aura_browser.transports.page", "aura_browser.wire.page")


def test_a_direct_ask_imports_no_driver_and_no_other_transport(gateless_site, env):
    # An ask is a process: what it imports is part of its time (scripts/bench.py, B5).
    code = ("import runpy, sys\n"
            f"sys.argv = ['aura-browser', 'ask', '--base-url', {gateless_site.url!r}, '--transport', 'direct', 'Hi']\n"
            "try: runpy.run_module('aura_browser', run_name='__main__')\n"
            "except SystemExit as exit: assert not exit.code, exit.code\n"
            "print(sorted(m for m in sys.modules if m.startswith('aura_browser.transports.')))\n"
            f"print(sorted(m for m in sys.modules if m in {NOT_FOR_A_DIRECT_ASK!r}"
            f" or m.startswith(tuple(name + '.' for name in {NOT_FOR_A_DIRECT_ASK!r}))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    transports, needless = result.stdout.strip().splitlines()[-2:]
    assert transports == str(sorted(
        ["aura_browser.transports.base", "aura_browser.transports.direct", "aura_browser.transports.fallback",
         "aura_browser.transports.replay", "aura_browser.transports.replies"]))
    assert needless == "[]"


@pytest.mark.parametrize("columns", [None, "30", "60", "79", "100", "250", "0", "wide"])
def test_the_help_is_as_wide_as_click_makes_it_with_shutil(columns, monkeypatch):
    import shutil

    from aura_browser.cli import _help_width

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _help_width() == max(min(shutil.get_terminal_size().columns, 80) - 2, 50)  # click.formatting's rule
