"""Every exception aura-browser raises, and what each one leads to.

aiohttp, Playwright and Selenium errors are translated into these where the transports
and drivers call those libraries; none of theirs leaks past that boundary.

Each class owns its outcomes, as click's exceptions own `exit_code`; a subclass inherits its parent's:
- `exit_code`: what the CLI exits with (README's exit-code table);
- `problem`: the name of the `doctor` problem (`aura_browser.doctor.problems.Problem`) that says how to fix it;
- `http_status` and `api_code`: what `serve` answers, as an OpenAI error object's status and `code`;
- `stops_batch`: whether `batch` stops the run (a failure of the environment) rather than write an error
  record for the item and go on.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .redaction import printable


def named(option: str, value: Any = None) -> str:
    """An option as a Python caller and the command line both name it, for an error either may read (the CLI's
    flag is the option's name, dashed):
    `named("transport", "page") == "transport='page' (--transport page)"`, `named("headless", True) ==
    "headless=True (--headless)"`, `named("profile_dir") == "profile_dir (--profile-dir)"`."""
    flag = "--" + option.replace("_", "-")
    if value is None:
        return f"{option} ({flag})"
    return f"{option}={value!r} ({flag})" if value is True else f"{option}={value!r} ({flag} {value})"


class AuraError(Exception):
    """Base class of every aura-browser error."""

    exit_code: ClassVar[int] = 1
    problem: ClassVar[str] = "OTHER"
    http_status: ClassVar[int] = 500
    api_code: ClassVar[str] = "internal_error"
    stops_batch: ClassVar[bool] = False

    def __str__(self) -> str:
        # Messages quote URLs (a proxy, an endpoint, a library's own error text) that may carry secrets, and
        # text from sites that may carry escape sequences; every message passes here, wherever it goes.
        return printable(super().__str__())


class InvalidRequest(AuraError, ValueError):
    """The caller's input is unusable (empty prompt, temperature out of range, bad role)."""

    exit_code = 2
    problem = "USAGE"
    http_status = 400
    api_code = "invalid_request"


# --- misuse of the Python API: a bug of the caller, never the user's input ---------------


class WrongEventLoop(AuraError, RuntimeError):
    """Async work was asked of a loop that cannot run it: a client used from an event loop (or thread) other than
    the one it first ran in, a blocking call made inside a running loop, a Playwright async-API Page given to a
    blocking call."""


class ClientClosed(AuraError, ValueError):
    """The `AuraClient` was used after `close()` (a ValueError, as Python's closed files raise)."""

    http_status = 503
    api_code = "client_closed"
    stops_batch = True  # every item would fail alike


# --- the profile and the gate ------------------------------------------------------------


class LoginRequired(AuraError):
    """No usable profile: none saved, expired, captured elsewhere, or login failed."""

    exit_code = 3
    problem = "LOGIN"
    http_status = 503
    api_code = "login_required"
    stops_batch = True


class GateNotPassed(LoginRequired):
    """The browser waited its whole login timeout and the gate's challenge never let it through."""

    problem = "CHALLENGE"


class ProfileError(LoginRequired):
    """A profile file is corrupt, foreign, or unreadable."""

    problem = "PROFILE"

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"profile {path}: {detail}")
        self.path = path
        self.detail = detail


class ProfileBusy(ProfileError):
    """Another aura-browser process (a login or a refresh) holds the profile's lock: it is fine, just in use."""

    problem = "PROFILE_BUSY"
    api_code = "profile_busy"


class Blocked(AuraError):
    """The gate in front of the site refused us (challenge or block page)."""

    exit_code = 4
    problem = "BLOCKED"
    http_status = 503
    api_code = "blocked"
    stops_batch = True


# --- the site's replies -------------------------------------------------------------------


class SiteError(AuraError):
    """The site answered with an error status (the app's `500 Error`, a 404 ...)."""

    exit_code = 5
    problem = "ERROR_REPLY"
    http_status = 502
    api_code = "site_error"

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

    problem = "NOT_THIS_APP"
    api_code = "not_openchat_ui"
    stops_batch = True


class Redirected(NotThisApp):
    """The chat or model API answered with a redirect. It is never followed: that would resend the prompt."""

    def __init__(self, url: str, status: int, target: str | None) -> None:
        super().__init__(status)
        what = f"{status}, a redirect to {target}" if target else "a redirect (the browser does not say to where)"
        self.args = (f"{url} answered {what}; aura-browser never follows a redirect of the site's API, "
                     "which would send the prompt elsewhere",)


class ReplyTooLarge(AuraError):
    """The reply grew past the most aura-browser keeps of one reply in memory (`Settings.max_reply_bytes`,
    `--max-reply-bytes`, AURA_MAX_REPLY_BYTES): a site that never ends its reply, or a compression bomb.
    `partial_text` holds what arrived before the cap."""

    exit_code = 5
    problem = "TOO_LARGE"
    http_status = 502
    api_code = "reply_too_large"

    def __init__(self, message: str, partial_text: str = "") -> None:
        super().__init__(message)
        self.partial_text = partial_text


# --- the network --------------------------------------------------------------------------


class NetworkError(AuraError):
    """The connection failed, stalled or broke."""

    exit_code = 6
    problem = "UNREACHABLE"  # SiteDown, TLS failures: the site could not be talked to
    http_status = 502
    api_code = "network_error"


class SiteDown(NetworkError):
    """The site cannot be reached, or its deployment is disabled."""

    stops_batch = True


class DeploymentDisabled(SiteDown):
    """The deployment is switched off by its owner ("This Deployment has been disabled")."""

    problem = "DISABLED"


class ResponseTimeout(NetworkError, TimeoutError):
    """No first byte, or no next chunk, within the configured timeout."""

    problem = "TIMEOUT"
    http_status = 504
    api_code = "timeout"


class StreamInterrupted(NetworkError):
    """The reply broke off after part of it had arrived; `partial_text` holds that part."""

    problem = "BROKEN_STREAM"

    def __init__(self, message: str, partial_text: str) -> None:
        super().__init__(message)
        self.partial_text = partial_text


# --- the browser --------------------------------------------------------------------------


class BrowserError(AuraError):
    """The browser is missing, failed to start, crashed, or was closed under us."""

    exit_code = 7
    problem = "BROWSER"
    http_status = 500
    api_code = "browser_error"
    stops_batch = True


# --- the command line's own input and output ----------------------------------------------


class FileUnusable(AuraError):
    """A file named on the command line cannot be opened, read or created (a missing folder, no permission).

    Exit 2, as click's own "Could not open file" is: the path given is the thing to change.
    """

    exit_code = 2
    problem = "FILE"


class CannotListen(AuraError):
    """`serve` or `replica` cannot listen on its host and port: in use, privileged, or an address not of this host."""

    exit_code = 2
    problem = "CANNOT_LISTEN"


class OutputError(AuraError):
    """Output cannot be written: stdout closed, full or gone (a broken pipe), or a file that stopped taking writes."""

    stops_batch = True

    def __init__(self, message: str, *, broken_pipe: bool = False) -> None:
        super().__init__(message)
        self.broken_pipe = broken_pipe  # the reader left (`| head`): nothing to say about it


# The one exit code that is not an error's: a batch run that finished, with at least one record carrying an error.
BATCH_ITEMS_FAILED = 8


def exit_code_for(error: BaseException) -> int:
    """The CLI's exit code for `error`: its class's, or 1 for anything that is not ours."""
    return error.exit_code if isinstance(error, AuraError) else 1
