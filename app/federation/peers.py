"""The trust store (configured peers) and the receiving side of a signed request: who sent it, whether the
signature holds, whether it is fresh and whether its nonce is new."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.config import ConfigError, check_platform
from app.db import utcnow
from app.errors import ValidationFailed
from app.federation import signing
from app.federation.models import FederationNonce, FederationPeer
from app.security import audit

NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class Peer:
    code: str
    name: str
    level: str
    base_url: str
    public_key: str


def _peer(row: FederationPeer) -> Peer:
    return Peer(row.code, row.name, row.level, row.base_url, row.public_key)


def add_peer(session: Session, *, code: str, name: str, level: str, base_url: str, public_key: str,
             actor_id: str | None = None) -> Peer:
    """Trust a platform (or replace its address and key: a key rotation is a new ``add``). Audited."""
    code, base_url, name = code.strip(), base_url.strip().rstrip("/"), name.strip()
    try:
        check_platform(level, code)
    except ConfigError as exc:
        raise ValidationFailed(f"平台级别与区划代码不符：{exc}", field="code") from exc
    if not base_url.startswith(("http://", "https://")):
        raise ValidationFailed("平台地址应以 http:// 或 https:// 开头", field="base_url")
    if not name:
        raise ValidationFailed("请填写平台名称", field="name")
    try:
        signing.parse_public_key(public_key)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="public_key") from exc
    row = session.get(FederationPeer, code)
    before = None if row is None else {"base_url": row.base_url, "public_key": row.public_key}
    if row is None:
        row = FederationPeer(code=code)
        session.add(row)
    row.name, row.level, row.base_url, row.public_key = name, level, base_url, public_key.strip()
    audit.record(session, actor_id=actor_id, action="federation.peer_added", object_type="federation_peer",
                 object_id=code, before=before, after={"level": level, "base_url": base_url,
                                                        "public_key": row.public_key})
    session.flush()
    return _peer(row)


def remove_peer(session: Session, code: str, *, actor_id: str | None = None) -> bool:
    row = session.get(FederationPeer, code)
    if row is None:
        return False
    session.delete(row)
    audit.record(session, actor_id=actor_id, action="federation.peer_removed", object_type="federation_peer",
                 object_id=code, before={"base_url": row.base_url})
    return True


def list_peers(session: Session) -> list[Peer]:
    return [_peer(r) for r in session.execute(select(FederationPeer).order_by(FederationPeer.code)).scalars()]


def get_peer(session: Session, code: str) -> Peer:
    row = session.get(FederationPeer, code) if code else None
    if row is None:
        raise signing.FederationRefused(f"未知的对接平台：{code or '（未注明）'}", code="peer_unknown")
    return _peer(row)


def use_nonce(session: Session, peer_code: str, nonce: str, expires_at: datetime) -> None:
    """Record ``nonce`` as used by ``peer_code``; a second use raises ``request_replayed``. Expired nonces are
    dropped on the way (their messages would be refused as expired anyway)."""
    if not NONCE_PATTERN.match(nonce or ""):
        raise signing.FederationRefused("随机数（nonce）格式不正确", code="signature_invalid")
    session.execute(delete(FederationNonce).where(FederationNonce.expires_at < utcnow()))
    try:
        with session.begin_nested():
            session.add(FederationNonce(peer_code=peer_code, nonce=nonce, expires_at=expires_at))
            session.flush()
    except IntegrityError as exc:
        raise signing.FederationRefused("该请求已被处理过，拒绝重放", code="request_replayed") from exc


def parse_timestamp(raw: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise signing.FederationRefused("请求时间戳格式不正确", code="request_expired") from exc


def authenticate_request(session: Session, *, own_code: str, skew_seconds: int, method: str, path: str,
                         headers: Any, body: bytes) -> Peer:
    """The peer that signed this request, or ``FederationRefused`` with the reason. Order: who (unknown →
    peer_unknown), the signature (signature_invalid), the time window (request_expired), then the nonce
    (request_replayed) — the nonce is stored only for a request that is otherwise good."""
    peer = get_peer(session, (headers.get(signing.HEADER_PEER) or "").strip())
    audience = headers.get(signing.HEADER_AUDIENCE) or ""
    timestamp, nonce = headers.get(signing.HEADER_TIMESTAMP) or "", headers.get(signing.HEADER_NONCE) or ""
    message = signing.canonical_request(method, path, timestamp, nonce, body, peer.code, audience)
    if not signing.verify(signing.parse_public_key(peer.public_key), message,
                          headers.get(signing.HEADER_SIGNATURE) or ""):
        raise signing.FederationRefused("请求签名验证失败", code="signature_invalid")
    if audience != own_code:
        raise signing.FederationRefused(f"请求的接收方（{audience}）不是本平台", code="wrong_audience")
    sent = parse_timestamp(timestamp)
    window = timedelta(seconds=skew_seconds)
    if abs(utcnow() - sent) > window:
        raise signing.FederationRefused("请求已过期或时间不同步，请核对双方系统时间", code="request_expired")
    use_nonce(session, peer.code, nonce, sent + 2 * window)
    return peer
