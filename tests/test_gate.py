"""Telling the app apart from challenge, block and dead-deployment pages."""

import pytest

from aura_browser.wire.page import PageKind, classify_html, classify_reply, page_title

APP = """<!DOCTYPE html><html><head><title>Chatbot UI</title></head><body><div id="__next"></div>
<script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":{"serverSideApiKeyIsSet":true,
"defaultModelId":"openchat_3.6"}}}</script></body></html>"""
CHALLENGE = """<html><head><title>Just a moment...</title></head><body class="no-js">
<div id="challenge-running"></div></body></html>"""
BLOCK = "<html><head><title>Attention Required! | Cloudflare</title></head><body>Sorry, you have been blocked</body></html>"


def test_the_app_page_is_the_app():
    assert classify_html(APP) is PageKind.APP


def test_a_challenge_page_is_a_challenge_by_title_or_by_marker():
    assert classify_html(CHALLENGE) is PageKind.CHALLENGE
    assert classify_html('<html><body><div class="cf-turnstile"></div></body></html>') is PageKind.CHALLENGE


def test_block_pages_are_blocks():
    assert classify_html(BLOCK) is PageKind.BLOCKED
    assert classify_html("<title>Access denied</title>") is PageKind.BLOCKED
    assert classify_html("<title>DDoS-Guard</title>") is PageKind.BLOCKED


def test_a_disabled_deployment_is_disabled():
    assert classify_html("<html><body>This Deployment has been disabled</body></html>") is PageKind.DISABLED
    assert classify_reply(402, {"x-vercel-error": "DEPLOYMENT_DISABLED"}, "") is PageKind.DISABLED


def test_the_cf_mitigated_header_alone_marks_a_challenge():
    assert classify_reply(403, {"cf-mitigated": "challenge"}, "") is PageKind.CHALLENGE


@pytest.mark.parametrize("html", ["<html><title>Welcome to nginx!</title></html>", ""])
def test_anything_else_is_other(html):
    assert classify_html(html) is PageKind.OTHER


def test_page_title():
    assert page_title("<html><head><title>\n Just a moment...\n</title>") == "Just a moment..."
