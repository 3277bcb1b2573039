"""Applicants sign up and sign in with their mobile phone and a one-time SMS code (staff keep passwords).

A code is six random digits sent through the SMS adapter; only an HMAC of it is stored (keyed, so a copy of
the database does not reveal codes), it expires after five minutes, allows five attempts, and a newer code
replaces older ones. Sending is rate-limited per phone and per client address in the database, so every
process counts the same sends. The phone itself is kept only as a blind index here; the account stores it
encrypted.
"""
from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.db import affected_rows, utcnow
from app.errors import ValidationFailed
from app.identity.models import SmsCode, User, UserRole
from app.identity.service import normalise_phone
from app.integrations.adapters.services import send_sms
from app.integrations.answers import stable
from app.integrations.client import CallContext
from app.security import audit, rate_limit
from app.security.fields import blind_index

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
PORTAL_KINDS = frozenset({"applicant", "institution"})
PER_PHONE = (rate_limit.Limit(1, timedelta(minutes=1), "验证码发送过于频繁，请 {wait}后再试"),
             rate_limit.Limit(5, timedelta(hours=1), "该手机号本小时获取验证码次数已达上限，请 {wait}后再试"))
PER_ADDRESS = (rate_limit.Limit(5, timedelta(minutes=1), "操作过于频繁，请 {wait}后再试"),
               rate_limit.Limit(30, timedelta(hours=1), "本网络获取验证码次数过多，请 {wait}后再试"))


def _digest(phone: str, code: str) -> str:
    return blind_index(f"sms-code:{phone}:{code}")


def portal_user_by_phone(session: Session, phone: str) -> User | None:
    """The applicant or organisation account registered with ``phone`` (one account per phone)."""
    return session.execute(select(User).where(User.phone_bidx == blind_index(phone), User.kind.in_(PORTAL_KINDS),
                                              User.is_active.is_(True)).order_by(User.created_at)).scalars().first()


def send_code(session: Session, phone: str, *, client_address: str, ctx: CallContext | None = None) -> str:
    """Send a fresh sign-in code to ``phone`` (normalised and returned). Raises ``ValidationFailed`` (phone),
    ``TooManyRequests`` or ``ServiceUnavailable`` (SMS gateway down)."""
    phone = normalise_phone(phone)
    now, phone_key = utcnow(), blind_index(phone)
    rate_limit.hit(session, f"sms:phone:{phone_key}", PER_PHONE, now=now)
    rate_limit.hit(session, f"sms:ip:{blind_index('ip:' + client_address)}", PER_ADDRESS, now=now)
    session.execute(update(SmsCode).where(SmsCode.phone_bidx == phone_key, SmsCode.used_at.is_(None))
                    .values(used_at=now))
    # the code goes out by SMS: a re-run of this unit of work (app/integrations/answers.py) sends the same one
    code = stable(session, f"sms-code:{phone_key}", lambda: f"{secrets.randbelow(1_000_000):06d}")
    row = SmsCode(phone_bidx=phone_key, purpose="login", code_hash=_digest(phone, code), created_at=now,
                  expires_at=now + CODE_TTL, attempts=0)
    row.ensure_id()
    session.add(row)
    send_sms(session, ctx or CallContext(), phone, "verify_code",
             {"code": code, "minutes": int(CODE_TTL.total_seconds() // 60)})
    return phone


def verify_code(session: Session, phone: str, code: str) -> str:
    """Check ``code`` for ``phone``; a wrong code uses up an attempt (the caller keeps that write even though
    the request fails). Returns the normalised phone."""
    phone = normalise_phone(phone)
    code = (code or "").strip()
    row = session.execute(select(SmsCode).where(SmsCode.phone_bidx == blind_index(phone), SmsCode.used_at.is_(None))
                          .order_by(SmsCode.created_at.desc()).with_for_update()).scalars().first()
    if row is None:
        raise ValidationFailed("请先获取短信验证码", field="code", code="no_code")
    if row.expires_at <= utcnow():
        raise ValidationFailed("验证码已过期，请重新获取", field="code", code="code_expired")
    if row.attempts >= MAX_ATTEMPTS:
        raise ValidationFailed("验证码错误次数过多，请重新获取", field="code", code="code_locked")
    row.attempts += 1
    if not (code.isdigit() and len(code) == 6 and hmac.compare_digest(row.code_hash, _digest(phone, code))):
        left = MAX_ATTEMPTS - row.attempts
        message = f"验证码错误，还可尝试 {left} 次" if left else "验证码错误次数过多，请重新获取"
        raise ValidationFailed(message, field="code", code="code_wrong")
    row.used_at = utcnow()
    return phone


def free_username(session: Session) -> str:
    """A display name that says nothing about the person (the phone and the name are personal data)."""
    while True:
        name = f"用户{secrets.randbelow(10**8):08d}"
        if session.execute(select(User.id).where(User.username == name)).first() is None:
            return name


def sign_up_or_in(session: Session, phone: str, *, accepted_terms: bool, may_create: bool = True) -> tuple[User, bool]:
    """The account of a verified ``phone``: the existing one, or (``may_create``: the sign-up page) a new
    applicant account, which needs the 用户须知 accepted. Returns (user, created)."""
    existing = portal_user_by_phone(session, phone)
    if existing is not None:
        audit.record(session, actor_id=existing.id, action="user.sms_login", object_type="user",
                     object_id=existing.id, after={"channel": "sms"})
        return existing, False
    if not may_create:
        raise ValidationFailed("该手机号尚未注册，请先注册", field="phone", code="not_registered")
    if not accepted_terms:
        raise ValidationFailed("请阅读并同意《用户须知》", field="terms", code="terms_required")
    now = utcnow()
    user = User(username=free_username(session), kind="applicant", is_active=True, terms_accepted_at=now,
                # no password: sign-in is by SMS code only; this value can never match a password check
                password_hash=f"!sms-only${secrets.token_urlsafe(24)}")
    user.ensure_id()
    user.phone = phone
    user.roles = [UserRole(role_code="applicant")]
    session.add(user)
    audit.record(session, actor_id=user.id, action="user.sign_up", object_type="user", object_id=user.id,
                 after={"kind": "applicant", "channel": "sms", "terms_accepted": True})
    return user, True


def prune_codes(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Codes are worthless once expired; keep a day of them for support questions, then drop them."""
    result = session.execute(delete(SmsCode).where(SmsCode.expires_at < utcnow() - older_than))
    return affected_rows(result)
