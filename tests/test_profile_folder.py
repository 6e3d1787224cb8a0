"""The profile folder is the user's alone: nothing is written through a link planted in it, and a folder or
file that another user owns, or that group or others can write, is refused (as ssh does)."""

import asyncio
import os
import stat

import pytest

from aura_browser.profile import ProfileStore

from tests.support.cli import assert_one_line_error, run_cli
from tests.support.profiles import save_plain_profile

PRECIOUS = b"the user's own file\n"


def planted_link(profile_dir, name, target):
    profile_dir.mkdir(mode=0o700, exist_ok=True)
    link = profile_dir / name
    link.symlink_to(target)
    return link


def test_a_failed_login_screenshot_replaces_a_planted_link_instead_of_writing_through_it(make_replica, profile_dir,
                                                                                          tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(PRECIOUS)
    victim.chmod(0o644)
    link = planted_link(profile_dir, "default.failed-login.png", victim)
    replica = make_replica(gate="challenge", challenge_delay=60)

    result = run_cli("login", "--base-url", replica.url, "--login-timeout", "2", env={"AURA_PROFILE_DIR": str(profile_dir)})

    assert result.returncode == 3, result.stderr.decode()
    assert victim.read_bytes() == PRECIOUS and stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert not link.is_symlink() and link.read_bytes().startswith(b"\x89PNG")
    assert stat.S_IMODE(link.stat().st_mode) == 0o600
    assert not [p for p in profile_dir.iterdir() if p.name.endswith(".tmp")]


def test_a_link_planted_as_the_lock_file_is_refused_and_creates_nothing(make_replica, profile_dir, tmp_path):
    target = tmp_path / "made-by-the-link"
    planted_link(profile_dir, "default.lock", target)
    replica = make_replica(gate="off")

    result = run_cli("login", "--base-url", replica.url, env={"AURA_PROFILE_DIR": str(profile_dir)})

    assert_one_line_error(result, 3, str(profile_dir / "default.lock"), "symbolic link")
    assert not os.path.lexists(target)
    assert not (profile_dir / "default.json").exists()


@pytest.fixture
def saved(make_replica, profile_dir):
    replica = make_replica(gate="off")
    save_plain_profile(profile_dir, replica.url)
    return replica, {"AURA_PROFILE_DIR": str(profile_dir), "AURA_BASE_URL": replica.url}


def test_a_profile_file_or_folder_others_can_write_is_refused_on_every_load(saved, profile_dir):
    replica, env = saved
    assert run_cli("ask", "--transport", "direct", "Hi", env=env).returncode == 0
    path = profile_dir / "default.json"
    for target, mode, phrase in ((path, 0o620, "writable by group"), (path, 0o602, "writable by others"),
                                 (profile_dir, 0o770, "writable by group"), (profile_dir, 0o703, "writable by others")):
        before = stat.S_IMODE(target.stat().st_mode)
        target.chmod(mode)
        for args in (["ask", "--transport", "direct", "Hi"], ["profiles", "show", "default"]):
            assert_one_line_error(run_cli(*args, env=env), 3, str(target), phrase)
        target.chmod(before)
    assert replica.stats.chat_requests == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user takes root")
def test_a_profile_file_or_folder_owned_by_another_user_is_refused(saved, profile_dir):
    replica, env = saved
    path = profile_dir / "default.json"
    for target in (profile_dir, path):
        os.chown(target, 54321, -1)
        assert_one_line_error(run_cli("ask", "--transport", "direct", "Hi", env=env), 3, str(target),
                              "owned by another user (uid 54321)")
        if target == profile_dir:  # nothing is saved into a folder someone else owns
            assert_one_line_error(run_cli("login", env=env), 3, str(profile_dir), "owned by another user")
            os.chown(profile_dir, 0, -1)
    assert replica.stats.chat_requests == 0
    # A file of theirs in the user's own folder is not used, but a login replaces it.
    assert path.stat().st_uid == 54321
    assert run_cli("login", env=env).returncode == 0
    assert path.stat().st_uid == 0 and run_cli("ask", "--transport", "direct", "Hi", env=env).returncode == 0


async def test_profiles_delete_never_deletes_a_profile_whose_lock_is_held(saved, profile_dir):
    replica, env = saved
    store = ProfileStore(profile_dir)
    path, lock = profile_dir / "default.json", profile_dir / "default.lock"
    async with store.lock("default"):  # what a login or refresh in another process holds
        result = await asyncio.to_thread(run_cli, "profiles", "delete", "default", env=env)
        assert_one_line_error(result, 3, str(path), "in use")
        assert path.exists() and lock.exists()
    result = run_cli("profiles", "delete", "default", env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert not path.exists() and not lock.exists()
    # A lock file deleted under a waiter is not the lock any more: the next holder takes the new one.
    async with store.lock("default"):
        assert lock.exists()


@pytest.mark.parametrize(("mode", "phrase"), [(0o755, "open to other users"), (0o750, "open to other users"),
                                              (0o1777, "writable by group and others")])
def test_an_existing_folder_open_to_others_is_refused_and_left_as_it_was(tmp_path, mode, phrase):
    # `--profile-dir /tmp` or `--profile-dir .` once chmodded the folder to 0700, locking everyone else out.
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    (shared / "colleague.txt").write_bytes(PRECIOUS)

    result = run_cli("login", "--profile-dir", str(shared), "--base-url", "http://127.0.0.1:1")

    assert_one_line_error(result, 3, str(shared), phrase)
    assert stat.S_IMODE(shared.stat().st_mode) == mode
    assert sorted(path.name for path in shared.iterdir()) == ["colleague.txt"]


def test_a_profile_dir_that_does_not_exist_is_made_private_and_used(make_replica, tmp_path):
    replica = make_replica(gate="off")
    folder = tmp_path / "new" / "profiles"
    save_plain_profile(folder, replica.url)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    result = run_cli("ask", "--transport", "direct", "--profile-dir", str(folder), "--base-url", replica.url, "Hi")
    assert result.returncode == 0, result.stderr
