"""The `interactive` gate: Turnstile's checkbox, which a person clicks (see /work/shared/DESIGN.md, "The
interactive challenge").

The challenge page holds the widget: an iframe served by a second listener of the replica under another host
name (the page on 127.0.0.1, the widget on localhost, or the other way round), so it is cross-site, as
challenges.cloudflare.com is to the site. The widget draws itself in a closed shadow root, shows "Verifying..."
for `interactive_delay` seconds, then a checkbox. It records the pointer events it sees and, on a click of the
checkbox, posts them to VERIFY_PATH; this module judges them (CHECKS). A pass earns a token, which the widget
hands to the page (postMessage); the page posts it to SOLVE_PATH and gets the clearance cookie. A fail shows
"Verification failed" and a Retry button, and the failing checks go to the replica's log and stats.
"""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from . import challenge
from .interstitial import interstitial_page
from .state import STATE, ReplicaState

log = logging.getLogger("aura_browser.replica")

PREFIX = "/cdn-cgi/challenge-platform/h/b/turnstile/"
WIDGET_PATH = PREFIX + "if/ov2/av0/rcv0/0/widget"  # GET, on the widget's host: the iframe's document
VERIFY_PATH = PREFIX + "verify"  # POST, on the widget's host: the pointer events of a click -> a token or a fail
SOLVE_PATH = PREFIX + "solve"  # POST, on the site's host: the token -> the clearance cookie
TOKEN_LIFETIME = 300.0  # seconds a widget's token is good for

# What the widget's events must show. A person's click passes them all; a program's, as Playwright or a
# CDP script makes it by default, fails at least one.
CHECKS = {
    "trusted": "a trusted click (isTrusted) on the checkbox",
    "inside": "pressed and released inside the checkbox",
    "trail": "the pointer came along a path: not a jump, not a ruler-straight evenly paced line",
    "hover": "the pointer rested on the box before the press",
    "press": "the press held like a finger's",
    "reaction": "no faster than a person reacts once the box is shown",
}
MIN_TRAIL_MOVES = 5  # mousemoves in the widget within TRAIL_WINDOW_MS before the press
TRAIL_WINDOW_MS = 3000.0
# A trail that is both ruler-straight (every point this close to its chord) and evenly paced (its step lengths
# vary less than this, as a coefficient of variation) is a program's line.
STRAIGHT_PX = 2.0
EVEN_PACE = 0.2
ARRIVAL_PX = 6.0  # the last move must be this close to the press: the pointer arrived, it did not jump
MIN_HOVER_MS = 40.0  # from the first move over the box to the press
PRESS_MS = (45.0, 220.0)  # a finger holds a button for about 60-160 ms; a little wider is accepted
MIN_REACTION_MS = 300.0  # from the box being shown to the press


def widget_host(page_host: str) -> str:
    """The host name the widget is served under: the other name of the loopback address, so it is cross-site."""
    return "127.0.0.1" if page_host == "localhost" else "localhost"


async def gate(request: web.Request, handler: Handler, state: ReplicaState) -> web.StreamResponse:
    """The middleware's part for gate mode `interactive`."""
    if request.path.startswith(PREFIX) or challenge.has_clearance(request, state):
        return await handler(request)
    state.stats.bump("challenges_served")
    return _page(request, state)


def _page(request: web.Request, state: ReplicaState) -> web.Response:
    scheme = "https" if request.secure else "http"
    widget_origin = f"{scheme}://{widget_host(request.url.host or '')}:{state.widget_port}"
    config = {"widget_origin": widget_origin, "solve": SOLVE_PATH}
    src = f"{widget_origin}{WIDGET_PATH}?parent={request.url.origin()}"
    html = _PAGE.replace("__CONFIG__", json.dumps(config)).replace("__SRC__", src)
    html = html.replace("__WIDGET_ID__", challenge.new_nonce(state)["nonce"][:5])  # type: ignore[index]
    return web.Response(status=403, body=html.encode("utf-8"), headers={
        "Content-Type": "text/html; charset=UTF-8", "Cache-Control": "no-store", "cf-mitigated": "challenge"})


async def widget(request: web.Request) -> web.Response:
    """The iframe's document (served on the widget's host)."""
    state = request.app[STATE]
    config = {**challenge.new_nonce(state), "delay_ms": int(state.config.interactive_delay * 1000),
              "verify": VERIFY_PATH, "parent": request.query.get("parent", "*")}
    html = _WIDGET.replace("__WIDGET__", json.dumps(config))
    return web.Response(body=html.encode("utf-8"), headers={
        "Content-Type": "text/html; charset=UTF-8", "Cache-Control": "no-store"})


