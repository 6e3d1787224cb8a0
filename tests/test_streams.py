"""Closed, full or broken standard streams, and a profile folder that cannot be written: one line on stderr and a
documented exit code (nothing at all for a reader that left), never `internal error`."""

import os
import shlex
import subprocess
import sys

import pytest

from tests.support.cli import assert_one_line_error, err, run_cli

CLI = [sys.executable, "-m", "aura_browser"]
LINES = b"".join(b'{"id": %d, "prompt": "q%d"}\n' % (n, n) for n in range(5))


@pytest.fixture
def env(gateless_site, profile_dir):
    return {**os.environ, "AURA_PROFILE_DIR": str(profile_dir), "AURA_BASE_URL": gateless_site.url}


def in_shell(redirect: str, *args: str, env: dict, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """`aura-browser ARGS REDIRECT` through sh, which can start it with a standard stream closed or on /dev/full."""
    command = f"exec {shlex.join([*CLI, *args])} {redirect}"
    return subprocess.run(["sh", "-c", command], input=input, capture_output=True, env=env, timeout=120)


@pytest.mark.parametrize("args", [["ask", "-"], ["chat"], ["batch", "-"]], ids=["ask", "chat", "batch"])
def test_a_closed_stdin_is_bad_input(gateless_site, env, args):
    result = in_shell("<&-", *args, env=env)
    assert_one_line_error(result, 2, "stdin is closed")
    assert gateless_site.stats.chat_requests == 0


@pytest.mark.parametrize("args", [["ask", "Hi"], ["ask", "--json", "Hi"], ["chat"], ["batch", "-"],
                                  ["profiles", "list"]], ids=["ask", "ask-json", "chat", "batch", "profiles"])
@pytest.mark.parametrize("redirect, problem", [(">&-", "it is closed"), (">/dev/full", "No space left on device")],
                         ids=["closed", "full"])
def test_a_stdout_that_cannot_be_written_is_one_line_and_exit_1(env, args, redirect, problem):
    result = in_shell(redirect, *args, env=env, input=b"Hi\n" if args == ["chat"] else LINES)
    stderr = err(result)
    assert result.returncode == 1, stderr
    assert stderr.strip().splitlines()[-1] == f"aura-browser: error: cannot write to stdout: {problem}", stderr
    assert "internal error" not in stderr and "Traceback" not in stderr and "Exception ignored" not in stderr


def test_batch_into_a_reader_that_left_stops_quietly(gateless_site, env):
    gateless_site.config.hold_after = 1  # every reply pauses after its first chunk until released
    process = subprocess.Popen([*CLI, "batch", "-", "-c", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    try:
        process.stdin.write(LINES)
        process.stdin.close()
        assert gateless_site.wait_for_hold(60)
        process.stdout.close()  # as `| head -c10` does once it has what it wants
        gateless_site.config.hold_after = None
        gateless_site.release()
        stderr = process.stderr.read()
        process.wait(timeout=30)
    finally:
        process.kill()  # a no-op once it has exited
    assert (process.returncode, stderr) == (1, b"")
    assert gateless_site.stats.chat_requests == 1  # the run stopped at the first record it could not write


def test_batch_output_that_cannot_be_opened_is_bad_usage(gateless_site, env, tmp_path):
    (tmp_path / "in.jsonl").write_bytes(LINES)
    result = run_cli("batch", str(tmp_path / "in.jsonl"), "-o", "/nonexistent/x", env=env)
    assert_one_line_error(result, 2, "cannot write /nonexistent/x: No such file or directory")
    assert gateless_site.stats.chat_requests == 0


def test_batch_output_that_fills_up_stops_the_run_with_one_error(gateless_site, env, tmp_path):
    (tmp_path / "in.jsonl").write_bytes(LINES)
    result = run_cli("batch", str(tmp_path / "in.jsonl"), "-o", "/dev/full", env=env)
    assert result.returncode == 1, err(result)
    last_line = err(result).strip().splitlines()[-1]
    assert last_line == "aura-browser: error: cannot write /dev/full: No space left on device"
    assert "internal error" not in err(result)


# --- a profile folder on a read-only or full file system (a tmpfs in a private mount namespace) ---------------


def _can_mount() -> bool:
    try:
        return subprocess.run(["unshare", "-m", "mount", "-t", "tmpfs", "none", "/mnt"], capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_mount = pytest.mark.skipif(not _can_mount(), reason="needs unshare -m and mount (root, in a container that lets it)")


def on_own_tmpfs(folder, prepare: str, *args: str, env: dict) -> subprocess.CompletedProcess[bytes]:
    """Run `aura-browser ARGS` with a fresh tmpfs at `folder`, after the shell commands `prepare` ran in it."""
    script = f"mount -t tmpfs -o size=64k none {shlex.quote(str(folder))} && cd {shlex.quote(str(folder))} && " \
             f"{prepare} && exec {shlex.join(CLI + list(args))}"
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, env=env, timeout=120)


@needs_mount
@pytest.mark.parametrize("args", [["ask", "Hi", "--profile", "other"], ["profiles", "delete", "default"]],
                         ids=["login-needed", "delete"])
def test_a_read_only_profile_folder_is_a_profile_error(gateless_site, env, tmp_path, args):
    folder = tmp_path / "mnt"
    folder.mkdir()
    saved = (tmp_path / "profiles" / "default.json").read_text()
    prepare = (f"mkdir -m 700 p && printf %s {shlex.quote(saved)} > p/default.json && chmod 600 p/default.json && "
               "mount -o remount,ro .")
    result = on_own_tmpfs(folder, prepare, *args, "--profile-dir", str(folder / "p"), env=env)
    assert_one_line_error(result, 3, f"profile {folder / 'p'}: cannot write in this folder (Read-only file system)")


@needs_mount
def test_a_full_profile_folder_fails_the_login_with_a_profile_error(gateless_site, env, tmp_path):
    folder = tmp_path / "mnt"
    folder.mkdir()
    prepare = "mkdir -m 700 p && { head -c 1M /dev/zero > filler 2>/dev/null || true; }"
    result = on_own_tmpfs(folder, prepare, "login", "--profile-dir", str(folder / "p"), env=env)
    assert_one_line_error(result, 3, f"profile {folder / 'p'}: cannot write in this folder (No space left on device)")


@pytest.mark.parametrize("args, code", [
    (["ask", ""], 2),  # InvalidRequest
    (["ask", "--timeout", "0", "Hi"], 2),  # click's usage error
    (["profiles", "show", "nope"], 3),  # LoginRequired
    (["ask", "--transport", "direct", "Hi"], 5),  # the site's 500
    (["batch", "-"], 8),  # records with errors
    (["ask", "--insecure", "--transport", "direct", "-v", "Hi"], 5),  # a warning and log lines first
], ids=["invalid-request", "usage", "login-required", "site-error", "batch-items-failed", "warning-then-error"])
def test_a_full_stderr_changes_no_exit_code(gateless_site, env, args, code):
    gateless_site.config.update({"status": 500})
    result = in_shell("2>/dev/full", *args, env=env, input=LINES)
    assert result.returncode == code


def test_a_full_stderr_and_a_full_stdout_still_exit_1(gateless_site, env):
    assert in_shell(">/dev/full 2>/dev/full", "ask", "--transport", "direct", "Hi", env=env).returncode == 1
