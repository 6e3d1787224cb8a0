"""`serve` answers only requests meant for it: raw HTTP with forged Host, Origin and Content-Type headers."""

import json
import socket
from urllib.parse import urlsplit

import pytest

from tests.support.cli import assert_one_line_error, run_cli
from tests.support.profiles import save_plain_profile
from tests.support.replies import answer

CHAT = json.dumps({"model": "openchat_3.6", "messages": [{"role": "user", "content": "Hi"}]}).encode()


def raw_request(base: str, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, dict, bytes]:
    """Send exactly these headers (Host included, as given) and return status, headers and body."""
    parts = urlsplit(base)
    lines = [f"{method} {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items()),
             f"Content-Length: {len(body)}", "Connection: close", "", ""]
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall("\r\n".join(lines).encode("latin-1") + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, payload = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    reply_headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), reply_headers, payload


@pytest.fixture
def server(make_replica, env, start_server):
    replica = make_replica(gate="off")
    save_plain_profile(env["AURA_PROFILE_DIR"], replica.url)
    base = start_server("--base-url", replica.url, "--allow-host", "proxy.example",
                        "--cors-origin", "https://ui.example")
    return replica, base, urlsplit(base).netloc


def test_a_foreign_host_is_refused_and_ours_are_answered(server):
    replica, base, netloc = server
    port = urlsplit(base).port
    json_type = {"Content-Type": "application/json"}
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", "evil@127.0.0.1",
                 "localhost/x"):
        status, _, body = raw_request(base, "POST", "/v1/chat/completions", {"Host": host, **json_type}, CHAT)
        assert status == 403 and json.loads(body)["error"]["code"] == "host_not_allowed", host
        status, _, _ = raw_request(base, "GET", "/v1/models", {"Host": host})
        assert status == 403, host  # a rebound name cannot read the answers either
    assert replica.stats.chat_requests == 0

    for host in (netloc, f"localhost:{port}", "LOCALHOST", f"[::1]:{port}", "proxy.example"):
        status, _, body = raw_request(base, "POST", "/v1/chat/completions", {"Host": host, **json_type}, CHAT)
        assert status == 200, (host, body)
        assert json.loads(body)["choices"][0]["message"]["content"] == answer("Hi")


def test_a_foreign_origin_is_refused_and_an_allowed_one_gets_cors_headers(server):
    replica, base, netloc = server
    headers = {"Host": netloc, "Content-Type": "application/json"}
    for origin in ("https://evil.example", "null", "http://localhost:1", "https://ui.example.evil.example"):
        status, _, body = raw_request(base, "POST", "/v1/chat/completions", {**headers, "Origin": origin}, CHAT)
        assert status == 403 and json.loads(body)["error"]["code"] == "origin_not_allowed", origin
        status, reply, _ = raw_request(base, "OPTIONS", "/v1/chat/completions",
                                       {"Host": netloc, "Origin": origin, "Access-Control-Request-Method": "POST"})
        assert status == 403 and "access-control-allow-origin" not in reply
    assert replica.stats.chat_requests == 0

    status, reply, _ = raw_request(base, "OPTIONS", "/v1/chat/completions",
                                   {"Host": netloc, "Origin": "https://ui.example",
                                    "Access-Control-Request-Method": "POST"})
    assert status == 204 and reply["access-control-allow-origin"] == "https://ui.example"
    assert "Content-Type" in reply["access-control-allow-headers"]
    status, reply, body = raw_request(base, "POST", "/v1/chat/completions",
                                      {**headers, "Origin": "https://ui.example"}, CHAT)
    assert status == 200 and reply["access-control-allow-origin"] == "https://ui.example"
    status, _, _ = raw_request(base, "POST", "/v1/chat/completions", {**headers, "Origin": f"http://{netloc}"}, CHAT)
    assert status == 200  # the server's own origin


def test_a_body_not_declared_json_is_refused(server):
    replica, base, netloc = server
    # What a page can POST cross-origin without a preflight, and a request with no type at all.
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = {"Host": netloc} if content_type is None else {"Host": netloc, "Content-Type": content_type}
        status, _, body = raw_request(base, "POST", "/v1/chat/completions", headers, CHAT)
        assert status == 415 and json.loads(body)["error"]["code"] == "unsupported_media_type", content_type
    assert replica.stats.chat_requests == 0
    status, _, _ = raw_request(base, "POST", "/v1/chat/completions",
                               {"Host": netloc, "Content-Type": "application/json; charset=utf-8"}, CHAT)
    assert status == 200


def test_a_bad_cors_origin_is_refused_at_start(env):
    result = run_cli("serve", "--port", "0", "--cors-origin", "ui.example/path", env=env, timeout=60)
    assert_one_line_error(result, 2, "--cors-origin", "http(s)://host[:port]")
