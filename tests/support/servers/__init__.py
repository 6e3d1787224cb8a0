"""Real servers on loopback for tests.

- `loopback_app`: any aiohttp app on a free port (and one that is not this app).
- `background`: an asyncio loop on a thread, for servers that sync tests and subprocesses talk to.
- `raw_server`: keeps each request's raw bytes. `cut_server`: answers chosen bytes in chosen chunks.
- `auth_proxy`: an HTTP proxy with Basic auth. `remote_browsers`: browsers and chromedriver to connect to.
"""
