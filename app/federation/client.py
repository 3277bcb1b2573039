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
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.federation import signing
from app.federation.peers import Peer
from app.integrations import calllog
from app.integrations.client import ServiceUnavailable
from app.integrations.models import Interface, InterfaceCallLog

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
              json: dict[str, Any] | None = None, log_to: Any = None, operation: str = "peer.call",
              business_no: str | None = None, timeout_s: float = TIMEOUT_S) -> PeerReply:
    """Send a signed request to ``peer``; any HTTP answer is a reply (the caller reads its code), no answer
    raises ``ServiceUnavailable``. ``log_to`` (an engine): the call gets a line in the interface call log
    (interface ``peer:<code>``, the path only — never the body), written in a transaction of its own, and goes
    through that interface's circuit breaker like a department's (an open breaker answers at once)."""
    body = b"" if json is None else jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":")).encode()
    headers = signed_headers(key, sender=sender, audience=peer.code, method=method, path=path, body=body)
    if json is not None:
        headers["Content-Type"] = "application/json"
    log = None
    if log_to is not None:
        allowed, _trial = _breaker_allows(log_to, peer)
        if not allowed:
            log = InterfaceCallLog(interface_code=f"peer:{peer.code}", operation=operation, business_no=business_no,
                                   request_summary={"method": method, "path": path.split("?")[0]}, at=utcnow(),
                                   attempts=0, outcome="short_circuit", error="circuit breaker open")
            log.ensure_id()
            calllog.record(log_to, log, breaker=None)
            raise ServiceUnavailable(f"对接平台 {peer.name}（{peer.code}）暂时无法连接（熔断中）")
        log = InterfaceCallLog(interface_code=f"peer:{peer.code}", operation=operation, business_no=business_no,
                               request_summary={"method": method, "path": path.split("?")[0], "bytes": len(body)},
                               at=utcnow(), attempts=1)
        log.ensure_id()
    started = time.monotonic()
    try:
        response = httpx.request(method, peer.base_url + path, content=body, headers=headers, timeout=timeout_s,
                                 follow_redirects=False)
    except httpx.HTTPError as exc:
        if log is not None:
            log.outcome = "timeout" if isinstance(exc, httpx.TimeoutException) else "error"
            log.error, log.latency_ms = f"{type(exc).__name__}"[:300], int((time.monotonic() - started) * 1000)
            calllog.record(log_to, log, breaker=False)
        raise ServiceUnavailable(f"对接平台 {peer.name}（{peer.code}）暂时无法连接") from exc
    if log is not None:
        log.outcome = "ok" if response.status_code < 500 else "error"
        log.http_status, log.latency_ms = response.status_code, int((time.monotonic() - started) * 1000)
        log.error = None if response.status_code < 500 else f"HTTP {response.status_code}"
        calllog.record(log_to, log, breaker=response.status_code < 500)
    try:
        data = response.json()
    except ValueError:
        data = {}
    return PeerReply(response.status_code, data if isinstance(data, dict) else {"data": data})


def _breaker_allows(engine: Any, peer: Peer) -> tuple[bool, bool]:
    """The breaker of the interface row ``peer:<code>`` (made on the first call, so operators see the peer's
    health and breaker among the interfaces); read and made in a short transaction of its own."""
    code = f"peer:{peer.code}"
    with Session(bind=engine) as session:
        iface = session.execute(select(Interface).where(Interface.code == code)).scalar_one_or_none()
        if iface is not None:
            return calllog.breaker_allows(iface, utcnow())
        iface = Interface(code=code, name=f"对接平台：{peer.name}"[:64], base_url=peer.base_url, topics=[],
                          inbox_path=None, enabled=True)
        iface.ensure_id()
        session.add(iface)
        try:
            session.commit()
        except IntegrityError:  # made by a concurrent first call
            session.rollback()
    return True, False