async def verify(request: web.Request) -> web.Response:
    """POST VERIFY_PATH: judge a click's events; a token when every check passes."""
    state = request.app[STATE]
    try:
        answer = await request.json()
        events = answer["events"]
        box = [float(answer["box"][k]) for k in ("left", "top", "right", "bottom")]
        shown = float(answer["shown"])
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise ValueError
    except (ValueError, TypeError, KeyError):
        return web.Response(status=400, text="bad widget answer")
    if not _widget_signed(state, answer):
        return web.Response(status=403, text="widget expired")
    rows = judge(events, box, shown)
    if state.config.interactive_refuse:
        rows.append({"id": "refuse", "name": "the widget refuses every click", "pass": False, "value": "interactive_refuse"})
    state.stats.record_interactive(rows)
    failing = [row for row in rows if not row["pass"]]
    if failing:
        state.stats.bump("interactive_failed")
        log.warning("the interactive widget failed a click: %s",
                    "; ".join(f"{row['id']} ({row['name']}): {row['value']}" for row in failing))
        return web.json_response({"success": False, "failed": [row["id"] for row in failing]})
    state.stats.bump("interactive_passed")
    expiry = int(time.time() + TOKEN_LIFETIME)
    nonce = answer["nonce"]
    token = f"{expiry}.{challenge.sign(state.nonce_secret, f'turnstile|{expiry}|{nonce}')}.{nonce}"
    return web.json_response({"success": True, "token": token})


async def solve(request: web.Request) -> web.Response:
    """POST SOLVE_PATH (the site's host): the widget's token for the clearance cookie."""
    state = request.app[STATE]
    try:
        expiry, mac, nonce = str((await request.json())["token"]).split(".", 2)
    except (ValueError, TypeError, KeyError):
        return web.Response(status=400, text="bad token")
    fresh = expiry.isdigit() and int(expiry) > time.time()
    if not (fresh and challenge.signature_matches(mac, state.nonce_secret, f"turnstile|{expiry}|{nonce}")):
        return web.Response(status=403, text="challenge failed")
    return challenge.issue_clearance(request, state)


def _widget_signed(state: ReplicaState, answer: dict[str, Any]) -> bool:
    """Whether the answer carries the nonce this replica gave a widget, not older than TOKEN_LIFETIME."""
    nonce, issued, sig = (str(answer.get(k, "")) for k in ("nonce", "issued", "sig"))
    return (issued.isdigit() and time.time() * 1000 - int(issued) <= TOKEN_LIFETIME * 1000
            and challenge.signature_matches(sig, state.nonce_secret, f"{nonce}|{issued}"))


def judge(events: list[dict[str, Any]], box: list[float], shown: float) -> list[dict[str, Any]]:
    """The rows of CHECKS for one click: its events (type, t in ms, x, y, trusted), the box and when it showed."""
    left, top, right, bottom = box

    def inside(event: dict[str, Any]) -> bool:
        return left <= _num(event, "x") <= right and top <= _num(event, "y") <= bottom

    def last(kind: str) -> dict[str, Any] | None:
        found = [e for e in events if e.get("type") == kind]
        return found[-1] if found else None

    down, up, click = last("mousedown"), last("mouseup"), last("click")
    rows: list[dict[str, Any]] = []

    def add(id_: str, passed: bool, value: str) -> None:
        rows.append({"id": id_, "name": CHECKS[id_], "pass": passed, "value": value})

    if down is None or up is None or click is None:
        for id_ in CHECKS:
            add(id_, False, "no press, release and click")
        return rows
    pressed = _num(down, "t")
    add("trusted", all(e.get("trusted") is True for e in (down, up, click)),
        "isTrusted " + ", ".join(f"{e['type']} {e.get('trusted')}" for e in (down, up, click)))
    add("inside", inside(down) and inside(up) and inside(click),
        f"press at ({_num(down, 'x'):.0f}, {_num(down, 'y'):.0f}) in box {left:.0f},{top:.0f}-{right:.0f},{bottom:.0f}")
    moves = [e for e in events if e.get("type") == "mousemove" and pressed - TRAIL_WINDOW_MS <= _num(e, "t") <= pressed]
    add("trail", *_trail(moves, down))
    over = [_num(e, "t") for e in moves if inside(e)]
    hover = pressed - min(over) if over else 0.0
    add("hover", hover >= MIN_HOVER_MS, f"{hover:.0f} ms over the box before the press")
    held = _num(up, "t") - pressed
    add("press", PRESS_MS[0] <= held <= PRESS_MS[1], f"held {held:.0f} ms")
    reaction = pressed - shown
    add("reaction", reaction >= MIN_REACTION_MS, f"pressed {reaction:.0f} ms after the box showed")
    return rows


