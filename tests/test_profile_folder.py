"""What aura-browser writes into the profile folder goes there, not through a link planted in it."""

import os
import stat

from tests.cli_checks import assert_one_line_error
from tests.conftest import run_cli

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

    result = run_cli("login", "--base-url", replica.url, "--timeout", "2", env={"AURA_PROFILE_DIR": str(profile_dir)})

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
