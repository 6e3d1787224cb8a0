"""Every option, declared once: its name, default, kind, AURA_* variable, CLI flag, help and who takes it.

What the faces need is derived from these rows: `Settings`' defaults and checks (`settings.py`), the AURA_*
variables `Settings.from_env` reads (`environment.py`), the CLI's click options (`cli/options.py`: flag,
`envvar=`, default, help), the keywords of `AuraClient` and of the gpt4free face, the pytest plugin's options,
a browser's `LaunchOptions`, and docs/cli.md. A new option is one row here (and, for a Settings option, its
typed field in `Settings` and keyword in `AuraClient`, which tests/test_option_table.py holds to this table).

`aura-browser CMD --help` reads this module, so it stays cheap: NamedTuples, no click, nothing of the layers above.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .option_values import DEFAULT_TIMEOUT, MIN_LOGIN_TIMEOUT, MIN_TIMEOUT, TIERS
from .wire.api import DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_TEMPERATURE, TEMPERATURE_RANGE

DEFAULT_BASE_URL = "https://openchat.team"
DEFAULT_LOGIN_TIMEOUT = 120.0  # seconds a login may wait for the gate
# The most of one reply kept in memory (its text, as UTF-8, decompressed): the app's replies are a few KB.
DEFAULT_MAX_REPLY_BYTES = 8 * 1024 * 1024
# Playwright takes at most 2**31-1 ms (24.8 days) for a wait; a longer one fails at once.
MAX_LOGIN_TIMEOUT = 24 * 24 * 3600.0
# Seconds a remote browser (a Grid slot) may sit unused before the client lets it go; a Grid ends it after 300.
DEFAULT_REMOTE_IDLE_TIMEOUT = 120.0

# The kinds of value, each read alike from a variable, a CLI flag and a Python keyword:
# text, flag (a boolean), seconds, number, integer, choice (one of `choices`), json (an object), folder, file.
SETTINGS = "settings"  # the scope of an option `Settings` holds


class Option(NamedTuple):
    name: str  # the Settings field (and AuraClient keyword); for a command's own option, its parameter name
    default: Any = None  # None: no default, or one worked out from other options
    kind: str = "text"
    variable: str | None = None  # its AURA_* variable
    flag: str | None = None  # the CLI's declaration ("--base-url", "--headless/--headed", "-o --output"); None: none
    help: str | None = None
    group: str = ""  # a Settings option's CLI group (site, reply, connect); "" for none, or a command's own option
    scope: str = SETTINGS  # "settings", or who else reads it: the commands that have it
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    metavar: str | None = None
    multiple: bool = False  # given several times on the command line (its variable: separated by whitespace)
    launch: str | None = None  # the `LaunchOptions` field (drivers/base.py) it becomes, when a browser needs it


OPTIONS: tuple[Option, ...] = (
    # Settings, the site options: which site, which profile, which browser (every command that reaches the site).
    Option("base_url", DEFAULT_BASE_URL, "text", "AURA_BASE_URL", "--base-url", "The OpenChat UI deployment to talk to.",
           "site"),
    Option("profile", None, "text", "AURA_PROFILE", "--profile",  # unset: one profile per site (default-HOST...)
           "Name of the saved session profile [default: the site's own, default-HOST...].", "site"),
    Option("profile_dir", None, "folder", "AURA_PROFILE_DIR", "--profile-dir",
           "Folder of saved profiles [default: the user data folder of aura-browser].", "site"),
    Option("browser", None, "text", "AURA_BROWSER", "--browser",
           "Chromium binary [default: Playwright's, then /usr/lib/chromium/chromium, then PATH].", "site",
           launch="executable"),
    Option("driver", "playwright", "choice", "AURA_DRIVER", "--driver", "What drives the browser.", "site",
           choices=("playwright", "selenium")),
    Option("proxy", None, "text", "AURA_PROXY", "--proxy",
           "http://[user:password@]host:port for the browser and the direct requests; kept in the profile.", "site",
           launch="proxy"),
    Option("insecure", False, "flag", "AURA_INSECURE", "--insecure",
           "Accept self-signed TLS certificates (browser and direct).", "site", launch="insecure"),
    # a browser somewhere else instead of one launched here (at most one)
    Option("browser_ws", None, "text", "AURA_BROWSER_WS", "--browser-ws",
           "Use a remote Playwright browser server (ws://host:port/...) instead of a local browser.", "site",
           metavar="WS_URL", launch="browser_ws"),
    Option("cdp_url", None, "text", "AURA_CDP_URL", "--cdp-url",
           "Use a remote Chromium's DevTools endpoint (http://host:9222), e.g. a browserless-style service.", "site",
           metavar="URL", launch="cdp_url"),
    Option("remote_webdriver", None, "text", "AURA_REMOTE_WEBDRIVER", "--remote-webdriver",
           "Use a remote WebDriver server (http://host:4444, Selenium Grid); implies --driver selenium.", "site",
           metavar="URL", launch="remote_webdriver"),
    # merged into a remote WebDriver's new-session request (browserVersion, platformName, a node's own tag...)
    Option("remote_capabilities", None, "json", "AURA_REMOTE_CAPABILITIES", "--remote-capability",
           "A capability for --remote-webdriver's new-session request, e.g. browserVersion='\"126\"' "
           "(repeatable; added to the JSON object in $AURA_REMOTE_CAPABILITIES).", "site",
           metavar="KEY=JSON", multiple=True, launch="remote_capabilities"),
    Option("remote_idle_timeout", DEFAULT_REMOTE_IDLE_TIMEOUT, "seconds", "AURA_REMOTE_IDLE_TIMEOUT",
           "--remote-idle-timeout", "Seconds a remote browser (a Grid slot) may sit unused before it is let go; a new "
           "one is started when needed.", "site", minimum=MIN_TIMEOUT),
    Option("headless", None, "flag", "AURA_HEADLESS", "--headless/--headed",  # unset: headed on a private Xvfb
           "Force a headless browser, or a headed one (on $DISPLAY, else on a private Xvfb) "
           "[default: headed on a private Xvfb when installed, which is what passes bot checks].", "site",
           launch="headless"),
    # Settings, the reply options: what each request is sent with.
    Option("model", DEFAULT_MODEL, "text", "AURA_MODEL", "--model", None, "reply"),
    Option("temperature", DEFAULT_TEMPERATURE, "number", "AURA_TEMPERATURE", "--temperature", None, "reply",
           minimum=TEMPERATURE_RANGE[0], maximum=TEMPERATURE_RANGE[1]),
    Option("max_tokens", DEFAULT_MAX_TOKENS, "integer", "AURA_MAX_TOKENS", "--max-tokens",
           "The model's tokenLimit: the budget the app trims the conversation to, 768 of it kept for the reply. Not "
           "the reply's length (the app caps that at 1000 tokens).", "reply", minimum=1),
    # Settings, the connect options: the transport and its timeouts (AURA_TIMEOUT is the default of the two after
    # it; the three make Settings' `timeouts`), a login's, and what a reply may be.
    Option("transport", "auto", "choice", "AURA_TRANSPORT", "--transport",
           "auto: direct HTTP, then impersonate (Chrome's TLS fingerprint), then a refreshed profile, then in-page.",
           "connect", choices=("auto", *TIERS)),
    Option("timeout", DEFAULT_TIMEOUT, "seconds", "AURA_TIMEOUT", "--timeout",
           "Seconds of silence allowed (first byte and between chunks).", "connect", minimum=MIN_TIMEOUT),
    Option("first_byte_timeout", None, "seconds", "AURA_FIRST_BYTE_TIMEOUT", "--first-byte-timeout",
           "Seconds to the first byte [default: --timeout].", "connect", minimum=MIN_TIMEOUT),
    Option("idle_timeout", None, "seconds", "AURA_IDLE_TIMEOUT", "--idle-timeout",
           "Seconds between two chunks [default: --timeout].", "connect", minimum=MIN_TIMEOUT),
    Option("login_timeout", DEFAULT_LOGIN_TIMEOUT, "seconds", "AURA_LOGIN_TIMEOUT", "--login-timeout",
           "Seconds a login may take: for the gate to let the browser through.", "connect",
           minimum=MIN_LOGIN_TIMEOUT, maximum=MAX_LOGIN_TIMEOUT, launch="timeout"),
    Option("send_anyway", False, "flag", "AURA_SEND_ANYWAY", "--send-anyway",  # send what may not fit
           "Send a question even when the token estimate says it may not fit --max-tokens (the app then drops it "
           "and answers nothing, if its own count is over).", "connect"),
    Option("max_reply_bytes", DEFAULT_MAX_REPLY_BYTES, "integer", "AURA_MAX_REPLY_BYTES", "--max-reply-bytes",
           "The most of one reply kept in memory (its text as UTF-8, decompressed); a longer reply fails (exit 5).",
           "connect", minimum=1),
    # Settings, with no flag: read from its variable by every face.
    Option("impersonate", None, "text", "AURA_IMPERSONATE",  # unset: the Chrome target nearest the profile's
           help="The curl_cffi target the impersonate transport shows (chrome152, firefox147...) instead of the "
                "Chrome nearest the profile's."),
    # One command's own options.
    Option("system", None, "text", "AURA_SYSTEM", "--system", "System prompt (sent as the body's `prompt`).",
           scope="ask, chat, batch"),
    Option("output", "-", "file", "AURA_BATCH_OUTPUT", "-o --output", "Where records go; '-' is stdout.",
           scope="batch", metavar="OUT.jsonl"),
    Option("resume", False, "flag", "AURA_BATCH_RESUME", "--resume",
           "Skip ids OUT already has a record for, and append to OUT.", scope="batch"),
    Option("allow_duplicate_ids", False, "flag", "AURA_BATCH_ALLOW_DUPLICATE_IDS", "--allow-duplicate-ids",
           "Run lines that share an id (with a warning) instead of refusing the file.", scope="batch"),
    Option("concurrency", 4, "integer", "AURA_BATCH_CONCURRENCY", "-c --concurrency", "Items in flight at once.",
           scope="batch", minimum=1, maximum=64),
    Option("skip_in_page", False, "flag", "AURA_DOCTOR_SKIP_IN_PAGE", "--skip-in-page",
           "Do not try the in-page transport (it starts a browser; skipping it is faster).", scope="doctor"),
    Option("host", "127.0.0.1", "text", "AURA_SERVE_HOST", "--host",
           "Address to listen on. Anything but loopback wants --api-key.", scope="serve"),
    Option("port", 8000, "integer", "AURA_SERVE_PORT", "--port", "0 picks a free port.", scope="serve",
           minimum=0, maximum=65535),
    Option("api_key", None, "text", "AURA_SERVE_API_KEY", "--api-key",
           "Clients must send 'Authorization: Bearer KEY'. Prefer the variable: options show in `ps`.", scope="serve"),
    Option("allow_hosts", None, "text", "AURA_SERVE_ALLOW_HOST", "--allow-host",
           "Also answer requests whose Host is NAME (a reverse proxy's name); repeatable. Besides: the --host "
           "address, localhost, 127.0.0.1 and [::1].", scope="serve",
           metavar="NAME", multiple=True),
    Option("cors_origins", None, "text", "AURA_SERVE_CORS_ORIGIN", "--cors-origin",
           "Let web pages of ORIGIN (https://host[:port]) call the API; repeatable. Requests from other pages are "
           "refused.", scope="serve",
           metavar="ORIGIN", multiple=True),
    Option("host", "127.0.0.1", "text", "AURA_REPLICA_HOST", "--host", None, scope="replica"),
    Option("port", 8765, "integer", "AURA_REPLICA_PORT", "--port", "0 picks a free port.", scope="replica",
           minimum=0, maximum=65535),
    Option("gate", "off", "choice", "AURA_REPLICA_GATE", "--gate",
           "challenge: a JS challenge sets cf_clearance. strict: also blocks non-browser TLS fingerprints. botcheck: "
           "the challenge also checks that no program drives the browser (docs/stealth.md). interactive: a checkbox "
           "in a cross-site iframe, judged on how it is clicked.", scope="replica",
           choices=("off", "challenge", "strict", "botcheck", "interactive")),
    Option("tls", False, "flag", "AURA_REPLICA_TLS", "--tls", "Serve HTTPS with a self-signed certificate (strict implies it).",
           scope="replica"),
    Option("tls_allow", "chromium", "text", "AURA_REPLICA_TLS_ALLOW", "--tls-allow",
           "Which TLS fingerprints the strict gate admits, comma-separated: 'chromium' (Chromium-like hellos), a JA4 "
           "or a JA3 hash; '!' before one refuses it.", scope="replica"),
)

# Settings field (or a timeout that builds its Timeouts) -> its row.
SETTINGS_OPTIONS: dict[str, Option] = {option.name: option for option in OPTIONS if option.scope == SETTINGS}
# The site and browser options: AuraClient's, the gpt4free face's and the pytest plugin's keywords, the CLI's `site`.
SITE_OPTIONS: tuple[str, ...] = tuple(name for name, option in SETTINGS_OPTIONS.items() if option.group == "site")


def default_of(name: str) -> Any:
    """The default of a Settings option, as declared."""
    return SETTINGS_OPTIONS[name].default


def own_option(command: str, name: str) -> Option:
    """The row of `command`'s own option `name` (`own_option("batch", "output")`)."""
    return next(option for option in OPTIONS if option.name == name and command in option.scope.split(", "))
