"""Accounts and API tokens."""
from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from app.errors import AuthenticationRequired, NotFound, ValidationFailed
from app.identifiers import InvalidIdentifier, check_id_card, check_mobile, check_uscc
from app.identity.models import Role, Tenant, User, UserRole
from app.identity.zones import credential_refused, sign_in_refused
from app.security import audit

_TOKEN_SALT = "bdcdj-api-token"
DEFAULT_HASH_METHOD = "scrypt"


def _hash_method() -> str:
    """``PASSWORD_HASH_METHOD`` of this app (``app.extensions["password_hash_method"]``, app.identity.init_app);
    the default where no app is active (a script or test building accounts directly)."""
    if not has_app_context():
        return DEFAULT_HASH_METHOD
    method: str = current_app.extensions["password_hash_method"]
    return method


# Accounts of organisations (banks, developers, courts): identified by a USCC, not an ID card.
ORGANISATION_ROLES = frozenset({"institution", "court"})


def create_user(session: Session, *, username: str, password: str, roles: list[str], kind: str | None = None,
                tenant_id: str | None = None, real_name: str | None = None, id_number: str | None = None,
                phone: str | None = None, actor_id: str | None = None) -> User:
    errors: dict[str, list[str]] = {}
    if not username or len(username) > 64:
        errors["username"] = ["用户名应为 1–64 个字符"]
    elif session.execute(select(User.id).where(User.username == username)).first():
        errors["username"] = ["该用户名已被使用"]
    from app.identity.signin import password_problems

    if problems := password_problems(password, username):
        errors["password"] = problems
    known = set(session.execute(select(Role.code)).scalars())
    unknown = [r for r in roles if r not in known]
    if not roles or unknown:
        errors["role"] = [f"未知角色：{', '.join(unknown)}" if unknown else "请至少指定一个角色"]
    if tenant_id is not None and session.get(Tenant, tenant_id) is None:
        errors["tenant"] = [f"未知辖区：{tenant_id}"]
    if kind is None:
        kind = "institution" if set(roles) & ORGANISATION_ROLES else "applicant" if roles == ["applicant"] else "staff"
    if id_number:
        try:
            id_number = check_uscc(id_number) if kind == "institution" else check_id_card(id_number)
        except InvalidIdentifier as exc:
            errors["id_number"] = [exc.message]
    if errors:
        raise ValidationFailed("用户信息有误", errors=errors)
    user = User(username=username, password_hash=generate_password_hash(password, method=_hash_method()),
                kind=kind, tenant_id=tenant_id)
    user.ensure_id()
    user.real_name = real_name
    user.id_number = id_number
    user.phone = phone
    user.roles = [UserRole(role_code=r) for r in roles]
    if id_number and real_name:
        from app.db import utcnow

        user.verified_at, user.verification_level = utcnow(), "registered"
    session.add(user)
    audit.record(session, actor_id=actor_id, action="user.create", object_type="user", object_id=user.id,
                 tenant_id=tenant_id, after={"username": username, "roles": roles, "kind": kind})
    return user


def authenticate(session: Session, username: str, password: str, address: str) -> User:
    """Check the password, honouring the growing delays of this account for this client ``address``: while one
    runs the attempt is refused (429) before the password is checked, and a wrong password lengthens the next.
    The skin must keep this request's writes on its error (``web.keep_writes_on_error``), or the failure would
    roll back with it. Over the internet zone a staff account is refused before its password is checked, with
    the same answer (app/identity/zones.py)."""
    from app.identity.signin import check_not_delayed, register_failure, register_success

    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.is_active:
        raise AuthenticationRequired("用户名或密码错误", code="bad_credentials")
    if sign_in_refused(session, user, way="password"):  # a staff account over the internet zone: as unknown
        raise AuthenticationRequired("用户名或密码错误", code="bad_credentials")
    check_not_delayed(session, user, address)
    if not check_password_hash(user.password_hash, password or ""):
        register_failure(session, user, address)
        raise AuthenticationRequired("用户名或密码错误", code="bad_credentials")
    _check_tenant_enabled(session, user)
    register_success(session, user, address)
    return user


