"""Cloudflare's interstitial page ("Just a moment..."), the one skeleton that every gate of the replica fills in.

Its markers are those of shared/DESIGN.md that the drivers look for (`#challenge-running`, `#challenge-stage`,
`#turnstile-wrapper`, `.cf-turnstile`); each gate brings its own widget, lines after the stage and script.
"""

from __future__ import annotations

TITLE = "Just a moment..."
CHECKING = "Checking if the site connection is secure"
PLEASE_WAIT = '<div id="cf-please-wait">Please wait...</div>\n'


def interstitial_page(*, title: str = TITLE, heading: str = CHECKING, head: str = "", style: str = "",
                      no_js: bool = False, widget: str = "", after_stage: str = "", script: str = "") -> str:
    """The page: `head` goes before the style sheet, `style` adds rules, `no_js` hides the stage until a script
    runs, `widget` fills `.cf-turnstile`, `after_stage` follows it, and `script` ends the body."""
    hidden = ".no-js #challenge-stage{display:none}\n" if no_js else ""
    body = ' class="no-js"' if no_js else ""
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<title>{title}</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="robots" content="noindex,nofollow">
<meta name="viewport" content="width=device-width,initial-scale=1">
{head}<style>
body{{font-family:system-ui,sans-serif;margin:0;padding:8rem 1.5rem;color:#313131}}
{hidden}.main-wrapper{{max-width:60rem;margin:0 auto}}
{style}</style>
</head>
<body{body}>
<div class="main-wrapper" role="main">
<div class="main-content">
<h1 class="zone-name-title h1">Replica</h1>
<h2 id="challenge-running" class="h2">{heading}</h2>
<div id="challenge-stage">
<div id="turnstile-wrapper"><div class="cf-turnstile">{widget}</div></div>
</div>
{after_stage}</div>
</div>
{script}</body>
</html>
"""
