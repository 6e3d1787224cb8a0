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


@pytest.mark.parametrize("how", ["option", "variable"])
def test_a_login_timeout_longer_than_playwright_can_wait_is_refused_with_its_range(profile_dir, how):
    # Playwright waits at most 2**31-1 ms (24.8 days); 10 million seconds failed at once with "Timeout exceeded".
    args, env = (["--login-timeout", "10000000"], {}) if how == "option" else ([], {"AURA_LOGIN_TIMEOUT": "10000000"})
    result = run_cli("login", "--base-url", "http://127.0.0.1:1", *args, env={"AURA_PROFILE_DIR": str(profile_dir), **env})

    assert result.returncode == 2, err(result)
    assert "1<=x<=2073600" in err(result) and "Traceback" not in err(result)


def test_settings_refuse_a_login_timeout_longer_than_playwright_can_wait():
    from aura_browser.errors import InvalidRequest
    from aura_browser.settings import Settings

    assert Settings(login_timeout=2073600).login_timeout == 2073600
    with pytest.raises(InvalidRequest, match="login_timeout must be at most 2073600 seconds"):
        Settings(login_timeout=10_000_000)
