"""Sign-in protection for an operator running the platform for years: a password policy, growing delays after
repeated failures, and optional TOTP (RFC 6238, via pyotp) as a second factor for staff.

Failures slow down the pair (account, client address) — held in the database (app.security.rate_limit), so every
process sees them — instead of locking the account: five wrong passwords from an attacker's address must not
lock the owner out (a denial of service). The per-address side (password spraying over many accounts) is limited
by flask-limiter on the sign-in endpoints (app.security.throttle). An operator's "unlock" clears the delays.

The policy is this app's configuration (``app.extensions``, set by ``app.identity.init_app``), like the
hashing method.
"""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import AuthenticationRequired, ValidationFailed
from app.identity.models import User
from app.identity.zones import sign_in_refused
from app.security import audit, rate_limit


@dataclass(frozen=True)
class SignInPolicy:
    min_length: int = 8
    min_classes: int = 3
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    totp_issuer: str = "不动产登记"


def policy() -> SignInPolicy:
    """This app's policy (``app.extensions["sign_in_policy"]``, set by ``app.identity.init_app``); the default
    (strict) policy where no app is active (a script or test building accounts directly)."""
    if not has_app_context():
        return SignInPolicy()
    configured: SignInPolicy = current_app.extensions["sign_in_policy"]
    return configured


_CLASSES = (("小写字母", str.islower), ("大写字母", str.isupper), ("数字", str.isdigit),
            ("其他字符", lambda c: not c.isalnum()))


def password_problems(password: str, username: str | None) -> list[str]:
    """Every rule the password breaks, in Chinese, so the form can say all of them at once."""
    problems: list[str] = []
    password = password or ""
    rules = policy()
    if len(password) < rules.min_length:
        problems.append(f"密码至少 {rules.min_length} 位")
    present = [label for label, test in _CLASSES if any(test(c) for c in password)]
    if len(present) < rules.min_classes:
        problems.append(f"密码须包含小写字母、大写字母、数字、其他字符中的至少 {rules.min_classes} 类")
    if username and len(username) >= 3 and username.lower() in password.lower():
        problems.append("密码不能包含用户名")
    return problems


def check_password_policy(password: str, username: str | None, field: str = "password") -> None:
    problems = password_problems(password, username)
    if problems:
        raise ValidationFailed("；".join(problems), errors={field: problems})


def random_password() -> str:
    """A password nobody knows that still satisfies the policy (synced accounts before a reset)."""
    body = secrets.token_urlsafe(18)
    return body + secrets.choice(string.ascii_uppercase) + secrets.choice(string.digits) + "!a"


# Across all addresses (a guessing campaign spread over many addresses): many more free failures and a short
# longest delay, so that nobody can keep the owner out for long.
ACCOUNT_WIDE = rate_limit.Backoff(free=50, first=timedelta(seconds=1), longest=timedelta(minutes=1),
                                  window=timedelta(days=1), message="该账户登录失败次数过多，请 {wait}后再试")


def _per_address() -> rate_limit.Backoff:
    return rate_limit.Backoff(free=policy().lockout_threshold, first=timedelta(seconds=2),
                              longest=timedelta(minutes=policy().lockout_minutes), window=timedelta(days=1),
                              message="连续登录失败次数过多，请 {wait}后再试")


def _keys(user: User, address: str) -> tuple[str, str]:
    from app.security.fields import blind_index

    return f"signin:{user.id}:{blind_index('ip:' + (address or '-'))}", f"signin:{user.id}:*"


def check_not_delayed(session: Session, user: User, address: str, now: datetime | None = None) -> None:
    """Refuse (429) while a delay of this account for this address (or for all addresses) runs, before the
    password is checked."""
    mine, everyone = _keys(user, address)
    rate_limit.backoff_check(session, mine, _per_address(), now=now)
    rate_limit.backoff_check(session, everyone, ACCOUNT_WIDE, now=now)


