"""A profile file that is valid JSON but hostile or damaged is refused by name (exit 3), never a TypeError."""

import json
import math

import pytest

from tests.support.cli import assert_one_line_error, out, run_cli
from tests.support.profiles import save_plain_profile


def cookie(**fields):
    return {"name": "cf_clearance", "value": "v", "domain": "127.0.0.1", "path": "/", "expires": -1, **fields}


def with_cookie(**fields):
    return {"storage_state": {"cookies": [cookie(**fields)], "origins": []}}


HOSTILE = {
    "base_url a number": {"base_url": 5},
    "base_url not http": {"base_url": "ftp://127.0.0.1"},
    "user_agent a list": {"user_agent": ["Mozilla"]},
    "user_agent with CRLF": {"user_agent": "Mozilla/5.0\r\nX-Injected: 1"},
    "headers a list": {"headers": [1]},
    "a header value a number": {"headers": {"accept": 1}},
    "a header value with CRLF": {"headers": {"accept": "*/*\r\nX-Injected: 1"}},
    "a header name with a space": {"headers": {"bad name": "v"}},
    "storage_state a list": {"storage_state": []},
    "cookies an object": {"storage_state": {"cookies": {}, "origins": []}},
    "a cookie a number": {"storage_state": {"cookies": [1], "origins": []}},
    "a cookie without name": {"storage_state": {"cookies": [{"value": "v", "domain": "127.0.0.1"}], "origins": []}},
    "a cookie value with CRLF": with_cookie(value="v\r\nX-Injected: 1"),
    "a cookie expiring at NaN": with_cookie(expires=math.nan),
    "a cookie with a bogus sameSite": with_cookie(sameSite="Sometimes"),
    "captured_at NaN": {"captured_at": math.nan},
    "gate_expires_at a string": {"gate_expires_at": "soon"},
    "direct_blocked_until Infinity": {"direct_blocked_until": math.inf},
    "proxy a number": {"proxy": 7},
    "a localStorage item without name": {"storage_state": {"cookies": [], "origins": [
        {"origin": "http://127.0.0.1", "localStorage": [{"value": "sk-x"}]}]}},
    "header_order an object": {"header_order": {"Accept": 1}},
    "a header_order name with CRLF": {"header_order": ["Accept\r\nX-Injected: 1"]},
    "models a string": {"models": "openchat_3.6"},
    "a model without id": {"models": [{"name": "OpenChat"}]},
    "transport_tier a number": {"transport_tier": 2},
    "captured_at 1e300": {"captured_at": 1e300},
    "gate_expires_at -1e300": {"gate_expires_at": -1e300},
    "a cookie expiring in the year 1e300": with_cookie(expires=1e300),
    "a lone-surrogate apiKey": {"storage_state": {"cookies": [], "origins": [
        {"origin": "http://127.0.0.1", "localStorage": [{"name": "apiKey", "value": "sk-\udfff"}]}]}},
    "an apiKey nested 100k deep": {"storage_state": {"cookies": [], "origins": [
        {"origin": "http://127.0.0.1", "localStorage": [{"name": "apiKey", "value": "[" * 100_000 + "]" * 100_000}]}]}},
}
# Files that Python's json cannot even read into values: too deep for its recursion, a number too long to convert.
UNREADABLE = {
    "nested 100k deep": '{"format": "aura-browser-profile", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "a 5000-digit number": '{"format": "aura-browser-profile", "captured_at": ' + "9" * 5000 + "}",
}


def spoil(profile_dir, changes):
    path = profile_dir / "default.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))  # json writes NaN and Infinity as Python's json reads them
    return path


@pytest.fixture
def site(make_replica, profile_dir):
    replica = make_replica(gate="off")
    save_plain_profile(profile_dir, replica.url)
    return replica, {"AURA_PROFILE_DIR": str(profile_dir), "AURA_BASE_URL": replica.url}


@pytest.mark.parametrize("changes", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_profile_is_refused_naming_its_path_and_what_is_wrong(site, profile_dir, changes):
    replica, env = site
    path = spoil(profile_dir, changes)
    member = next(iter(changes))
    for args in (["ask", "--transport", "direct", "Hi"], ["profiles", "show", "default"]):
        line = assert_one_line_error(run_cli(*args, env=env), 3, str(path), "damaged", member)
        assert "X-Injected" not in line
    assert replica.stats.chat_requests == 0


def test_profiles_list_reports_each_bad_file_and_goes_on(site, profile_dir):
    replica, env = site
    good = (profile_dir / "default.json").read_text()
    for index, changes in enumerate(HOSTILE.values()):
        data = json.loads(good)
        data.update(changes)
        (profile_dir / f"bad{index:02}.json").write_text(json.dumps(data))
    (profile_dir / "zz-good.json").write_text(good)

    result = run_cli("profiles", "list", env=env)
    assert result.returncode == 0, result.stderr.decode()
    header, *lines = out(result).splitlines()
    assert header == "NAME\tSITE\tCAPTURED\tGATE COOKIE"
    assert len(lines) == len(HOSTILE) + 2
    assert all("unreadable" in line and "damaged" in line for line in lines if line.startswith("bad"))
    assert lines[-1].startswith("zz-good\t" + replica.url)


def test_login_replaces_a_profile_whose_local_storage_item_lacks_a_name(site, profile_dir):
    replica, env = site
    spoil(profile_dir, {"storage_state": {"cookies": [], "origins": [
        {"origin": replica.url, "localStorage": [{"value": "sk-x"}]}]}})
    assert run_cli("login", env=env).returncode == 0
    result = run_cli("ask", "--transport", "direct", "Hi", env=env)
    assert result.returncode == 0, result.stderr.decode()


@pytest.mark.parametrize("text", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_a_profile_python_cannot_read_is_refused_by_name_and_listed_as_unreadable(site, profile_dir, text):
    replica, env = site
    path = profile_dir / "default.json"
    (profile_dir / "zz-good.json").write_text(path.read_text())
    path.write_text(text)
    for args in (["ask", "--transport", "direct", "Hi"], ["profiles", "show", "default"]):
        assert_one_line_error(run_cli(*args, env=env), 3, str(path), "damaged")
    listed = run_cli("profiles", "list", env=env)
    assert listed.returncode == 0, listed.stderr.decode()
    rows = {line.split("\t", 1)[0]: line for line in out(listed).splitlines()}
    assert rows["default"].startswith("default\tunreadable: ") and "zz-good" in rows
    assert replica.stats.chat_requests == 0


@pytest.mark.parametrize("hostile", ["nested 100k deep", "captured_at 1e300"])
def test_login_replaces_a_profile_python_could_not_read(site, profile_dir, hostile):
    replica, env = site
    if hostile in UNREADABLE:
        (profile_dir / "default.json").write_text(UNREADABLE[hostile])
    else:
        spoil(profile_dir, HOSTILE[hostile])
    login = run_cli("login", env=env)
    assert login.returncode == 0, login.stderr.decode()
    result = run_cli("ask", "--transport", "direct", "Hi", env=env)
    assert result.returncode == 0, result.stderr.decode()
