"""TLS for the replica: a self-signed certificate, and reading a connection's ClientHello before the handshake.

The strict gate tells browsers from scripts the way Cloudflare's JA3/JA4 checks do: see fingerprint.py.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass

_RECORD_HEADER = 5
_HANDSHAKE = 0x16
_CLIENT_HELLO = 0x01


_GROUPS, _POINT_FORMATS, _SIGNATURE_ALGORITHMS, _ALPN, _SUPPORTED_VERSIONS = 10, 11, 13, 16, 43


@dataclass(frozen=True)
class ClientHello:
    """What the gate needs from a ClientHello: all that JA3 and JA4 are made of."""

    ciphers: tuple[int, ...]
    extensions: tuple[int, ...]  # in the order sent
    version: int = 0  # the legacy client_version field
    supported_versions: tuple[int, ...] = ()
    groups: tuple[int, ...] = ()
    point_formats: tuple[int, ...] = ()
    signature_algorithms: tuple[int, ...] = ()
    alpn: tuple[str, ...] = ()

    @property
    def grease(self) -> bool:
        return any(map(is_grease, self.ciphers + self.extensions))


def is_grease(value: int) -> bool:
    """RFC 8701 values: 0x0A0A, 0x1A1A, ... 0xFAFA."""
    return value >> 8 == value & 0xFF and value & 0x0F == 0x0A


def parse_client_hello(record: bytes) -> ClientHello | None:
    """Parse the first TLS record of a connection. None if it is not a ClientHello.

    A hello longer than one record is parsed as far as the record goes.
    """
    if len(record) < _RECORD_HEADER + 4 or record[0] != _HANDSHAKE or record[_RECORD_HEADER] != _CLIENT_HELLO:
        return None
    data = record[_RECORD_HEADER + 4 :]
    version = int.from_bytes(data[0:2], "big")
    pos = 2 + 32  # client_version, random
    try:
        pos += 1 + data[pos]  # session id
        cipher_len = int.from_bytes(data[pos : pos + 2], "big")
        cipher_bytes = data[pos + 2 : pos + 2 + cipher_len]
        ciphers = tuple(int.from_bytes(cipher_bytes[i : i + 2], "big") for i in range(0, len(cipher_bytes) - 1, 2))
        pos += 2 + cipher_len
        pos += 1 + data[pos]  # compression methods
    except IndexError:
        return None
    extensions: list[int] = []
    payloads: dict[int, bytes] = {}
    end = min(len(data), pos + 2 + int.from_bytes(data[pos : pos + 2], "big"))
    pos += 2
    while pos + 4 <= end:
        kind = int.from_bytes(data[pos : pos + 2], "big")
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        extensions.append(kind)
        payloads[kind] = data[pos + 4 : pos + 4 + length]
        pos += 4 + length
    return ClientHello(
        ciphers=ciphers,
        extensions=tuple(extensions),
        version=version,
        supported_versions=_numbers(payloads.get(_SUPPORTED_VERSIONS, b""), 2, length_bytes=1),
        groups=_numbers(payloads.get(_GROUPS, b""), 2, length_bytes=2),
        point_formats=_numbers(payloads.get(_POINT_FORMATS, b""), 1, length_bytes=1),
        signature_algorithms=_numbers(payloads.get(_SIGNATURE_ALGORITHMS, b""), 2, length_bytes=2),
        alpn=_protocols(payloads.get(_ALPN, b"")),
    )


def _numbers(payload: bytes, size: int, length_bytes: int) -> tuple[int, ...]:
    """A length-prefixed list of `size`-byte numbers, as far as the payload goes."""
    body = payload[length_bytes : length_bytes + int.from_bytes(payload[:length_bytes], "big")]
    return tuple(int.from_bytes(body[i : i + size], "big") for i in range(0, len(body) - size + 1, size))


def _protocols(payload: bytes) -> tuple[str, ...]:
    """ALPN's protocol names, in the client's order of preference."""
    names: list[str] = []
    pos = 2
    while pos < len(payload):
        length = payload[pos]
        names.append(payload[pos + 1 : pos + 1 + length].decode("latin-1"))
        pos += 1 + length
    return tuple(names)


async def peek_first_record(sock: socket.socket, timeout: float = 10.0) -> bytes:
    """Return the connection's first TLS record without consuming it, so the TLS layer still sees it.

    The wait uses SO_RCVLOWAT: the socket only polls readable once the whole record is buffered (or at EOF),
    so there is no busy loop on a level-triggered peek. Returns fewer bytes on EOF, or if the data is not TLS.
    """
    try:
        return await asyncio.wait_for(_peek(sock), timeout)
    finally:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)


async def _peek(sock: socket.socket) -> bytes:
    need = _RECORD_HEADER
    seen = -1
    while True:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, need)
        await _readable(sock)
        data = sock.recv(need, socket.MSG_PEEK)
        if len(data) >= need:
            if need > _RECORD_HEADER or data[0] != _HANDSHAKE:
                return data
            length = int.from_bytes(data[3:5], "big")
            if length == 0:
                return data
            need = _RECORD_HEADER + length
            continue
        if len(data) == seen:
            return data  # readable without progress: the peer closed its side
        seen = len(data)


async def _readable(sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(sock.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(sock.fileno())


def server_context() -> ssl.SSLContext:
    """A server SSLContext with a self-signed certificate for 127.0.0.1, ::1 and localhost."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _load_chain(ctx, *_certificate())
    # aiohttp's server speaks HTTP/1.1 only; clients offering h2 first (Chrome, curl_cffi) fall back to it.
    ctx.set_alpn_protocols(["http/1.1"])
    # No session tickets: a resumed hello adds pre_shared_key and so changes its JA4; every hello stays a full one.
    ctx.num_tickets = 0
    return ctx


def _load_chain(ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    """`load_cert_chain` reads only files: these are anonymous ones in memory (memfd), so the private key is
    never in a folder, and nothing is left behind however the process ends (kill -9 included)."""
    descriptors = [os.memfd_create("aura-replica-cert"), os.memfd_create("aura-replica-key")]
    try:
        for descriptor, data in zip(descriptors, (cert, key)):
            with os.fdopen(os.dup(descriptor), "wb") as file:
                file.write(data)
        ctx.load_cert_chain(*(f"/proc/self/fd/{descriptor}" for descriptor in descriptors))
    finally:
        for descriptor in descriptors:
            os.close(descriptor)


@functools.lru_cache(maxsize=1)
def _certificate() -> tuple[bytes, bytes]:
    """A self-signed certificate and its private key (PEM), made once per process."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aura-browser replica")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
