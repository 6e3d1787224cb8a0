"""The `botcheck` gate: a challenge page that asks whether a program drives the browser, as real gates do.

Its script is our own implementation of the checks that Cloudflare's managed challenge, DataDome and the
public detectors (BotD, fpscanner, CreepJS) make (issue 10, checks 4 to 12; see /work/shared/DESIGN.md,
"What real gates look for"), and of the behaviour they read (issue 19, checks 13 to 15: activation, focus,
dialogs). The page posts what it saw; the clearance cookie goes only to a browser
that passes every check, and any other gets Cloudflare's block page from then on, with the failing
checks in the replica's log. `GET REPORT_PATH` runs the same checks and shows them, without a cookie:
`aura-browser doctor --stealth` reads it.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from . import challenge
from .interstitial import PLEASE_WAIT, interstitial_page
from .state import STATE, ReplicaState

log = logging.getLogger("aura_browser.replica")

PREFIX = "/cdn-cgi/challenge-platform/h/b/"
REPORT_PATH = PREFIX + "botcheck"  # GET: the checks, shown; POST: the page's results
WORKER_PATH = PREFIX + "botcheck-sw.js"  # the service worker the page asks for its user agent
BLOCKED_COOKIE = "cf_chl_blocked"
RESULTS_ID = "botcheck-results"  # the element that holds the results as JSON once the checks are done
MIN_WATCH_MS = 1000  # how long the page watches its hooked getters, at least

# Check id -> what it is about; the page's script reports a row for each (6h is checked here, on the HTTP request).
CHECKS = {
    "4": "navigator.webdriver",
    "5": "no HeadlessChrome (page, hints, workers)",
    "6": "user agent and client hints agree",
    "6h": "User-Agent and Sec-CH-UA headers agree",
    "7": "window.chrome, plugins, PDF viewer",
    "8": "window, screen, pointer",
    "9": "no automation globals",
    "10": "no Runtime.enable leak",
    "11": "no automation calls into the page",
    "12": "native functions stay native",
    "13": "no user activation without input",
    "14": "the window has the focus",
    "15": "dialogs answered like a person",
}
DIALOG_MIN_MS = 30  # a confirm() answered sooner than this was answered by a program (infosimples' threshold)


async def gate(request: web.Request, handler: Handler, state: ReplicaState) -> web.StreamResponse:
    """The middleware's part for gate mode `botcheck`."""
    if request.path.startswith(PREFIX):
        return await handler(request)
    if request.cookies.get(BLOCKED_COOKIE):
        return block_response()
    if challenge.has_clearance(request, state):
        return await handler(request)
    state.stats.bump("challenges_served")
    return _page(state, report=False)


async def report_page(request: web.Request) -> web.Response:
    return _page(request.app[STATE], report=True)


async def worker_script(request: web.Request) -> web.Response:
    return web.Response(text=_WORKER_JS, content_type="text/javascript", headers={"Cache-Control": "no-store"})


async def results(request: web.Request) -> web.Response:
    """POST REPORT_PATH: the page's results. In the gate, a pass earns the cookies, a fail a block."""
    state = request.app[STATE]
    try:
        answer = await request.json()
        rows, report = answer["results"], bool(answer.get("report"))
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValueError
    except (ValueError, TypeError, KeyError):
        return web.Response(status=400, text="bad botcheck answer")
    if not challenge.answer_valid(state, answer):
        return web.Response(status=403, text="challenge failed")
    rows = [_clean(row) for row in rows] + [_header_row(request)]
    missing = sorted(set(CHECKS) - {row["id"] for row in rows})
    rows += [{"id": id_, "name": CHECKS[id_], "pass": False, "value": "not reported"} for id_ in missing]
    rows.sort(key=lambda row: list(CHECKS).index(row["id"]) if row["id"] in CHECKS else len(CHECKS))
    failing = [row for row in rows if not row["pass"]]
    state.stats.record_botcheck(rows)
    if report:
        return web.json_response({"results": rows, "passed": not failing})
    if failing:
        state.stats.bump("botcheck_blocked")
        log.warning(
            "botcheck blocked a browser (%s): %s",
            request.headers.get("User-Agent", "?"),
            "; ".join(f"check {row['id']} {row['name']}: {row['value'][:160]}" for row in failing),
        )
        response = web.json_response({"success": False}, status=403)
        response.set_cookie(BLOCKED_COOKIE, secrets.token_hex(8), path="/", httponly=True, samesite="Lax")
        return response
    state.stats.bump("botcheck_passed")
    return challenge.issue_clearance(request, state)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    id_ = str(row.get("id", "?"))[:8]
    return {"id": id_, "name": CHECKS.get(id_, "?"), "pass": row.get("pass") is True, "value": str(row.get("value", ""))[:400]}


