"""Signatures between platforms: Ed25519 over a canonical text, never a shared secret.

A request is signed over ``FED1\\n<METHOD>\\n<path?query>\\n<timestamp>\\n<nonce>\\n<sha256(body) hex>\\n<from>\\n<to>``
and carries the signature in headers (``X-Fed-Peer``, ``X-Fed-Timestamp``, ``X-Fed-Nonce``,
``X-Fed-Signature``); the receiver rebuilds the text from what it received, so a changed body, path, time or
audience breaks the signature. The canonical form is plain text with one field per line, and no field may
contain a line break, so two different requests can never share one text.
"""
from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from app.errors import DomainError

HEADER_PEER = "X-Fed-Peer"
HEADER_AUDIENCE = "X-Fed-Audience"
HEADER_TIMESTAMP = "X-Fed-Timestamp"
HEADER_NONCE = "X-Fed-Nonce"
HEADER_SIGNATURE = "X-Fed-Signature"


class FederationRefused(DomainError):
    """A peer's request or assertion is not accepted; ``code`` says why (peer_unknown, signature_invalid,
    request_expired, request_replayed, wrong_audience, assertion_invalid)."""

    status = 401
    code = "signature_invalid"


class FederationKeyMissing(DomainError):
    status = 503
    code = "federation_key_missing"


def canonical_request(method: str, path: str, timestamp: str, nonce: str, body: bytes, sender: str,
                      audience: str) -> bytes:
    """The exact bytes a request's signature covers."""
    fields = [method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest(), sender, audience]
    if any("\n" in f or "\r" in f for f in fields):
        raise FederationRefused("请求签名字段含有换行符", code="signature_invalid")
    return ("FED1\n" + "\n".join(fields)).encode("utf-8")


def private_key(encoded: str) -> Ed25519PrivateKey:
    """This platform's key from FEDERATION_SIGNING_KEY (base64 of the 32 raw bytes)."""
    if not encoded:
        raise FederationKeyMissing("本平台未配置联邦签名密钥（FEDERATION_SIGNING_KEY）", code="federation_key_missing")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FederationKeyMissing("FEDERATION_SIGNING_KEY 不是有效的 base64", code="federation_key_missing") from exc
    if len(raw) != 32:
        raise FederationKeyMissing("FEDERATION_SIGNING_KEY 应为 32 字节", code="federation_key_missing")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The base64 public key a peer configures for us (``flask federation key``)."""
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def parse_public_key(encoded: str) -> Ed25519PublicKey:
    """A peer's configured public key; a malformed one is refused where it is entered."""
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("公钥应为 32 字节 Ed25519 公钥的 base64 编码") from exc


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.urlsafe_b64encode(key.sign(message)).decode().rstrip("=")


def verify(public_key: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        public_key.verify(raw, message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
