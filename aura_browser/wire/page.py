"""Recognising what a site put in front of us: the app, a challenge, a block, a dead deployment.

The same rules run in two places: in Python on an HTTP reply (`classify_reply`), and inside
a browser page (`PAGE_STATE_JS`), so both drivers and the direct transport agree.
"""

from __future__ import annotations

import enum
import re
from typing import Mapping


class PageKind(str, enum.Enum):
    APP = "app"  # OpenChat UI itself
    CHALLENGE = "challenge"  # an anti-bot challenge that a browser can pass by waiting
    BLOCKED = "blocked"  # a block page: waiting will not help
    DISABLED = "disabled"  # the deployment is switched off
    OTHER = "other"  # some page that is none of the above: not this app


CHALLENGE_TITLES = ("just a moment...", "attention required", "checking your browser")
BLOCK_TITLES = ("attention required! | cloudflare", "access denied", "ddos-guard")
CHALLENGE_MARKERS = (
    'id="challenge-running"',
    'id="cf-challenge-running"',
    'id="challenge-stage"',
    'id="turnstile-wrapper"',
    'class="cf-turnstile"',
    'id="cf-please-wait"',
)
DISABLED_MARKERS = ("This Deployment has been disabled", "DEPLOYMENT_DISABLED")
APP_TITLE = "chatbot ui"

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def page_title(html: str) -> str:
    match = _TITLE.search(html)
    return match.group(1).strip() if match else ""


def classify_html(html: str, title: str | None = None) -> PageKind:
    title = (page_title(html) if title is None else title).strip().lower()
    if title == APP_TITLE or "__NEXT_DATA__" in html and "defaultModelId" in html:
        return PageKind.APP  # first: the app's own page may quote any gate's words in a conversation
    if any(marker in html for marker in DISABLED_MARKERS):
        return PageKind.DISABLED
    if title in BLOCK_TITLES or title.startswith("access denied"):
        return PageKind.BLOCKED
    if title in CHALLENGE_TITLES or any(marker in html for marker in CHALLENGE_MARKERS):
        return PageKind.CHALLENGE
    return PageKind.OTHER


def classify_reply(status: int, headers: Mapping[str, str], body: str) -> PageKind:
    """What an HTTP reply is, from its status, headers and (the start of) its body."""
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return PageKind.CHALLENGE
    if headers.get("x-vercel-error", "").upper() == "DEPLOYMENT_DISABLED":
        return PageKind.DISABLED
    kind = classify_html(body)
    if kind is PageKind.OTHER and status in (403, 503) and "cloudflare" in body.lower():
        return PageKind.BLOCKED
    return kind


# Runs in the page; returns a PageKind value once the page has settled, or null while loading.
# `textarea.m-0` is the chat box that OpenChat UI's client code renders.
PAGE_STATE_JS = r"""
() => {
  const d = document;
  if (!d.documentElement) return null;
  const html = d.documentElement.outerHTML;
  const title = (d.title || "").trim().toLowerCase();
  // The app first: a conversation on its page may quote any gate's words.
  if (d.querySelector("textarea.m-0")) return "app";
  if (html.includes("This Deployment has been disabled") || html.includes("DEPLOYMENT_DISABLED")) return "disabled";
  const blockTitles = %(block)s;
  if (blockTitles.includes(title) || title.startsWith("access denied")) return "blocked";
  const challengeTitles = %(challenge)s;
  if (challengeTitles.includes(title) ||
      d.querySelector("#challenge-running, #cf-challenge-running, #challenge-stage, #turnstile-wrapper, .cf-turnstile, #cf-please-wait"))
    return "challenge";
  // An error status (a wrong path's 404) or Next.js's error page is no app that is still loading.
  const nav = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  const status = nav && nav.responseStatus;
  if (status && (status < 200 || status > 299)) return "other";
  const next = d.getElementById("__NEXT_DATA__");
  if (next && /"page"\s*:\s*"\/_error"/.test(next.textContent || "")) return "other";
  if (d.readyState !== "complete") return null;
  // The app's shell is client-rendered: give its scripts until the chat box appears.
  if (title === "chatbot ui" || d.getElementById("__NEXT_DATA__")) return null;
  return "other";
}
""" % {"block": list(BLOCK_TITLES), "challenge": list(CHALLENGE_TITLES)}