def register_failure(session: Session, user: User, address: str, now: datetime | None = None) -> None:
    """Count one failed attempt of ``address`` on ``user``; from the threshold on, the next attempt from that
    address waits longer each time (audited when the delays start; ``locked_until`` shows operators until when).
    The caller must keep this write on its 401."""
    now = now or utcnow()
    for key in _keys(user, address):
        rate_limit.record_failure(session, key, now=now)
    session.refresh(user, with_for_update=True)  # concurrent attempts count one after another, none lost
    user.failed_logins = (user.failed_logins or 0) + 1  # shown to operators
    if user.failed_logins >= policy().lockout_threshold:
        rule = _per_address()
        user.locked_until = now + min(rule.longest, rule.first * 2 ** min(user.failed_logins - rule.free, 30))
    if user.failed_logins == policy().lockout_threshold:
        audit.record(session, actor_id=None, action="user.sign_in_delayed", object_type="user", object_id=user.id,
                     tenant_id=user.tenant_id, after={"after_failures": policy().lockout_threshold})


def register_success(session: Session, user: User, address: str) -> None:
    user.failed_logins = 0
    user.locked_until = None
    rate_limit.clear(session, _keys(user, address)[0])


def unlock(session: Session, user: User, actor_id: str | None) -> None:
    """An operator clears every sign-in delay of the account."""
    user.failed_logins = 0
    user.locked_until = None
    rate_limit.clear(session, f"signin:{user.id}:")
    audit.record(session, actor_id=actor_id, action="user.unlock", object_type="user", object_id=user.id,
                 tenant_id=user.tenant_id)


# --- TOTP ---------------------------------------------------------------------------------------------

def start_totp_enrolment(user: User) -> str:
    """A fresh secret held (encrypted) on the user but not yet required; returns the otpauth:// URI."""
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled = False
    return totp_uri(user)


def totp_uri(user: User) -> str:
    assert user.totp_secret
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name=policy().totp_issuer)


def totp_qr_svg(uri: str) -> str:
    """The enrolment QR code as an inline SVG (segno), scanned by any authenticator app."""
    import segno  # on use: only staff enrolling a TOTP app need it

    return segno.make(uri, error="m").svg_inline(scale=5)


def totp_matches(user: User, code: str, now: datetime | None = None) -> bool:
    code = (code or "").strip().replace(" ", "")
    if not user.totp_secret or not code.isdigit():
        return False
    return pyotp.TOTP(user.totp_secret).verify(code, for_time=now or utcnow(), valid_window=1)


def confirm_totp(session: Session, user: User, code: str) -> None:
    """Turn TOTP on once the person proves their app produces the codes (audited)."""
    if not totp_matches(user, code):
        raise ValidationFailed("验证码不正确，请核对手机上的动态码后重试", errors={"code": ["验证码不正确"]})
    user.totp_enabled = True
    audit.record(session, actor_id=user.id, action="user.totp_enabled", object_type="user", object_id=user.id,
                 tenant_id=user.tenant_id)


def reset_totp(session: Session, user: User, actor_id: str | None) -> None:
    user.totp_secret = None
    user.totp_enabled = False
    audit.record(session, actor_id=actor_id, action="user.totp_reset", object_type="user", object_id=user.id,
                 tenant_id=user.tenant_id)


def require_totp(session: Session, user: User, code: str | None, address: str) -> None:
    """The second step for an account with TOTP on; a wrong code counts towards the delays."""
    if not user.totp_enabled:
        return
    if sign_in_refused(session, user, way="totp"):  # the password step of another zone: answer as a bad code
        raise AuthenticationRequired("动态验证码不正确", code="bad_otp")
    if not code:
        raise AuthenticationRequired("该账户已启用动态验证码，请输入验证码", code="otp_required")
    check_not_delayed(session, user, address)
    if not totp_matches(user, code):
        register_failure(session, user, address)
        raise AuthenticationRequired("动态验证码不正确", code="bad_otp")
    register_success(session, user, address)
