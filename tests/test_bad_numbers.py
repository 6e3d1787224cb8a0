"""Numbers and text that only look right (NaN, infinity, a string for a number, an argument that is not UTF-8)
are bad input: exit 2 on the command line, InvalidRequest in Python, before anything is sent."""

import math

import pytest

from aura_browser import AuraClient
from aura_browser.errors import InvalidRequest
from aura_browser.transports.base import Timeouts

from tests.support.cli import err, run_cli


@pytest.mark.parametrize("args, message", [
    (["ask", "--timeout", "nan", "Hi"], "Invalid value for '--timeout'"),
    (["ask", "--login-timeout", "nan", "Hi"], "Invalid value for '--login-timeout'"),
    (["ask", "--first-byte-timeout", "inf", "Hi"], "Invalid value for '--first-byte-timeout'"),
    (["login", "--timeout", "nan"], "Invalid value for '--timeout'"),
    (["login", "--login-timeout", "inf"], "Invalid value for '--login-timeout'"),
    (["ask", "--model", b"\xff", "Hi"], "not valid UTF-8"),
    (["batch", "-", "--model", b"caf\xe9"], "Invalid value for '--model'"),
])
def test_bad_numbers_and_non_utf8_options_exit_2_before_anything_is_sent(gateless_site, profile_dir, args, message):
    result = run_cli(*args, "--base-url", gateless_site.url, input=b'{"id": 1, "prompt": "Hi"}\n',
                     env={"AURA_PROFILE_DIR": str(profile_dir)})
    assert result.returncode == 2, err(result)
    assert message in err(result) and "Traceback" not in err(result)
    assert gateless_site.stats.chat_requests == 0


@pytest.mark.parametrize("options, message", [
    ({"temperature": "0.5"}, "temperature must be a number or None, not '0.5'"),
    ({"temperature": True}, "temperature must be a number"),
    ({"max_tokens": "100"}, "max_tokens must be an integer, not '100'"),
    ({"max_tokens": 10.5}, "max_tokens must be an integer"),
    ({"model": 3}, "the model must be a non-empty string"),
])
async def test_wrong_types_in_python_are_invalid_request(gateless_site, make_client, options, message):
    client = make_client(gateless_site.url)
    with pytest.raises(InvalidRequest, match=message):
        await client.ask("Hi", **options)
    assert gateless_site.stats.chat_requests == 0


@pytest.mark.parametrize("value", [-1, 0, math.nan, math.inf, "5", True, None])
@pytest.mark.parametrize("field", ["connect", "first_byte", "idle"])
def test_timeouts_must_be_positive_finite_seconds(field, value):
    with pytest.raises(InvalidRequest, match=f"Timeouts.{field} must be a positive number of seconds"):
        Timeouts(**{field: value})


def test_a_nan_login_timeout_is_refused_at_construction(profile_dir):
    with pytest.raises(InvalidRequest, match="login_timeout must be a positive number of seconds, not nan"):
        AuraClient("http://127.0.0.1:9", profile_dir=profile_dir, login_timeout=math.nan)


ZERO_TIMEOUTS = [("AURA_TIMEOUT", "--timeout"), ("AURA_FIRST_BYTE_TIMEOUT", "--first-byte-timeout"),
                 ("AURA_IDLE_TIMEOUT", "--idle-timeout"), ("AURA_LOGIN_TIMEOUT", "--login-timeout")]


@pytest.mark.parametrize("value", ["0", "0.01"])
@pytest.mark.parametrize("variable, option", ZERO_TIMEOUTS)
def test_a_timeout_below_the_least_is_refused_alike_by_the_cli_and_settings_from_env(variable, option, value):
    from aura_browser.settings import Settings

    least = "1" if variable == "AURA_LOGIN_TIMEOUT" else "0.1"
    rule = f"must be a positive number of seconds, not {float(value)!r} (the least allowed is {least})"
    with pytest.raises(InvalidRequest) as raised:
        Settings.from_env({variable: value})
    assert str(raised.value) == f"{variable} {rule}"
    result = run_cli("ask", "--base-url", "http://127.0.0.1:9", "Hi", env={variable: value})
    assert result.returncode == 2, err(result)
    assert f"Invalid value for '{option}'" in err(result) and rule in err(result)
    assert "Traceback" not in err(result)


def test_the_least_timeouts_are_the_same_in_python_and_on_the_command_line(profile_dir):
    from aura_browser.settings import Settings

    with pytest.raises(InvalidRequest, match=r"Timeouts.idle must be a positive number of seconds, not 0.05"):
        Timeouts(idle=0.05)
    with pytest.raises(InvalidRequest, match=r"login_timeout .* \(the least allowed is 1\)"):
        Settings(login_timeout=0.5)
    assert Settings.from_env({"AURA_TIMEOUT": "0.1", "AURA_LOGIN_TIMEOUT": "1"}).timeouts.idle == 0.1
