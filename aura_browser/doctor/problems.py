"""What went wrong, in the words a user acts on: one `Problem` per kind of failure, each with a fix.

`aura-browser doctor` and the pytest plugin's live smoke suite name every failure with these,
so a red CI run and a doctor table say the same thing about the same site.
"""

from __future__ import annotations

import enum

from ..errors import AuraError


class Problem(enum.Enum):
    UNREACHABLE = ("DNS or connection failure", "check the URL, DNS, the network and --proxy; for a self-signed "
                   "certificate pass --insecure")
    DISABLED = ("disabled deployment", "its owner switched it off; point --base-url at a deployment that is up")
    CHALLENGE = ("challenge never passed", "log in once with a visible browser (aura-browser login --headed), "
                 "or allow more time (--login-timeout)")
    BLOCKED = ("blocked by the gate", "use the in-page transport (--transport auto or page); if the browser is "
               "blocked too, log in again through the same proxy")
    NOT_THIS_APP = ("not this app (no /api/models)", "point --base-url at an OpenChat UI deployment")
    ERROR_REPLY = ("error reply", "the app answered with an error: check --model, or try again when its "
                   "upstream is back")
    TOO_LARGE = ("reply too large", "the site sent more than --max-reply-bytes (AURA_MAX_REPLY_BYTES) without "
                 "ending its reply; raise it only if its replies really are that long")
    TIMEOUT = ("no reply in time", "try again, or allow more time (--timeout)")
    BROKEN_STREAM = ("reply broke off", "try again; a proxy or the network dropped the connection")
    BROWSER = ("browser problem", "install Chromium (apt-get install chromium) or point --browser at one")
    PROFILE = ("unusable profile", "delete it (aura-browser profiles delete NAME) and log in again")
    PROFILE_BUSY = ("profile in use", "another aura-browser process (a login or a refresh) holds it; try again once "
                    "that has finished")
    LOGIN = ("login failed", "aura-browser login --base-url URL (add --headed to watch it)")
    USAGE = ("bad input", "")
    FILE = ("file cannot be used", "check the path, that its folder exists, and its permissions")
    CANNOT_LISTEN = ("cannot listen", "choose another --port (or --host), or stop what listens there")
    OTHER = ("unexpected error", "")

    def __init__(self, title: str, fix: str) -> None:
        self.title = title
        self.fix = fix


def problem_of(error: BaseException) -> Problem:
    """The problem each error class names (`AuraError.problem`); OTHER for anything that is not ours."""
    return Problem[error.problem] if isinstance(error, AuraError) else Problem.OTHER


def describe(error: BaseException) -> str:
    """`<problem>: <what happened>`, one line."""
    return f"{problem_of(error).title}: {error}"
