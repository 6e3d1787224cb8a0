"""The Cloudflare-like gate: the cf_clearance cookie, the challenge page, its solve endpoint, and the middleware.

A clearance is `{expiry}.{hmac}` with hmac = HMAC-SHA256(secret, f"{expiry}|{User-Agent}"), so it is bound to the
user agent it was issued to. The challenge page carries a signed nonce and its issue time; only a client that ran
the page's script, and waited `challenge_delay`, can answer it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .fingerprint import admitted
from .interstitial import PLEASE_WAIT, interstitial_page
from .state import STATE, ReplicaState

SOLVE_PATH = "/cdn-cgi/challenge-platform/h/b/solve"
CLEARANCE_COOKIE = "cf_clearance"
BM_COOKIE = "__cf_bm"
_NONCE_LIFETIME_MS = 10 * 60 * 1000


def mint_clearance(secret: bytes, user_agent: str, expiry: int) -> str:
    return f"{expiry}.{sign(secret, f'{expiry}|{user_agent}')}"


def clearance_valid(value: str, user_agent: str, secret: bytes, now: float | None = None) -> bool:
    expiry, _, mac = value.partition(".")
    if not expiry.isdigit() or int(expiry) <= (time.time() if now is None else now):
        return False
    return hmac.compare_digest(mac, sign(secret, f"{expiry}|{user_agent}"))


def sign(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


def signature_matches(mac: str, secret: bytes, message: str) -> bool:
    return hmac.compare_digest(mac, sign(secret, message))


def _expected_answer(nonce: str) -> str:
    return nonce[::-1]


def gate_middleware(exempt_prefix: str) -> Middleware:
    """The gate in front of every path except those under `exempt_prefix`."""

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        state = request.app[STATE]
        mode = state.config.gate
        if mode == "off" or request.path.startswith(exempt_prefix):
            return await handler(request)
        if mode == "botcheck":
            from . import botcheck

            return await botcheck.gate(request, handler, state)
        if mode == "interactive":
            from . import interactive

            return await interactive.gate(request, handler, state)
        if mode == "strict" and not _browser_connection(request, state):
            # A fingerprint block: no cookie helps, and the page's solve request is blocked the same way.
            state.stats.bump("tls_blocked")
            return challenge_response(state)
        if request.path == SOLVE_PATH or has_clearance(request, state):
            return await handler(request)
        state.stats.bump("challenges_served")
        return challenge_response(state)

    return gate


def _browser_connection(request: web.Request, state: ReplicaState) -> bool:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return admitted(state.hello_for(tuple(peer[:2]) if peer else None), state.config.tls_allow)


def has_clearance(request: web.Request, state: ReplicaState) -> bool:
    value = request.cookies.get(CLEARANCE_COOKIE)
    return value is not None and clearance_valid(value, request.headers.get("User-Agent", ""), state.clearance_secret)


async def solve(request: web.Request) -> web.Response:
    """POST /cdn-cgi/challenge-platform/h/b/solve: check the page's answer, then issue the cookies."""
    state = request.app[STATE]
    try:
        answer = await request.json()
        reply = answer["answer"]
    except (ValueError, TypeError, KeyError):
        return web.Response(status=400, text="bad challenge answer")
    if not (answer_valid(state, answer) and reply == _expected_answer(answer["nonce"])):
        return web.Response(status=403, text="challenge failed")
    return issue_clearance(request, state)


def answer_valid(state: ReplicaState, answer: object) -> bool:
    """Whether `answer` carries a nonce this replica signed, old enough (challenge_delay) and not expired."""
    try:
        nonce, issued, sig = (answer[k] for k in ("nonce", "issued", "sig"))  # type: ignore[index]
        issued = int(issued)
    except (ValueError, TypeError, KeyError, OverflowError):
        return False
    age_ms = time.time() * 1000 - issued
    return (
        isinstance(nonce, str)
        and hmac.compare_digest(str(sig), sign(state.nonce_secret, f"{nonce}|{issued}"))
        and state.config.challenge_delay * 1000 <= age_ms <= _NONCE_LIFETIME_MS
    )


def issue_clearance(request: web.Request, state: ReplicaState) -> web.Response:
    """The reply that sets cf_clearance (bound to this User-Agent) and __cf_bm."""
    ttl = state.config.cookie_ttl
    value = mint_clearance(state.clearance_secret, request.headers.get("User-Agent", ""), int(time.time() + ttl))
    response = web.json_response({"success": True})
    same_site = {"secure": True, "samesite": "None"} if request.secure else {"samesite": "Lax"}
    response.set_cookie(CLEARANCE_COOKIE, value, path="/", httponly=True, max_age=int(ttl), **same_site)
    bm = secrets.token_urlsafe(32)
    response.set_cookie(BM_COOKIE, bm, path="/", httponly=True, max_age=1800, **same_site)
    state.stats.record_issued(value, bm)
    state.stats.bump("clearances_issued")
    return response


def new_nonce(state: ReplicaState) -> dict[str, object]:
    """A signed nonce and its issue time, for a challenge page to send back."""
    nonce = secrets.token_hex(16)
    issued = int(time.time() * 1000)
    return {"nonce": nonce, "issued": issued, "sig": sign(state.nonce_secret, f"{nonce}|{issued}")}


def challenge_response(state: ReplicaState) -> web.Response:
    challenge = {
        **new_nonce(state),
        "delay": state.config.challenge_delay,
        "solve": SOLVE_PATH,
    }
    return web.Response(
        status=403,
        body=_PAGE.replace("__CHALLENGE__", json.dumps(challenge)).encode("utf-8"),
        headers={
            "Content-Type": "text/html; charset=UTF-8",
            "Cache-Control": "no-store",
            "cf-mitigated": "challenge",
        },
    )


_NO_SCRIPT = '<noscript><div id="challenge-error-title">Enable JavaScript and cookies to continue</div></noscript>\n'
_PAGE = interstitial_page(no_js=True, after_stage=PLEASE_WAIT + _NO_SCRIPT, script="""<script>
(function () {
  var c = __CHALLENGE__;
  document.body.classList.remove("no-js");
  setTimeout(function () {
    var answer = c.nonce.split("").reverse().join("");
    fetch(c.solve, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      credentials: "same-origin",
      body: JSON.stringify({nonce: c.nonce, issued: c.issued, sig: c.sig, answer: answer})
    }).then(function (r) {
      if (r.ok) { location.reload(); return; }
      document.getElementById("challenge-running").textContent = "Verification failed";
    });
  }, c.delay * 1000);
})();
</script>
""")
