"""Signatures on the front channel: each request the portal front forwards is signed with the front's own Ed25519
key, and the back office verifies it with the front's public key (never a shared secret, app/federation/signing.py's
primitives).

The canonical text differs from a platform's (``FED1``) by its first line and one field, so a front's signature
can never pass as a platform's or the other way round::

    FRONT1
    <METHOD>
    <path?query, exactly as sent on the request line>
    <timestamp>
    <nonce>
    <sha256 of the body, hex>
    <front id>
    <the applicant's address, as the front saw it>

The applicant's address is signed because the back office throttles sign-ins per address: a front may not make it up
unsigned, and a request between the two cannot change it.
"""
from __future__ import annotations

import hashlib
import secrets
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.federation import signing

HEADER_FRONT = "X-Front-Id"
HEADER_CLIENT = "X-Front-Client"
HEADER_TIMESTAMP = "X-Front-Timestamp"
HEADER_NONCE = "X-Front-Nonce"
HEADER_SIGNATURE = "X-Front-Signature"
HEADERS = (HEADER_FRONT, HEADER_CLIENT, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)
FRONT_ID = "front"  # the front's name in the nonce table (federation_nonce.peer_code): never a division code


def canonical(method: str, target: str, timestamp: str, nonce: str, body_sha256: str, front: str,
              client: str) -> bytes:
    """The exact bytes a front-channel signature covers; a field holding a line break is refused."""
    fields = [method.upper(), target, timestamp, nonce, body_sha256, front, client]
    if any("\n" in f or "\r" in f for f in fields):
        raise signing.FederationRefused("请求签名字段含有换行符", code="signature_invalid")
    return ("FRONT1\n" + "\n".join(fields)).encode("utf-8")


def signed_headers(key: Ed25519PrivateKey, *, method: str, target: str, body_sha256: str, client: str,
                   front: str = FRONT_ID, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The headers that make one forwarded request the front's (``target``: path and query as sent)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_urlsafe(18)
    message = canonical(method, target, stamp, nonce, body_sha256, front, client)
    return {HEADER_FRONT: front, HEADER_CLIENT: client, HEADER_TIMESTAMP: stamp, HEADER_NONCE: nonce,
            HEADER_SIGNATURE: signing.sign(key, message)}


def verify(public_keys: list[Ed25519PublicKey], message: bytes, signature: str) -> bool:
    """True when any of the configured front keys (two during a rotation) made ``signature``."""
    return any(signing.verify(key, message, signature) for key in public_keys)


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
