"""A remote session must not outlive us, even if we are killed with -9: a tiny process deletes it then.

The reaper is a separate Python process holding the read end of a pipe whose write end only we hold.
When we die, however we die, the kernel closes our end; the reaper reads end-of-file and sends
`DELETE /session/{id}`, which frees the Grid's slot (and closes its browser) at once, instead of after the
Grid's session timeout (300 s by default). A normal close tells it first that there is nothing to delete.
The session's URL (and the server's credentials, if any) go through the pipe, never on a command line.
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import sys
from urllib.parse import unquote, urlsplit, urlunsplit

# Runs in `python -I -S -c`: the standard library only, nothing of ours (nor the user's site-packages).
REAPER_CODE = r"""
import json, sys, urllib.request
order = json.loads(sys.stdin.readline() or "null")
rest = sys.stdin.read()
if order and "done" not in rest:
    request = urllib.request.Request(order["url"], method="DELETE", headers=order["headers"])
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except Exception:
        pass
"""


def session_order(server: str, session_id: str) -> dict[str, object]:
    """What the reaper is told: the session's URL without credentials, and the credentials as a header."""
    parts = urlsplit(server)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + f"/session/{session_id}", "", ""))
    headers: dict[str, str] = {}
    if parts.username:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    return {"url": url, "headers": headers}


class SessionReaper:
    """Deletes one remote WebDriver session when this process dies before `release()`."""

    def __init__(self, server: str, session_id: str) -> None:
        self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", REAPER_CODE],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C to our group is ours to handle; it must not stop the reaper first
        )
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(session_order(server, session_id)).encode() + b"\n")
        self._process.stdin.flush()

    def release(self) -> None:
        """The session is closed (or given up on) by us: the reaper exits without deleting anything."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            assert process.stdin is not None
            process.stdin.write(b"done\n")
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