def _trail(moves: list[dict[str, Any]], down: dict[str, Any]) -> tuple[bool, str]:
    if len(moves) < MIN_TRAIL_MOVES or not all(e.get("trusted") is True for e in moves):
        return False, f"{len(moves)} trusted moves before the press (a jump)"
    points = [(_num(e, "x"), _num(e, "y")) for e in moves]
    arrival = math.dist(points[-1], (_num(down, "x"), _num(down, "y")))
    if arrival > ARRIVAL_PX:
        return False, f"the press is {arrival:.0f} px from the last move (a jump)"
    (x0, y0), (x1, y1) = points[0], points[-1]
    chord = math.dist(points[0], points[-1]) or 1.0
    deviation = max(abs((x1 - x0) * (y0 - y) - (x0 - x) * (y1 - y0)) / chord for x, y in points)
    steps = [math.dist(a, b) for a, b in zip(points, points[1:])]
    mean = sum(steps) / len(steps)
    spread = math.sqrt(sum((s - mean) ** 2 for s in steps) / len(steps)) / mean if mean else 0.0
    value = f"{len(moves)} moves, {deviation:.1f} px off a straight line, step lengths vary {spread:.2f}"
    return deviation > STRAIGHT_PX or spread > EVEN_PACE, value  # a short approach may be straight, not also even


def _num(event: dict[str, Any], name: str) -> float:
    value = event.get(name)
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else math.nan


_PAGE = interstitial_page(heading="Verify you are human by completing the action below.",
                          style="#turnstile-wrapper{margin:2rem 0}\n", widget="""
<iframe id="cf-chl-widget-__WIDGET_ID__" src="__SRC__" title="Widget containing a Cloudflare security challenge"
  sandbox="allow-same-origin allow-scripts allow-popups" tabindex="0"
  style="border:none;overflow:hidden;width:300px;height:65px"></iframe>
<input type="hidden" name="cf-turnstile-response" id="cf-chl-widget-__WIDGET_ID___response" value="">
""", script="""<script>
(function () {
  var c = __CONFIG__;
  window.addEventListener("message", function (event) {
    if (event.origin !== c.widget_origin || !event.data || event.data.event !== "complete") return;
    document.querySelector("[name=cf-turnstile-response]").value = event.data.token;
    fetch(c.solve, {method: "POST", headers: {"Content-Type": "application/json"}, credentials: "same-origin",
                    body: JSON.stringify({token: event.data.token})}).then(function (r) {
      if (r.ok) { location.reload(); return; }
      document.getElementById("challenge-running").textContent = "Verification failed";
    });
  });
})();
</script>
""")

_WIDGET = """<!DOCTYPE html>
<html lang="en-US">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<style>html,body{margin:0;padding:0;overflow:hidden;background:#fafafa}</style>
</head>
<body>
<div id="content"></div>
<script>
(function () {
  "use strict";
  const c = __WIDGET__;
  const root = document.getElementById("content").attachShadow({mode: "closed"});
  const style = "<style>.w{box-sizing:border-box;width:300px;height:65px;border:1px solid #e0e0e0;display:flex;" +
    "align-items:center;padding:0 16px;font:14px system-ui,sans-serif;color:#232323}" +
    "input{width:24px;height:24px;margin:0 12px 0 0}button{margin-left:12px}</style>";
  const events = [];
  const record = (event) => {
    events.push({type: event.type, t: event.timeStamp, x: event.clientX, y: event.clientY, trusted: event.isTrusted});
    if (events.length > 2000) events.splice(0, 1000);
  };
  ["mousemove", "mousedown", "mouseup"].forEach((type) => window.addEventListener(type, record, true));
  let shown = 0;
  const verifying = () => {
    root.innerHTML = style + '<div class="w"><span>Verifying...</span></div>';
    setTimeout(showBox, c.delay_ms);
  };
  const showBox = () => {
    root.innerHTML = style + '<div class="w"><label><input type="checkbox"><span>Verify you are human</span></label></div>';
    const box = root.querySelector("input");
    shown = performance.now();
    box.addEventListener("click", (event) => {
      record(event);
      const r = box.getBoundingClientRect();
      const answer = Object.assign({}, c, {events: events.slice(),
        box: {left: r.left, top: r.top, right: r.right, bottom: r.bottom}, shown: shown});
      box.disabled = true;
      root.querySelector("span").textContent = "Verifying...";
      fetch(c.verify, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(answer)})
        .then((r) => r.json()).then((result) => {
          if (result.success) {
            root.innerHTML = style + '<div class="w"><span>Success!</span></div>';
            parent.postMessage({event: "complete", token: result.token}, c.parent);
          } else {
            failed();
          }
        }, failed);
    });
  };
  const failed = () => {
    root.innerHTML = style + '<div class="w"><span>Verification failed</span><button type="button">Retry</button></div>';
    root.querySelector("button").addEventListener("click", () => { events.length = 0; verifying(); });
  };
  verifying();
})();
</script>
</body>
</html>
"""
