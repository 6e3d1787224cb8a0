"""The replica's control paths (`/__replica__/`) answer only this host's own clients, as `serve` does; and the
`replica` command fails to listen, or listens beyond loopback, as `serve` does: saying so."""

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from aura_browser.replica import ReplicaConfig, ReplicaServer

from tests.support.cli import assert_one_line_error, cli_process, finish, run_cli
from tests.test_serve_guard import raw_request

CHANGE = json.dumps({"chunk_size": 3}).encode()


@pytest.fixture
def replica():
    with ReplicaServer(ReplicaConfig()) as server:
        yield server


@pytest.mark.parametrize(("headers", "status"), [
    ({"Host": "evil.example", "Content-Type": "application/json"}, 403),  # DNS rebinding
    ({"Origin": "https://evil.example", "Content-Type": "application/json"}, 403),
    ({"Origin": "null", "Content-Type": "text/plain"}, 403),
    ({"Content-Type": "text/plain;charset=UTF-8"}, 415),  # what a page may POST without a preflight
    ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
])
def test_a_web_page_cannot_reconfigure_the_replica(replica, headers, status):
    host = replica.url.split("://")[1]
    answered, _, _ = raw_request(replica.url, "POST", "/__replica__/config", {"Host": host, **headers}, CHANGE)
    assert answered == status
    assert replica.config.chunk_size != 3


def test_its_own_clients_still_reconfigure_it_and_the_app_stays_open(replica):
    host = replica.url.split("://")[1]
    own = {"Host": host, "Origin": replica.url, "Content-Type": "application/json"}
    assert raw_request(replica.url, "POST", "/__replica__/config", own, CHANGE)[0] == 200
    assert replica.config.chunk_size == 3
    assert raw_request(replica.url, "GET", "/", {"Host": "other.example"})[0] == 200  # as the real site would


def test_replica_on_a_busy_port_says_it_cannot_listen_with_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("replica", "--port", str(port))
    assert_one_line_error(result, 2, f"cannot listen on 127.0.0.1:{port}")


def test_replica_beyond_loopback_warns_and_announces_the_address_it_listens_on():
    with cli_process("replica", "--port", "0", "--host", "0.0.0.0", env={}) as process:
        assert "the replica listens on 0.0.0.0, not on loopback" in process.stderr.readline().decode()
        assert "listening on http://0.0.0.0:" in process.stdout.readline().decode()
        process.send_signal(signal.SIGINT)
        assert finish(process).returncode == 0


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL])
def test_the_tls_replica_leaves_no_key_or_certificate_in_the_temp_folder(tmp_path, stop):
    process = subprocess.Popen([sys.executable, "-m", "aura_browser", "replica", "--port", "0", "--tls"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        assert "listening on https://127.0.0.1:" in process.stdout.readline().decode()
        assert list(tmp_path.iterdir()) == []  # the key was never written to a folder
    finally:
        process.send_signal(stop)
        finish(process)
    assert list(tmp_path.iterdir()) == []