def _major(text: str, pattern: str) -> str | None:
    found = re.search(pattern, text)
    return found.group(1) if found else None


def _header_row(request: web.Request) -> dict[str, Any]:
    """Check 6 on the wire: what the browser sends must agree with itself."""
    agent = request.headers.get("User-Agent", "")
    hints = request.headers.get("Sec-CH-UA", "")
    platform = request.headers.get("Sec-CH-UA-Platform", "").strip('"')
    problems = []
    if "HeadlessChrome" in agent or "HeadlessChrome" in hints:
        problems.append("HeadlessChrome")
    ua_major = _major(agent, r"Chrom(?:e|ium)/(\d+)")
    hint_major = _major(hints, r'"(?:Chromium|Google Chrome)";v="(\d+)"')
    if not hints:
        problems.append("no Sec-CH-UA")
    elif ua_major != hint_major:
        problems.append(f"major {ua_major} vs {hint_major}")
    expected = "Linux" if "Linux" in agent else "Windows" if "Windows" in agent else "macOS" if "Mac OS" in agent else ""
    if platform and expected and platform != expected:
        problems.append(f"platform {expected} vs {platform}")
    value = f"{agent} | {hints} | {platform}"
    return {"id": "6h", "name": CHECKS["6h"], "pass": not problems, "value": "; ".join(problems) or value}


def block_response() -> web.Response:
    return web.Response(status=403, body=_BLOCK_PAGE.encode("utf-8"),
                        headers={"Content-Type": "text/html; charset=UTF-8", "Cache-Control": "no-store"})


def _page(state: ReplicaState, report: bool) -> web.Response:
    config = {
        **challenge.new_nonce(state),
        "watch_ms": max(MIN_WATCH_MS, int(state.config.challenge_delay * 1000)),
        "post": REPORT_PATH,
        "worker": WORKER_PATH,
        "report": report,
        "results_id": RESULTS_ID,
        "dialog_min_ms": DIALOG_MIN_MS,
    }
    title = "Browser check" if report else "Just a moment..."
    html = _PAGE.replace("__TITLE__", title).replace("__CHECKS_JS__", CHECKS_JS)
    html = html.replace("__BOTCHECK__", json.dumps(config))
    headers = {"Content-Type": "text/html; charset=UTF-8", "Cache-Control": "no-store"}
    if not report:
        headers["cf-mitigated"] = "challenge"
    return web.Response(status=200 if report else 403, body=html.encode("utf-8"), headers=headers)


_WORKER_JS = """
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("message", (event) => {
  const hints = navigator.userAgentData;
  event.ports[0].postMessage({ua: navigator.userAgent, brands: hints ? hints.brands.map((b) => b.brand + " " + b.version).join(", ") : ""});
});
"""

