"""The knobs of the replica. One mutable object: every request reads the current values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .fingerprint import check_rules
from .models import MODELS

GATES = ("off", "challenge", "strict", "botcheck", "interactive")
CONTENT_ENCODINGS = ("gzip", "br", "zstd")
# What a knob's annotation admits; `int | None` also admits None. A bool is not a number here.
KINDS: dict[str, tuple[type, ...]] = {"bool": (bool,), "int": (int,), "float": (int, float), "str": (str,)}


@dataclass
class ReplicaConfig:
    # "off" | "challenge" | "strict" | "botcheck" (the challenge asks if a program drives the browser) |
    # "interactive" (Turnstile's checkbox in a cross-site iframe, which a person clicks)
    gate: str = "off"
    tls: bool = False  # serve HTTPS with a self-signed cert; read once, at start
    challenge_delay: float = 1.0  # seconds the challenge script waits before solving
    interactive_delay: float = 1.5  # seconds the interactive widget shows "Verifying..." before its checkbox
    interactive_refuse: bool = False  # the widget fails every click, as a puzzle no click solves would
    cookie_ttl: float = 1800.0  # cf_clearance lifetime, seconds
    chunk_size: int = 16  # bytes per chunk of the /api/chat reply
    chunk_delay: float = 0.0  # seconds between chunks
    split_multibyte: bool = True  # also put a chunk border inside every multi-byte character
    reply_bytes: int | None = None  # make the reply exactly this many UTF-8 bytes long
    drop_after: int | None = None  # close the connection after this many body bytes of /api/chat
    status: int | None = None  # answer /api/chat with this status and body "Error"
    reason: str | None = None  # reason phrase for `status` (and for the built-in 500s)
    retry_after: float | None = None  # Retry-After header sent with status 429
    redirect_to: str | None = None  # answer /api/chat and /api/models with a 307 to this URL
    hold_after: int | None = None  # pause the stream after this many chunks until released
    invalid_utf8: bool = False  # inject b"\xff\xfe" into the middle of the reply
    disabled: bool = False  # answer everything like a disabled Vercel deployment
    api_key: str = ""  # if set, the server has no key of its own and requires this one
    first_byte_delay: float = 0.0  # seconds before /api/chat answers at all (a slow upstream model)
    faults_left: int | None = None  # how many more /api/chat requests get status/drop_after/first_byte_delay; None: all
    # chance that an /api/chat request gets a random fault: drop, stall, or 500 with the upstream's message
    fault_rate: float = 0.0
    fault_seed: int | None = None  # seed of the random faults, for a run that can be repeated
    stall_seconds: float = 3600.0  # how long a random "stall" fault pauses the reply
    # What /api/models lists, and the ids /api/chat accepts (default: OpenChat 3.6 only, as the last deployment)
    models: list[dict[str, str]] = field(default_factory=lambda: [dict(m) for m in MODELS])
    truncate_after: int | None = None  # end /api/chat cleanly after this many body bytes (the app never does this)
    # after this many body bytes, send nothing more and never end the reply: the app, when its upstream breaks off
    hang_after: int | None = None
    endless: bool = False  # after the reply, send filler text in chunks of chunk_size bytes, and never end
    content_encoding: str | None = None  # compress /api/chat's reply as it streams: "gzip", "br" or "zstd"
    decode_per_packet: bool = False  # decode each chunk on its own, as the app does: split characters become U+FFFD
    upstream_down: bool = False  # the app's model upstream fails: /api/models and /api/chat answer 500 (`reason`)
    # Which ClientHellos the strict gate lets call /api/*: "chromium" (Chromium's fingerprint), a JA4, or a JA3
    # hash; "!" before one refuses it. A hello is admitted when no "!" rule matches it and another rule does.
    tls_allow: list[str] = field(default_factory=lambda: ["chromium"])

    def __post_init__(self) -> None:
        self._check_gate(self.gate)
        self._check_encoding(self.content_encoding)
        self.tls_allow = check_rules(self.tls_allow)
        if self.gate == "strict":
            self.tls = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply `changes` (field name -> value). Raises ValueError and changes nothing if one is bad."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown config field(s): {', '.join(unknown)}")
        annotations = {f.name: str(f.type) for f in fields(self)}
        for name, value in changes.items():
            _check_value(name, annotations[name], value)
        if "gate" in changes:
            self._check_gate(changes["gate"])
        if "content_encoding" in changes:
            self._check_encoding(changes["content_encoding"])
        if "tls_allow" in changes:
            changes = {**changes, "tls_allow": check_rules(changes["tls_allow"])}
        if "tls" in changes and bool(changes["tls"]) != self.tls:
            # The listening socket is set up once; switching TLS would need a new server.
            raise ValueError("tls cannot be changed on a running replica")
        for name, value in changes.items():
            setattr(self, name, value)

    @staticmethod
    def _check_encoding(encoding: object) -> None:
        if encoding is not None and encoding not in CONTENT_ENCODINGS:
            raise ValueError(f"content_encoding must be one of {CONTENT_ENCODINGS} or null, not {encoding!r}")

    @staticmethod
    def _check_gate(gate: object) -> None:
        if gate not in GATES:
            raise ValueError(f"gate must be one of {GATES}, not {gate!r}")


def _check_value(name: str, annotation: str, value: Any) -> None:
    """A knob's value must have its annotated type; a number must be finite and not negative (chunk_size >= 1)."""
    kind, _, optional = annotation.partition(" | ")
    if kind not in KINDS or (value is None and optional == "None"):
        return
    fits = isinstance(value, KINDS[kind]) and (kind == "bool" or not isinstance(value, bool))
    if fits and kind in ("int", "float"):
        fits = math.isfinite(value) and value >= (1 if name == "chunk_size" else 0)
    if not fits:
        wanted = {"bool": "true or false", "int": "an integer", "float": "a number", "str": "a string"}[kind]
        bounds = " >= 1" if name == "chunk_size" else " >= 0" if kind in ("int", "float") else ""
        raise ValueError(f"{name} must be {wanted}{bounds}{' or null' if optional else ''}, not {value!r}")
