"""`--timeout` means seconds of silence in a reply; `login` names its own bound `--login-timeout`, as `ask` does.
`login --timeout` still works for old scripts, with a one-line warning."""

import pytest

from tests.support.cli import err, run_cli

DEPRECATION = "aura-browser: warning: login --timeout is deprecated; use --login-timeout"


@pytest.fixture
def slow_gate(make_replica):
    return make_replica(gate="challenge", challenge_delay=60)  # never lets a 2 s login through


def test_login_timeout_bounds_the_login(slow_gate, profile_dir):
    result = run_cli("login", "--base-url", slow_gate.url, "--login-timeout", "2",
                     env={"AURA_PROFILE_DIR": str(profile_dir)})

    assert result.returncode == 3, err(result)
    assert "the gate was not passed after 2s" in err(result)
    assert "deprecated" not in err(result)


def test_login_timeout_is_read_from_aura_login_timeout(slow_gate, profile_dir):
    result = run_cli("login", "--base-url", slow_gate.url,
                     env={"AURA_PROFILE_DIR": str(profile_dir), "AURA_LOGIN_TIMEOUT": "2"})

    assert result.returncode == 3, err(result)
    assert "the gate was not passed after 2s" in err(result)


def test_the_old_login_timeout_option_still_works_and_says_it_is_deprecated(slow_gate, profile_dir):
    result = run_cli("login", "--base-url", slow_gate.url, "--timeout", "2", env={"AURA_PROFILE_DIR": str(profile_dir)})

    assert result.returncode == 3, err(result)
    lines = err(result).strip().splitlines()
    assert lines[0].startswith(DEPRECATION) and len(lines) == 2, err(result)
    assert "the gate was not passed after 2s" in lines[1]


def test_an_explicit_login_timeout_wins_over_the_old_option(slow_gate, profile_dir):
    result = run_cli("login", "--base-url", slow_gate.url, "--timeout", "300", "--login-timeout", "2",
                     env={"AURA_PROFILE_DIR": str(profile_dir)})

    assert result.returncode == 3, err(result)
    assert "the gate was not passed after 2s" in err(result)


def test_help_shows_login_timeout_and_hides_the_old_name():
    result = run_cli("login", "--help")

    assert result.returncode == 0
    assert "--login-timeout" in result.stdout.decode()
    assert "--timeout" not in result.stdout.decode().replace("--login-timeout", "")
