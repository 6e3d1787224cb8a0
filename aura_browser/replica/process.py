"""The replica in its own process (`aura-browser replica`), steered through its admin endpoint.

For measurements of the client alone (soak, benchmarks): the replica's sockets, memory and CPU are
then not counted as the client's.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import urllib.request
from typing import Any


class ReplicaProcess:
    def __init__(self, gate: str = "off", challenge_delay: float = 0.2, tls: bool = False) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aura_browser", "replica", "--port", "0", "--gate", gate,
             "--challenge-delay", str(challenge_delay), *(["--tls"] if tls else [])],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        line = self.process.stdout.readline()  # type: ignore[union-attr]
        if "listening on" not in line:
            self.close()
            raise RuntimeError(f"the replica did not start: {line!r}")
        self.url = line.split("listening on ")[1].split()[0]

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change knobs of the running replica (ReplicaConfig fields); returns the whole config."""
        request = urllib.request.Request(
            self.url + "/__replica__/config", data=json.dumps(changes).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10, context=self._tls) as response:
            config: dict[str, Any] = json.loads(response.read())
        return config

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/__replica__/stats", timeout=10, context=self._tls) as response:
            stats: dict[str, Any] = json.loads(response.read())
        return stats

    @property
    def _tls(self) -> ssl.SSLContext | None:
        """The replica's own self-signed certificate (a strict gate serves HTTPS) is not checked."""
        if not self.url.startswith("https:"):
            return None
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> "ReplicaProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
