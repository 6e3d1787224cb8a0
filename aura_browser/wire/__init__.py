"""What an OpenChat UI deployment speaks, written down once (shared/DESIGN.md, "The app's contract").

- `api`: the two routes, `POST /api/chat` (its body, the defaults the app applies) and `POST /api/models`.
- `page`: what a page is (the app, a gate's challenge, a block, a disabled deployment), from its markup.
- `replies`: what a reply that is not the app's text stream means (a gate, a redirect, a rate limit, another site).
- `headers`: the request headers a Chromium sends, in its order and case.
- `tokens`: the app's `tokenLimit` trimming, estimated before sending.

Nothing here does I/O; the transports and drivers use it, and the replica keeps its own copy.
"""
