"""The sending side: a request to another platform, signed with this platform's key.

Like app/integrations/client.py it is a real HTTP adapter (httpx); unlike a department a peer is reached with
no password or API key — only the signature headers (app/federation/signing.py). It is called outside any
transaction (read the peer first, then call), so a slow peer never holds a lock.
"""
from __future__ import annotations

import json as jsonlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.federation import signing
from app.federation.peers import Peer
from app.integrations.client import ServiceUnavailable

TIMEOUT_S = 10.0


@dataclass(frozen=True)
class PeerReply:
    status: int
    data: dict[str, Any]


def signed_headers(key: Ed25519PrivateKey, *, sender: str, audience: str, method: str, path: str, body: bytes,
                   timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The headers that authenticate one request (``path`` with its query string, as the receiver sees it)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_urlsafe(18)
    message = signing.canonical_request(method, path, stamp, nonce, body, sender, audience)
    return {signing.HEADER_PEER: sender, signing.HEADER_AUDIENCE: audience, signing.HEADER_TIMESTAMP: stamp,
            signing.HEADER_NONCE: nonce, signing.HEADER_SIGNATURE: signing.sign(key, message)}


def call_peer(peer: Peer, key: Ed25519PrivateKey, *, sender: str, method: str, path: str,
              json: dict[str, Any] | None = None, timeout: float = TIMEOUT_S) -> PeerReply:
    """Send a signed request to ``peer``; any HTTP answer is a reply (the caller reads its code), no answer
    raises ``ServiceUnavailable``."""
    body = b"" if json is None else jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":")).encode()
    headers = signed_headers(key, sender=sender, audience=peer.code, method=method, path=path, body=body)
    if json is not None:
        headers["Content-Type"] = "application/json"
    try:
        response = httpx.request(method, peer.base_url + path, content=body, headers=headers, timeout=timeout,
                                 follow_redirects=False)
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(f"对接平台 {peer.name}（{peer.code}）暂时无法连接") from exc
    try:
        data = response.json()
    except ValueError:
        data = {}
    return PeerReply(response.status_code, data if isinstance(data, dict) else {"data": data})
