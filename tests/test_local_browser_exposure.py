"""What a Selenium login leaves open to other local users, and behind it: no DevTools TCP port (any local user
who found one could take the session's cookies and run JavaScript in the page), and, after kill -9 or a signal
the process does not handle, no private folder that the next run does not remove."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from tests.support.cli import cli_process, finish, run_cli
from tests.support.processes import chromium_pids, wait_for_no_new_chromium
from tests.support.profiles import save_plain_profile


def listening_inodes() -> set[str]:
    """Socket inodes of every TCP socket in LISTEN state (st 0A), IPv4 and IPv6."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":
                inodes.add(fields[9])
    return inodes


def socket_inodes(pid: int) -> set[str]:
    found = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                found.add(target[len("socket:["):-1])
    except OSError:  # gone meanwhile
        pass
    return found


def command_line(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")


def test_the_selenium_logins_chromium_listens_on_no_tcp_port(make_replica, profile_dir):
    replica = make_replica(gate="challenge", challenge_delay=60)  # the gate holds the browser while we look
    before = chromium_pids()
    with cli_process("login", "--driver", "selenium", "--headless", "--base-url", replica.url,
                     env={"AURA_PROFILE_DIR": str(profile_dir)}) as process:
        assert replica.stats.wait_until(lambda s: s.challenges_served >= 1, 60), "the browser never reached the gate"
        browsers = {pid for pid in chromium_pids() - before if "chromedriver" not in os.path.basename(command_line(pid)[0])}
        assert browsers
        listening = listening_inodes()
        open_ports = {pid: socket_inodes(pid) & listening for pid in browsers}
        # The browser process: the one with our profile folder that is not one of its helpers (--type=...).
        main = [args for args in map(command_line, browsers)
                if any(arg.startswith("--user-data-dir=") for arg in args) and not any(a.startswith("--type=") for a in args)]
        process.send_signal(signal.SIGINT)
        finish(process)
    assert not any(open_ports.values()), f"Chromium processes listening on TCP: {open_ports}"
    assert len(main) == 1 and "--remote-debugging-pipe" in main[0], main
    assert not any(arg.startswith("--remote-debugging-port") for arg in main[0]), main
    wait_for_no_new_chromium(before)


@pytest.fixture
def short_tmp():
    """A private TMPDIR of a short path: Chromium's profile folder holds a Unix socket (at most 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="aura-t"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def folders(tmp: Path) -> list[str]:
    return sorted(path.name for path in tmp.iterdir() if path.name.startswith(("aura-chromium-", "aura-xvfb-")))


@pytest.mark.parametrize(("driver", "sig"), [("selenium", signal.SIGKILL), ("selenium", signal.SIGUSR1),
                                             ("playwright", signal.SIGKILL)])
def test_a_killed_login_leaves_no_private_folder_the_next_run_keeps(make_replica, short_tmp, tmp_path, driver, sig):
    tmp = short_tmp
    replica = make_replica(gate="challenge", challenge_delay=60)
    env = {"AURA_PROFILE_DIR": str(tmp_path / "profiles"), "TMPDIR": str(tmp)}
    before = chromium_pids()
    with cli_process("login", "--driver", driver, "--base-url", replica.url, env=env) as process:
        assert replica.stats.wait_until(lambda s: s.challenges_served >= 1, 60), "the browser never reached the gate"
        made = folders(tmp)
        process.send_signal(sig)
        finish(process)
    assert process.returncode == -sig
    wait_for_no_new_chromium(before)
    assert any(name.startswith("aura-xvfb-") for name in made), made  # the default mode: headed on our own Xvfb
    if driver == "selenium":
        assert any(name.startswith("aura-chromium-") for name in made), made

    # The next run of a browser removes what the dead one left (its folders, with the session's cookies).
    site = make_replica(gate="off")
    save_plain_profile(tmp_path / "profiles", site.url)
    result = run_cli("ask", "--driver", driver, "--transport", "page", "--base-url", site.url, "Hi", env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert not set(made) & set(folders(tmp)), folders(tmp)
    wait_for_no_new_chromium(before)
