"""Every exception aura-browser raises.

aiohttp, Playwright and Selenium errors are translated into these where the transports
and drivers call those libraries; none of theirs leaks past that boundary.
The CLI maps each class to one exit code (see `exit_code_for`).
"""

from __future__ import annotations

from .redaction import printable


class AuraError(Exception):
    """Base class of every aura-browser error."""

    def __str__(self) -> str:
        # Messages quote URLs (a proxy, an endpoint, a library's own error text) that may carry secrets, and
        # text from sites that may carry escape sequences; every message passes here, wherever it goes.
        return printable(super().__str__())


class InvalidRequest(AuraError, ValueError):
    """The caller's input is unusable (empty prompt, temperature out of range, bad role)."""


class WrongEventLoop(InvalidRequest):
    """A client was used from an event loop (or thread) other than the one it first ran in."""


# --- the profile and the gate ------------------------------------------------------------


class LoginRequired(AuraError):
    """No usable profile: none saved, expired, captured elsewhere, or login failed."""


class GateNotPassed(LoginRequired):
    """The browser waited its whole login timeout and the gate's challenge never let it through."""


class ProfileError(LoginRequired):
    """A profile file is corrupt, foreign, or unreadable."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"profile {path}: {problem}")
        self.path = path
        self.problem = problem


class Blocked(AuraError):
    """The gate in front of the site refused us (challenge or block page)."""


# --- the site's replies -------------------------------------------------------------------


class SiteError(AuraError):
    """The site answered with an error status (the app's `500 Error`, a 404 ...)."""

    def __init__(self, status: int, reason: str = "", detail: str = "") -> None:
        message = f"site error {status}"
        if reason:
            message += f" {reason}"
        if detail:
            message += f": {detail}"
        super().__init__(message)
        self.status = status
        self.reason = reason


class NotThisApp(SiteError):
    """The site answers, but it is not an OpenChat UI deployment."""


class Redirected(NotThisApp):
    """The chat or model API answered with a redirect. It is never followed: that would resend the prompt."""

    def __init__(self, url: str, status: int, target: str | None) -> None:
        super().__init__(status)
        what = f"{status}, a redirect to {target}" if target else "a redirect (the browser does not say to where)"
        self.args = (f"{url} answered {what}; aura-browser never follows a redirect of the site's API, "
                     "which would send the prompt elsewhere",)


# --- the network --------------------------------------------------------------------------


class NetworkError(AuraError):
    """The connection failed, stalled or broke."""


class SiteDown(NetworkError):
    """The site cannot be reached, or its deployment is disabled."""


class DeploymentDisabled(SiteDown):
    """The deployment is switched off by its owner ("This Deployment has been disabled")."""


class ResponseTimeout(NetworkError):
    """No first byte, or no next chunk, within the configured timeout."""


class StreamInterrupted(NetworkError):
    """The reply broke off after part of it had arrived; `partial_text` holds that part."""

    def __init__(self, message: str, partial_text: str) -> None:
        super().__init__(message)
        self.partial_text = partial_text


# --- the browser --------------------------------------------------------------------------


class BrowserError(AuraError):
    """The browser is missing, failed to start, crashed, or was closed under us."""


# --- the command line's own input and output ----------------------------------------------


class OutputError(AuraError):
    """Output cannot be written: stdout closed, full or gone (a broken pipe), or a file that stopped taking writes."""

    def __init__(self, message: str, *, broken_pipe: bool = False) -> None:
        super().__init__(message)
        self.broken_pipe = broken_pipe  # the reader left (`| head`): nothing to say about it


EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (InvalidRequest, 2),
    (LoginRequired, 3),
    (Blocked, 4),
    (SiteError, 5),
    (NetworkError, 6),
    (BrowserError, 7),
    (AuraError, 1),
)


def exit_code_for(error: BaseException) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(error, cls):
            return code
    return 1
