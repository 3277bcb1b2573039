"""Cross-level identity: an applicant verified at one platform is not asked again below.

The upper platform signs an assertion ``<payload>.<signature>`` (base64url JSON, Ed25519 over
``FEDA1\\n<payload>``) naming the person (name, ID number), how and when it verified them, the platform it is
for (``aud``), an expiry of a few minutes and a nonce. The receiving platform checks issuer, signature,
audience, expiry and nonce, then signs the person in to the applicant account with that ID number (blind
index), creating one marked 实名 verified ``assertion`` when none exists. The person's data are never logged
or audited; the audit names the issuer and the account only.
"""
from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.sms_login import free_username
from app.db import utcnow
from app.errors import ValidationFailed
from app.federation import peers, signing
from app.identifiers import InvalidIdentifier, check_id_card
from app.identity.models import User, UserRole
from app.security import audit
from app.security.fields import blind_index

PREFIX = b"FEDA1\n"
MAX_LIFETIME_S = 600  # an assertion is for one navigation, not a session
DEFAULT_LIFETIME_S = 120
VERIFIED_VIA = "assertion"


@dataclass(frozen=True)
class Subject:
    name: str
    id_number: str
    level: str  # how the issuer verified the person (face, identity, …)
    verified_at: str  # ISO time at the issuer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(key: Ed25519PrivateKey, *, issuer: str, audience: str, subject: Subject,
          lifetime_s: int = DEFAULT_LIFETIME_S, now: float | None = None, nonce: str | None = None) -> str:
    """A signed assertion of ``subject`` for the platform ``audience`` (what the upper platform's link
    navigation puts into the redirect)."""
    issued = int(time.time() if now is None else now)
    payload = {"v": 1, "iss": issuer, "aud": audience, "iat": issued, "exp": issued + lifetime_s,
               "nonce": nonce or secrets.token_urlsafe(18),
               "sub": {"name": subject.name, "id_number": subject.id_number, "level": subject.level,
                       "verified_at": subject.verified_at}}
    body = _b64(json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{signing.sign(key, PREFIX + body.encode())}"


def _refuse(message: str, code: str) -> signing.FederationRefused:
    return signing.FederationRefused(message, code=code)


def verify(session: Session, token: str, *, own_code: str, skew_seconds: int) -> tuple[peers.Peer, Subject]:
    """The issuer and the subject of a good assertion for this platform; else ``FederationRefused``
    (assertion_invalid, peer_unknown, signature_invalid, wrong_audience, request_expired, request_replayed).
    The nonce is spent only by an assertion that passed every other check."""
    body, dot, signature = (token or "").strip().partition(".")
    try:
        payload: dict[str, Any] = json.loads(_unb64(body)) if dot else {}
    except (binascii.Error, ValueError, UnicodeDecodeError):
        payload = {}
    if not isinstance(payload, dict) or payload.get("v") != 1 or not isinstance(payload.get("sub"), dict):
        raise _refuse("身份断言格式不正确", "assertion_invalid")
    peer = peers.get_peer(session, str(payload.get("iss") or ""))
    if not signing.verify(signing.parse_public_key(peer.public_key), PREFIX + body.encode(), signature):
        raise _refuse("身份断言签名验证失败", "signature_invalid")
    if payload.get("aud") != own_code:
        raise _refuse("该身份断言不是签发给本平台的", "wrong_audience")
    try:
        issued, expires = int(payload["iat"]), int(payload["exp"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _refuse("身份断言缺少签发或有效时间", "assertion_invalid") from exc
    now = utcnow().timestamp()
    if expires - issued > MAX_LIFETIME_S or issued > now + skew_seconds or expires < now - skew_seconds:
        raise _refuse("身份断言已过期，请返回上级平台重新进入", "request_expired")
    sub = payload["sub"]
    subject = Subject(str(sub.get("name") or "").strip(), str(sub.get("id_number") or ""),
                      str(sub.get("level") or ""), str(sub.get("verified_at") or ""))
    try:
        subject = Subject(subject.name, check_id_card(subject.id_number), subject.level, subject.verified_at)
    except InvalidIdentifier as exc:
        raise _refuse("身份断言中的身份证号码无效", "assertion_invalid") from exc
    if not 2 <= len(subject.name) <= 30:
        raise _refuse("身份断言中的姓名无效", "assertion_invalid")
    peers.use_nonce(session, peer.code, str(payload.get("nonce") or ""),
                    datetime.fromtimestamp(expires, tz=UTC) + timedelta(seconds=skew_seconds))
    return peer, subject


def arrive(session: Session, token: str, *, own_code: str, skew_seconds: int) -> tuple[User, bool]:
    """Verify ``token`` and return the applicant account it signs in (created when the ID number has none);
    (user, created). A staff account with that ID number is never signed in this way."""
    peer, subject = verify(session, token, own_code=own_code, skew_seconds=skew_seconds)
    return account_for(session, peer, subject)


def account_for(session: Session, peer: peers.Peer, subject: Subject) -> tuple[User, bool]:
    """The applicant account of a person ``peer`` vouches for (verified there): found by ID number, or made and
    marked verified ``assertion``; (user, created). Shared by link navigation (``arrive``) and by applications
    forwarded from above (app/federation/applications.py)."""
    bidx = blind_index(subject.id_number)
    users = session.execute(select(User).where(User.id_number_bidx == bidx, User.kind == "applicant",
                                               User.is_active.is_(True))
                            .order_by(User.verified_at.is_(None), User.created_at)).scalars().all()
    user = users[0] if users else None
    created = user is None
    if user is None:
        user = User(username=free_username(session), kind="applicant", is_active=True,
                    # no password and no phone: this account signs in by assertion (or, once a phone is added,
                    # by SMS code)
                    password_hash=f"!assertion-only${secrets.token_urlsafe(24)}")
        user.ensure_id()
        user.roles = [UserRole(role_code="applicant")]
        session.add(user)
    elif user.real_name and user.real_name != subject.name:
        raise ValidationFailed("上级平台核验的姓名与本平台账户不一致，请联系登记机构", field="real_name",
                               code="identity_mismatch")
    if user.verified_at is None:
        user.real_name, user.id_number = subject.name, subject.id_number
        user.verified_at, user.verification_level = utcnow(), VERIFIED_VIA
    audit.record(session, actor_id=user.id, action="federation.identity_arrived", object_type="user",
                 object_id=user.id, after={"issuer": peer.code, "issuer_level": subject.level,
                                           "account_created": created, "verification_level": user.verification_level})
    session.flush()
    return user, created