# Runs first in the page's <head>: the hooks of check 11 are in place before any other script can run.
CHECKS_JS = r"""
(function () {
  "use strict";
  const config = __BOTCHECK__;
  const fnToString = Function.prototype.toString;
  const nativeText = /^function [^(]*\(\) \{\s*\[native code\]\s*\}$/;
  const isNative = (fn) => { try { return typeof fn === "function" && nativeText.test(fnToString.call(fn)); } catch (e) { return false; } };
  const results = [];
  const add = (id, pass, value) => results.push({id: id, pass: !!pass, value: String(value)});

  // 11: who calls these getters. A frame of a script that is not the page's own (an evaluation has no URL,
  // "<anonymous>:1:44") is automation code running in the page's main world.
  const outside = [];
  const frameLocation = (line) => {
    let where = line.trim().replace(/^at /, "");
    const paren = where.lastIndexOf("(");
    if (where.endsWith(")") && paren >= 0) where = where.slice(paren + 1, -1);
    const comma = where.lastIndexOf(", ");
    if (comma >= 0) where = where.slice(comma + 2);
    const found = where.match(/^(.*):\d+:\d+$/);
    return found ? found[1] : null;  // null: a native frame
  };
  const record = (what) => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 50;
    const stack = String(new Error().stack || "");
    Error.stackTraceLimit = limit;
    for (const line of stack.split("\n").slice(1)) {
      const where = frameLocation(line);
      if (where !== null && !where.startsWith(location.origin + "/")) {
        if (outside.length < 10) outside.push(what + " from " + line.trim());
        return;
      }
    }
  };
  const hookGetter = (proto, name) => {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    if (!d || !d.get) return;
    const get = d.get;
    Object.defineProperty(proto, name, Object.assign({}, d, {get: function () { record(name); return get.call(this); }}));
  };
  ["title", "readyState", "cookie"].forEach((name) => hookGetter(Document.prototype, name));
  const querySelector = Document.prototype.querySelector;
  Document.prototype.querySelector = function (selectors) { record("querySelector"); return querySelector.call(this, selectors); };

  // 13: input a person gave the page. Only these (trusted) make a page "user-activated"; an automation call
  // made with a user gesture activates it with none.
  const inputs = [];
  for (const type of ["pointerdown", "mousedown", "pointerup", "touchend", "keydown"]) {
    addEventListener(type, (event) => { if (event.isTrusted && inputs.length < 20) inputs.push(type); }, true);
  }

  // 10: a DevTools client with Runtime enabled formats a logged Error, and so consults Error.prepareStackTrace.
  const runtimeLeak = () => {
    let consulted = false;
    const saved = Error.prepareStackTrace;
    Error.prepareStackTrace = (error, frames) => { consulted = true; return saved ? saved(error, frames) : String(error); };
    try { console.debug(new Error("botcheck")); } finally { Error.prepareStackTrace = saved; }
    return consulted;
  };
  const leakedEarly = runtimeLeak();

  const headless = (text) => /Headless/i.test(text);
  const brandsOf = (hints) => hints ? hints.brands.map((b) => b.brand + " " + b.version).join(", ") : "";
  const workerProbe = "const h = navigator.userAgentData; const d = {ua: navigator.userAgent, " +
    "brands: h ? h.brands.map((b) => b.brand + ' ' + b.version).join(', ') : ''};";
  const withTimeout = (promise, ms) => Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve({error: "no answer"}), ms))]);
  const blobUrl = (code) => URL.createObjectURL(new Blob([code], {type: "text/javascript"}));
  const dedicatedWorker = () => withTimeout(new Promise((resolve) => {
    const worker = new Worker(blobUrl(workerProbe + "postMessage(d);"));
    worker.onmessage = (event) => { resolve(event.data); worker.terminate(); };
    worker.onerror = () => resolve({error: "failed"});
  }), 5000);
  const sharedWorker = () => typeof SharedWorker === "undefined" ? Promise.resolve({unavailable: "no SharedWorker"}) :
    withTimeout(new Promise((resolve) => {
      const worker = new SharedWorker(blobUrl(workerProbe + "onconnect = (e) => e.ports[0].postMessage(d);"));
      worker.port.onmessage = (event) => resolve(event.data);
      worker.onerror = () => resolve({error: "failed"});
      worker.port.start();
    }), 5000);
  const serviceWorker = async () => {
    if (!navigator.serviceWorker) return {unavailable: "no serviceWorker"};
    let registration;
    try {
      registration = await navigator.serviceWorker.register(config.worker, {scope: config.worker.replace(/[^/]*$/, "")});
    } catch (e) {
      return {unavailable: String(e && e.message || e)};
    }
    try {
      const worker = await withTimeout(new Promise((resolve) => {
        const pick = () => registration.active;
        if (pick()) return resolve(pick());
        const pending = registration.installing || registration.waiting;
        if (!pending) return resolve(null);
        pending.addEventListener("statechange", () => { if (pick()) resolve(pick()); });
      }), 5000);
      if (!worker || worker.error) return {error: "not activated"};
      return await withTimeout(new Promise((resolve) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = (event) => resolve(event.data);
        worker.postMessage("probe", [channel.port2]);
      }), 5000);
    } finally {
      registration.unregister();
    }
  };

  const checkWebdriver = () => {
    const getter = (Object.getOwnPropertyDescriptor(Navigator.prototype, "webdriver") || {}).get;
    const own = Object.getOwnPropertyDescriptor(navigator, "webdriver") !== undefined;
    const value = getter ? getter.call(navigator) : "no getter";
    const frame = document.createElement("iframe");
    frame.style.display = "none";
    document.documentElement.appendChild(frame);
    let inFrame = "no iframe";
    try { inFrame = frame.contentWindow.navigator.webdriver; } finally { frame.remove(); }
    add("4", value === false && !own && isNative(getter) && inFrame === false,
        `webdriver ${value}${own ? " (own property)" : ""}, in an iframe ${inFrame}`);
  };

  const checkIdentity = async () => {
    const hints = navigator.userAgentData;
    const brands = brandsOf(hints);
    let full = "";
    try {
      const values = await hints.getHighEntropyValues(["fullVersionList", "platform"]);
      full = (values.fullVersionList || []).map((b) => b.brand + " " + b.version).join(", ");
    } catch (e) { full = "unavailable"; }
    const workers = {dedicated: await dedicatedWorker(), shared: await sharedWorker(), service: await serviceWorker()};
    const problems = [];
    if (headless(navigator.userAgent) || headless(brands) || headless(full)) problems.push("HeadlessChrome in the page");
    if (!hints || !hints.brands.length) problems.push("no client-hint brands");
    for (const [kind, seen] of Object.entries(workers)) {
      if (seen.unavailable) continue;
      if (seen.error) { problems.push(`${kind} worker: ${seen.error}`); continue; }
      if (headless(seen.ua) || headless(seen.brands)) problems.push(`HeadlessChrome in the ${kind} worker`);
      else if (seen.ua !== navigator.userAgent) problems.push(`${kind} worker says ${seen.ua}`);
      else if (seen.brands !== brands) problems.push(`${kind} worker brands [${seen.brands}]`);
    }
    const skipped = Object.entries(workers).filter(([, seen]) => seen.unavailable).map(([kind, seen]) => `${kind}: ${seen.unavailable}`);
    add("5", !problems.length, problems.join("; ") || `${navigator.userAgent}; workers agree${skipped.length ? " (" + skipped.join("; ") + ")" : ""}`);

    const uaMajor = (navigator.userAgent.match(/Chrom(?:e|ium)\/(\d+)/) || [])[1];
    const hintBrand = hints && hints.brands.find((b) => /^(Chromium|Google Chrome)$/.test(b.brand));
    const platform = hints ? hints.platform : "";
    const expected = /Windows/.test(navigator.userAgent) ? "Windows" : /Mac OS/.test(navigator.userAgent) ? "macOS" :
      /Linux|X11/.test(navigator.userAgent) ? "Linux" : "";
    const agree = uaMajor && hintBrand && hintBrand.version === uaMajor && platform === expected &&
      (full === "unavailable" || full.includes(" " + uaMajor + "."));
    add("6", agree, `UA major ${uaMajor}, hints ${hintBrand ? hintBrand.version : "none"}, platform ${platform} (UA: ${expected}), ` +
        `full versions [${full}]`);
  };

  const checkChrome = () => {
    const c = window.chrome;
    const ok = !!c && typeof c.loadTimes === "function" && typeof c.csi === "function" &&
      navigator.plugins.length === 5 && navigator.mimeTypes.length === 2 && navigator.pdfViewerEnabled === true;
    add("7", ok, `chrome.loadTimes ${typeof (c && c.loadTimes)}, chrome.csi ${typeof (c && c.csi)}, ` +
        `${navigator.plugins.length} plugins, ${navigator.mimeTypes.length} mimeTypes, pdfViewerEnabled ${navigator.pdfViewerEnabled}`);
  };

  const checkWindow = () => {
    const viewport = `${innerWidth}x${innerHeight}`;
    const screenSize = `${screen.width}x${screen.height}`;
    const hover = matchMedia("(hover: hover)").matches, fine = matchMedia("(pointer: fine)").matches;
    const ok = outerHeight > innerHeight && outerWidth >= innerWidth && screenSize !== "800x600" &&
      viewport !== "800x600" && viewport !== "1280x720" && hover && fine;
    add("8", ok, `outer ${outerWidth}x${outerHeight}, inner ${viewport}, screen ${screenSize}, hover ${hover}, fine pointer ${fine}`);
  };

  const checkNatives = () => {
    const patched = [];
    for (const name of ["webdriver", "userAgent", "platform", "languages", "plugins", "mimeTypes", "hardwareConcurrency",
                        "deviceMemory", "vendor", "userAgentData", "permissions", "pdfViewerEnabled"]) {
      const d = Object.getOwnPropertyDescriptor(Navigator.prototype, name);
      if (d && d.get && !isNative(d.get)) patched.push("Navigator." + name);
      if (Object.getOwnPropertyDescriptor(navigator, name)) patched.push("navigator." + name + " (own)");
    }
    if (window.Permissions && !isNative(Permissions.prototype.query)) patched.push("Permissions.query");
    if (!isNative(fnToString) || Function.prototype.toString !== fnToString) patched.push("Function.prototype.toString");
    for (const gl of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
      if (gl && !isNative(gl.prototype.getParameter)) patched.push(gl.name + ".getParameter");
    }
    add("12", !patched.length, patched.join(", ") || "all native");
  };

  const checkGlobals = () => {
    const pattern = /^(\$?cdc_|\$wdc_|__playwright|__pw|__puppeteer|__aura)/;
    const found = Object.getOwnPropertyNames(window).concat(Object.getOwnPropertyNames(document)).filter((n) => pattern.test(n));
    add("9", !found.length, found.join(", ") || "none");
  };

  const checkActivation = () => {
    const activation = navigator.userActivation;
    if (!activation) { add("13", true, "no navigator.userActivation"); return; }
    const value = `hasBeenActive ${activation.hasBeenActive}, isActive ${activation.isActive}, ` +
      `input events: ${inputs.length ? inputs.join(" ") : "none"}`;
    add("13", !activation.hasBeenActive || inputs.length > 0, value);
  };

  // 14: a person's foreground window has the focus.
  const checkFocus = () => {
    const focused = document.hasFocus(), visibility = document.visibilityState;
    add("14", focused && visibility === "visible" && !document.hidden, `hasFocus ${focused}, visibilityState ${visibility}`);
  };

  // 15: a person reads a dialog before answering it, and says OK to a harmless question.
  const checkDialogs = () => {
    const started = performance.now();
    const answer = confirm("Continue to the site?");
    const took = Math.round(performance.now() - started);
    add("15", answer === true && took >= config.dialog_min_ms,
        `confirm() answered ${answer ? "OK" : "Cancel (dismissed)"} after ${took} ms`);
  };

  const show = (rows, verdict) => {
    const out = document.getElementById(config.results_id);
    out.textContent = JSON.stringify({results: rows, verdict: verdict});
    document.getElementById("challenge-running").textContent = verdict === "pass" ? "Checks passed" : "Checks failed";
  };

  const run = async () => {
    try { checkWebdriver(); } catch (e) { add("4", false, "error " + e); }
    try { await checkIdentity(); } catch (e) { add("5", false, "error " + e); add("6", false, "error " + e); }
    try { checkChrome(); } catch (e) { add("7", false, "error " + e); }
    try { checkWindow(); } catch (e) { add("8", false, "error " + e); }
    try { checkNatives(); } catch (e) { add("12", false, "error " + e); }
    const watched = new Promise((resolve) => setTimeout(resolve, config.watch_ms));  // automation polls meanwhile
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Before the dialog: a closing dialog hands the focus back to the page a moment after confirm() returns.
    try { checkFocus(); } catch (e) { add("14", false, "error " + e); }
    try { checkDialogs(); } catch (e) { add("15", false, "error " + e); }  // within the watch: its wait overlaps
    await watched;
    try { checkActivation(); } catch (e) { add("13", false, "error " + e); }
    checkGlobals();
    const leakedLate = runtimeLeak();
    add("10", !leakedEarly && !leakedLate, leakedEarly || leakedLate ? "Error.prepareStackTrace was consulted" : "not consulted");
    add("11", !outside.length, outside.join("; ") || "none seen");
    let reply;
    try {
      const r = await fetch(config.post, {method: "POST", headers: {"Content-Type": "application/json"}, credentials: "same-origin",
        body: JSON.stringify({nonce: config.nonce, issued: config.issued, sig: config.sig, results: results, report: config.report})});
      reply = r.headers.get("content-type") && r.headers.get("content-type").includes("json") ? await r.json() : {};
    } catch (e) { reply = {}; }
    if (config.report) { show(reply.results || results, reply.passed ? "pass" : "fail"); return; }
    location.reload();
  };
  const start = () => { run(); };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
"""

_PAGE = interstitial_page(title="__TITLE__", head="<script>__CHECKS_JS__</script>\n",
                          style="#botcheck-results{white-space:pre-wrap;font-size:.8rem}\n",
                          after_stage=PLEASE_WAIT + '<pre id="botcheck-results"></pre>\n')

_BLOCK_PAGE = """<!DOCTYPE html>
<html lang="en-US">
<head>
<title>Attention Required! | Cloudflare</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
</head>
<body>
<div id="cf-wrapper">
<h1 data-translate="block_headline">Sorry, you have been blocked</h1>
<h2 class="cf-subheadline">You are unable to access this site</h2>
<p>This website is using a security service to protect itself from online attacks. The action you just performed
triggered the security solution.</p>
<p>Cloudflare Ray ID: <strong>replica</strong></p>
</div>
</body>
</html>
"""
