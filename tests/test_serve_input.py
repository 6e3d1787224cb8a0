"""`aura-browser serve` on malformed requests: each is a 400 (or a 401), never a 500 with a logged traceback."""

import json
import signal
import socket

import pytest

from tests.support.cli import cli_process, finish
from tests.support.profiles import save_plain_profile

KEY = "s3cret-key-for-tests"
GOOD = json.dumps({"model": "openchat_3.6", "messages": [{"role": "user", "content": "Hi"}]}).encode()


def raw_request(port: int, body: bytes, *, content_type: bytes = b"application/json",
                authorization: bytes = b"Bearer " + KEY.encode()) -> tuple[int, dict]:
    """POST /v1/chat/completions as exact bytes (headers no HTTP library would send); the status and JSON body."""
    head = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: %s\r\n"
            b"Authorization: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
            % (port, content_type, authorization, len(body)))
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head + body)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    status_line, _, rest = reply.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


@pytest.mark.parametrize("body, content_type, authorization, status, phrase", [
    (b"[" * 100_000 + b"]" * 100_000, None, None, 400, "nested too deeply"),
    (GOOD, b"application/json; charset=bogus", None, 400, "unknown charset 'bogus'"),
    (b'{"model": "\\udfff", "messages": [{"role": "user", "content": "Hi"}]}', None, None, 400,
     "'model' is not valid UTF-8 text"),
    (b'{"model": "m", "messages": [{"role": ["user"], "content": "Hi"}]}', None, None, 400,
     "messages[0].role must be a string"),
    (b'{"model": "m", "messages": [{"role": {"a": 1}, "content": "Hi"}]}', None, None, 400,
     "messages[0].role must be a string"),
    (b'{"model": "m", "messages": [], "temperature": ' + b"9" * 5000 + b"}", None, None, 400,
     "the body holds a number longer than 4300 digits"),
    (GOOD, None, "Bearer sëcret".encode("latin-1"), 401, "Incorrect API key"),
    (GOOD, None, "Bearer sëcret".encode("utf-8"), 401, "Incorrect API key"),
], ids=["deep-nesting", "bogus-charset", "surrogate-model", "list-role", "object-role", "5000-digits", "latin-1-key",
        "utf-8-key"])
def test_malformed_requests_are_client_errors_not_internal_ones(make_replica, profile_dir, body, content_type,
                                                               authorization, status, phrase):
    replica = make_replica(gate="off")
    save_plain_profile(profile_dir, replica.url)
    env = {"AURA_PROFILE_DIR": str(profile_dir), "AURA_SERVE_API_KEY": KEY}
    with cli_process("serve", "--port", "0", "--base-url", replica.url, env=env) as process:
        line = process.stdout.readline().decode()
        assert " at http://127.0.0.1:" in line, line
        port = int(line.split(" at http://127.0.0.1:")[1].split("/")[0])
        options = {"content_type": content_type, "authorization": authorization}
        got_status, got = raw_request(port, body, **{k: v for k, v in options.items() if v is not None})
        assert raw_request(port, GOOD)[0] == 200  # and the server is still fine
        process.send_signal(signal.SIGINT)
        result = finish(process)
    assert (got_status, phrase in got["error"]["message"]) == (status, True), got
    assert result.returncode == 0
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert replica.stats.chat_requests == 1  # only the good request reached the site
