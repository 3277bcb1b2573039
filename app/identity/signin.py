"""Sign-in protection for an operator running the platform for years: a password policy, lockout after
repeated failures (held on the user row, so every process sees it, and audited), and optional TOTP
(RFC 6238, via pyotp) as a second factor for staff.

The policy is configuration set once by ``create_app`` from the settings, like the hashing method.
"""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import AuthenticationRequired, ValidationFailed
from app.identity.models import User
from app.security import audit


@dataclass(frozen=True)
class SignInPolicy:
    min_length: int = 8
    min_classes: int = 3
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    totp_issuer: str = "不动产登记"


_policy = SignInPolicy()


def configure_sign_in(policy: SignInPolicy) -> None:
    global _policy
    _policy = policy


def policy() -> SignInPolicy:
    return _policy


_CLASSES = (("小写字母", str.islower), ("大写字母", str.isupper), ("数字", str.isdigit),
            ("其他字符", lambda c: not c.isalnum()))


def password_problems(password: str, username: str | None) -> list[str]:
    """Every rule the password breaks, in Chinese, so the form can say all of them at once."""
    problems: list[str] = []
    password = password or ""
    if len(password) < _policy.min_length:
        problems.append(f"密码至少 {_policy.min_length} 位")
    present = [label for label, test in _CLASSES if any(test(c) for c in password)]
    if len(present) < _policy.min_classes:
        problems.append(f"密码须包含小写字母、大写字母、数字、其他字符中的至少 {_policy.min_classes} 类")
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


def check_not_locked(user: User, now: datetime | None = None) -> None:
    now = now or utcnow()
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise AuthenticationRequired(f"连续登录失败次数过多，账户已锁定，请 {minutes} 分钟后再试或联系管理员解锁",
                                     code="account_locked")


def register_failure(session: Session, user: User, now: datetime | None = None) -> bool:
    """Count one failed attempt; at the threshold lock the account for the configured minutes (audited).
    Returns True when this attempt locked the account. The caller must keep this write on its 401."""
    now = now or utcnow()
    session.refresh(user, with_for_update=True)  # concurrent attempts count one after another, none lost
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins < _policy.lockout_threshold:
        return False
    user.locked_until = now + timedelta(minutes=_policy.lockout_minutes)
    user.failed_logins = 0
    audit.record(session, actor_id=None, action="user.locked", object_type="user", object_id=user.id,
                 tenant_id=user.tenant_id, after={"until": user.locked_until.isoformat(),
                                                  "after_failures": _policy.lockout_threshold})
    return True


def register_success(user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None


def unlock(session: Session, user: User, actor_id: str | None) -> None:
    user.failed_logins = 0
    user.locked_until = None
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
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name=_policy.totp_issuer)


def totp_qr_svg(uri: str) -> str:
    """The enrolment QR code as an inline SVG (segno), scanned by any authenticator app."""
    return segno.make(uri, error="m").svg_inline(scale=5)  # type: ignore[no-any-return]


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


def require_totp(session: Session, user: User, code: str | None) -> None:
    """The second step for an account with TOTP on; a wrong code counts towards the lockout."""
    if not user.totp_enabled:
        return
    if not code:
        raise AuthenticationRequired("该账户已启用动态验证码，请输入验证码", code="otp_required")
    if not totp_matches(user, code):
        register_failure(session, user)
        raise AuthenticationRequired("动态验证码不正确", code="bad_otp")
    register_success(user)