def _check_tenant_enabled(session: Session, user: User, tenant: Tenant | None = None) -> None:
    """Staff of a disabled district can neither sign in nor keep using a token issued before. ``tenant``: the
    user's office when the caller loaded it already."""
    if user.tenant_id is not None:
        tenant = tenant if tenant is not None and tenant.code == user.tenant_id else session.get(Tenant, user.tenant_id)
        if tenant is not None and not tenant.enabled:
            raise AuthenticationRequired(f"所属辖区（{tenant.name}）已停用，无法登录", code="tenant_disabled")


def set_password(session: Session, user: User, password: str, *, actor_id: str | None) -> None:
    """A new password (reset by an operator or changed by the person): policy-checked, audited, and every
    token issued before it stops working (the token carries the hash fingerprint)."""
    from app.identity.signin import check_password_policy

    check_password_policy(password, user.username)
    user.password_hash = generate_password_hash(password, method=_hash_method())
    user.failed_logins = 0
    user.locked_until = None
    revoke_sessions(user)
    audit.record(session, actor_id=actor_id, action="user.password_reset", object_type="user", object_id=user.id,
                 tenant_id=user.tenant_id)


def revoke_sessions(user: User) -> None:
    """End every page session and API token of ``user`` (logout, password change, disabling): they carry the
    session version, which no longer matches."""
    user.session_version = (user.session_version or 0) + 1


def issue_token(secret: str, user: User) -> str:
    # The session version revokes every token on logout, password change or disabling.
    return URLSafeTimedSerializer(secret, salt=_TOKEN_SALT).dumps({"uid": user.id, "sv": user.session_version or 0})


def user_for_token(session: Session, secret: str, token: str, max_age: int) -> User:
    try:
        data = URLSafeTimedSerializer(secret, salt=_TOKEN_SALT).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise AuthenticationRequired("登录已过期，请重新登录", code="token_expired") from exc
    except BadSignature as exc:
        raise AuthenticationRequired("登录凭证无效", code="bad_token") from exc
    if not isinstance(data, dict):
        raise AuthenticationRequired("登录凭证无效", code="bad_token")
    return user_for_session(session, data.get("uid"), data.get("sv"), way="token")


def load_user(session: Session, *criteria: Any) -> User | None:
    """The user matching ``criteria`` with everything that authenticating a request reads, in one query: the
    roles with their permissions (for ``actor_for``) and the office joined in. Three queries per request were
    17 % of the server's CPU (issue 18)."""
    found = _user_and_office(session, *criteria)
    return found[0] if found is not None else None


def _user_and_office(session: Session, *criteria: Any) -> tuple[User, Tenant | None] | None:
    row = session.execute(
        select(User, Tenant).outerjoin(Tenant, Tenant.code == User.tenant_id).where(*criteria)
        .options(joinedload(User.roles))
    ).unique().first()
    return (row[0], row[1]) if row is not None else None


def user_for_session(session: Session, user_id: object, version: object, *, way: str = "session") -> User:
    """The active user whose sessions are still at ``version`` (a page session or a token's claims, ``way``).
    Over the internet zone a staff account's session or token is refused as an expired one
    (app/identity/zones.py)."""
    found = _user_and_office(session, User.id == user_id) if isinstance(user_id, str) else None
    user, office = found if found is not None else (None, None)
    if user is None or not user.is_active or not isinstance(version, int) or version != (user.session_version or 0):
        raise AuthenticationRequired("登录已失效，请重新登录", code="bad_token")
    if credential_refused(session, user, way=way):
        raise AuthenticationRequired("登录已失效，请重新登录", code="bad_token")
    _check_tenant_enabled(session, user, office)
    return user


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在")
    return user


def normalise_phone(phone: str) -> str:
    """A mobile number in its one stored form, or a refusal naming the ``phone`` field."""
    try:
        return check_mobile(phone)
    except InvalidIdentifier as exc:
        raise ValidationFailed(exc.message, field="phone", code="bad_phone") from None
