"""JA3 and JA4 of a ClientHello, and the strict gate's rule for which hellos may call /api/*.

The rule is Cloudflare's idea, kept to what tells Chromium apart: GREASE values (RFC 8701) among the cipher
suites and extensions, exactly Chromium's cipher suites, every extension Chromium always sends, and ALPN with
h2 first. OpenSSL (aiohttp, requests) sends no GREASE; Firefox none either; Safari other cipher suites.
`tls_allow` rules name fingerprints to admit or refuse on top of it.
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import Iterable

from .tls import ClientHello, is_grease

CHROMIUM = "chromium"
# Chromium's cipher suites since version 93 (TLS 1.3 ones first), in the order it offers them.
CHROMIUM_CIPHERS = frozenset({
    0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014, 0x009C, 0x009D,
    0x002F, 0x0035,
})
# The extensions every Chromium hello carries (it shuffles their order since version 110, so the set is what
# counts): supported_groups, ec_point_formats, signature_algorithms, ALPN, extended_master_secret,
# compress_certificate, supported_versions, psk_key_exchange_modes, key_share, renegotiation_info. Chromium adds
# new ones now and then (ECH, ALPS, experiments), so others are not held against a hello.
CHROMIUM_EXTENSIONS = frozenset({10, 11, 13, 16, 23, 27, 43, 45, 51, 65281})
_JA3_HASH = re.compile(r"^[0-9a-f]{32}$")
_JA4 = re.compile(r"^[tqd]\d\d[di]\d\d\d\d\w\w_[0-9a-f]{12}_[0-9a-f]{12}$")
_SERVER_NAME, _ALPN = 0x0000, 0x0010


def _plain(values: Iterable[int]) -> list[int]:
    return [value for value in values if not is_grease(value)]


def ja3_string(hello: ClientHello) -> str:
    fields = (
        [hello.version], _plain(hello.ciphers), _plain(hello.extensions), _plain(hello.groups), list(hello.point_formats),
    )
    return ",".join("-".join(str(value) for value in field) for field in fields)


def ja3(hello: ClientHello) -> str:
    """The JA3 hash. Chromium shuffles its extensions, so a browser's JA3 changes from one connection to the next."""
    return hashlib.md5(ja3_string(hello).encode()).hexdigest()


def ja4(hello: ClientHello) -> str:
    """JA4 (FoxIO): protocol, TLS version, SNI, counts, ALPN; hashes of the sorted ciphers and extensions."""
    versions = _plain(hello.supported_versions) or [hello.version]
    tls_version = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10"}.get(max(versions), "00")
    ciphers, extensions = _plain(hello.ciphers), _plain(hello.extensions)
    alpn = hello.alpn[0] if hello.alpn else ""
    alpn_code = f"{alpn[0]}{alpn[-1]}" if alpn else "00"
    head = (
        f"t{tls_version}{'d' if _SERVER_NAME in extensions else 'i'}"
        f"{min(len(ciphers), 99):02d}{min(len(extensions), 99):02d}{alpn_code}"
    )
    cipher_hash = _hash12(",".join(f"{c:04x}" for c in sorted(ciphers))) if ciphers else "0" * 12
    sorted_extensions = ",".join(f"{e:04x}" for e in sorted(extensions) if e not in (_SERVER_NAME, _ALPN))
    algorithms = ",".join(f"{a:04x}" for a in _plain(hello.signature_algorithms))
    extension_hash = _hash12(f"{sorted_extensions}_{algorithms}" if algorithms else sorted_extensions)
    return f"{head}_{cipher_hash}_{extension_hash}"


def _hash12(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def looks_like_chromium(hello: ClientHello) -> bool:
    extensions = set(_plain(hello.extensions))
    return (
        any(map(is_grease, hello.ciphers))
        and any(map(is_grease, hello.extensions))
        and set(_plain(hello.ciphers)) == CHROMIUM_CIPHERS
        and CHROMIUM_EXTENSIONS <= extensions
        and hello.alpn[:1] == ("h2",)
    )


def check_rules(rules: Iterable[str]) -> list[str]:
    """The tls_allow rules, checked: `chromium`, a JA4, or a JA3 hash, each optionally prefixed with `!` (refuse)."""
    if isinstance(rules, str):
        rules = rules.split(",")
    checked = []
    for rule in rules:
        rule = rule.strip()
        body = rule[1:] if rule.startswith("!") else rule
        if body != CHROMIUM and not _JA3_HASH.match(body) and not _JA4.match(body):
            raise ValueError(f"tls_allow rule {rule!r} is not 'chromium', a JA4, or a JA3 hash (each may start with '!')")
        checked.append(rule)
    return checked


def admitted(hello: ClientHello | None, rules: Iterable[str]) -> bool:
    """Whether `hello` may call /api/*: no `!` rule matches it, and some other rule does."""
    return hello is not None and _admitted(hello, tuple(rules))


@functools.lru_cache(maxsize=256)  # asked at every request of a connection; an edge decides once per handshake
def _admitted(hello: ClientHello, rules: tuple[str, ...]) -> bool:
    names = {ja3(hello), ja4(hello)}

    def matches(rule: str) -> bool:
        return looks_like_chromium(hello) if rule == CHROMIUM else rule in names

    if any(matches(rule[1:]) for rule in rules if rule.startswith("!")):
        return False
    return any(matches(rule) for rule in rules if not rule.startswith("!"))
