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
import re
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
class Navigation:
    """The link navigation claim (``nav``): the platform where the person chose 去办理 and its reference there,
    the business type and the division (a city, or a county under it) where it is to be done."""

    origin: str
    ref: str
    business_type: str
    target: str
    unit_code: str | None = None

    def claim(self) -> dict[str, Any]:
        data = {"origin": self.origin, "ref": self.ref, "type": self.business_type, "target": self.target}
        return {**data, "unit_code": self.unit_code} if self.unit_code else data


_NAV_FIELDS = {"origin": re.compile(r"^\d{6}$"), "ref": re.compile(r"^[A-Za-z0-9_-]{8,64}$"),
               "type": re.compile(r"^[a-z][a-z0-9_]{0,63}$"), "target": re.compile(r"^\d{6}$")}


def _navigation(raw: Any) -> Navigation:
    if not isinstance(raw, dict) or any(not isinstance(raw.get(k), str) or not p.match(raw[k])
                                        for k, p in _NAV_FIELDS.items()):
        raise _refuse("身份断言中的导航信息不正确", "assertion_invalid")
    unit = raw.get("unit_code")
    if unit is not None and (not isinstance(unit, str) or not re.fullmatch(r"[0-9A-Z]{28}", unit)):
        raise _refuse("身份断言中的不动产单元代码不正确", "assertion_invalid")
    return Navigation(raw["origin"], raw["ref"], raw["type"], raw["target"], unit)


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
          lifetime_s: int = DEFAULT_LIFETIME_S, now: float | None = None, nonce: str | None = None,
          navigation: dict[str, Any] | None = None) -> str:
    """A signed assertion of ``subject`` for the platform ``audience`` (what the upper platform's link
    navigation puts into the redirect); ``navigation`` is the link navigation's claim (``nav``: the origin
    platform, its reference, the business type, the target division), passed on unchanged level by level."""
    issued = int(time.time() if now is None else now)
    payload: dict[str, Any] = {
        "v": 1, "iss": issuer, "aud": audience, "iat": issued, "exp": issued + lifetime_s,
        "nonce": nonce or secrets.token_urlsafe(18),
        "sub": {"name": subject.name, "id_number": subject.id_number, "level": subject.level,
                "verified_at": subject.verified_at}}
    if navigation is not None:
        payload["nav"] = navigation
    body = _b64(json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{signing.sign(key, PREFIX + body.encode())}"


def _refuse(message: str, code: str) -> signing.FederationRefused:
    return signing.FederationRefused(message, code=code)


def verify(session: Session, token: str, *, own_code: str, skew_seconds: int) -> tuple[peers.Peer, Subject]:
    """The issuer and the subject of a good assertion for this platform; else ``FederationRefused``
    (assertion_invalid, peer_unknown, signature_invalid, wrong_audience, request_expired, request_replayed).
    The nonce is spent only by an assertion that passed every other check."""
    peer, subject, _navigation = verify_claims(session, token, own_code=own_code, skew_seconds=skew_seconds)
    return peer, subject


def verify_claims(session: Session, token: str, *, own_code: str,
                  skew_seconds: int) -> tuple[peers.Peer, Subject, Navigation | None]:
    """``verify`` with the link navigation's claim, when the assertion carries one (checked like the rest:
    a malformed claim refuses the whole assertion, ``assertion_invalid``)."""
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
    navigation = _navigation(payload.get("nav")) if "nav" in payload else None
    peers.use_nonce(session, peer.code, str(payload.get("nonce") or ""),
                    datetime.fromtimestamp(expires, tz=UTC) + timedelta(seconds=skew_seconds))
    return peer, subject, navigation


def arrive(session: Session, token: str, *, own_code: str, skew_seconds: int) -> tuple[User, bool]:
    """Verify ``token`` and return the applicant account it signs in (created when the ID number has none);
    (user, created). A staff account with that ID number is never signed in this way."""
    arrival = arrive_navigated(session, token, own_code=own_code, skew_seconds=skew_seconds)
    return arrival.user, arrival.created


@dataclass(frozen=True)
class Arrival:
    user: User
    created: bool
    issuer: peers.Peer
    subject: Subject
    navigation: Navigation | None


def arrive_navigated(session: Session, token: str, *, own_code: str, skew_seconds: int) -> Arrival:
    """``arrive`` telling also who sent the person, as whom, and the link navigation's claim if any (what
    the province passes on to the city, and what the city lands the person on)."""
    peer, subject, navigation = verify_claims(session, token, own_code=own_code, skew_seconds=skew_seconds)
    user, created = account_for(session, peer, subject, navigation=navigation)
    return Arrival(user, created, peer, subject, navigation)


def account_for(session: Session, peer: peers.Peer, subject: Subject, *,
                navigation: Navigation | None = None) -> tuple[User, bool]:
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
    after: dict[str, Any] = {"issuer": peer.code, "issuer_level": subject.level, "account_created": created,
                             "verification_level": user.verification_level}
    if navigation is not None:  # which navigation brought the person (its origin's reference, the type)
        after.update(navigation={"origin": navigation.origin, "ref": navigation.ref,
                                 "type": navigation.business_type, "target": navigation.target})
    audit.record(session, actor_id=user.id, action="federation.identity_arrived", object_type="user",
                 object_id=user.id, after=after)
    session.flush()
    return user, created
