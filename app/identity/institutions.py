"""Institutions as organisations: the record its accounts belong to, its port (open or closed by an operator),
and its administrator's management of its own staff accounts — within its organisation, never beyond.

A staff account of an institution acts in the organisation's name: it carries the organisation's USCC as its
verified identity (so the bank's officers file as the mortgagee) and the organisation's type."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.identifiers import InvalidIdentifier, check_uscc
from app.identity.actor import Actor
from app.identity.models import Institution, User
from app.identity.service import create_user, revoke_sessions, set_password
from app.security import audit

INSTITUTION_KINDS = {"bank": "银行", "developer": "房地产开发企业", "agent": "房屋经纪、登记代理机构",
                     "court": "法院等嘱托机关", "collective": "农村集体经济组织"}
# Roles an institution administrator may give its accounts: an officer files, an administrator also manages.
STAFF_ROLES = {"officer": ["institution"], "admin": ["institution", "institution_admin"]}
PORT_CLOSED_CODE = "institution_port_closed"


def create_institution(session: Session, *, name: str, uscc: str | None, institution_type: str,
                       tenant_id: str | None = None, actor_id: str | None = None) -> Institution:
    """A new organisation (operators, the demo data). The USCC is checked with its check characters."""
    errors: dict[str, list[str]] = {}
    if not name.strip() or len(name) > 128:
        errors["name"] = ["请填写机构名称（不超过 128 字）"]
    if institution_type not in INSTITUTION_KINDS:
        errors["institution_type"] = ["机构类型不正确"]
    if uscc:
        try:
            uscc = check_uscc(uscc)
        except InvalidIdentifier as exc:
            errors["uscc"] = [exc.message]
        else:
            if session.execute(select(Institution.id).where(Institution.uscc == uscc)).first():
                errors["uscc"] = ["该统一社会信用代码的机构已存在"]
    if errors:
        raise ValidationFailed("机构信息有误", errors=errors)
    institution = Institution(name=name.strip(), uscc=uscc, institution_type=institution_type, tenant_id=tenant_id,
                              port_open=True)
    institution.ensure_id()
    session.add(institution)
    audit.record(session, actor_id=actor_id, action="institution.create", object_type="institution",
                 object_id=institution.id, after={"name": institution.name, "type": institution_type})
    return institution


def institution_of(session: Session, actor: Actor) -> Institution | None:
    """The organisation the acting account belongs to (None for citizens, staff and unattached accounts)."""
    if actor.kind != "institution" or not actor.user_id:
        return None
    return session.execute(select(Institution).join(User, User.institution_id == Institution.id)
                           .where(User.id == actor.user_id)).scalar_one_or_none()


def require_institution(session: Session, actor: Actor) -> Institution:
    institution = institution_of(session, actor)
    if institution is None:
        raise PermissionDenied("仅限机构账户使用（该账户未归属任何机构）", code="not_an_institution")
    return institution


def require_port_open(session: Session, actor: Actor) -> None:
    """A new filing through an institution's account needs its port open. Running cases are not stopped: a
    closed port refuses only what would start a case (creating an application, batch items)."""
    institution = institution_of(session, actor)
    if institution is not None and not institution.port_open:
        raise Conflict(f"{institution.name}的申报端口已被登记机构关闭（原因：{institution.port_reason or '未说明'}），"
                       "暂不能提交新的申请；已受理的业务可继续办理", code=PORT_CLOSED_CODE)


def set_port(session: Session, actor: Actor, institution_id: str, *, open_: bool, reason: str) -> Institution:
    """停用 / 恢复 an institution's port, with the reason (required), who and when; audited."""
    actor.require("institution:supervise")
    institution = get_institution(session, institution_id)
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValidationFailed("请填写关闭或恢复端口的原因（不超过 500 字）", field="reason")
    if institution.port_open == open_:
        raise Conflict("端口已经是开放状态" if open_ else "端口已经关闭", code="port_unchanged")
    before = {"port_open": institution.port_open, "reason": institution.port_reason}
    institution.port_open, institution.port_reason = open_, reason
    institution.port_changed_by, institution.port_changed_at = actor.user_id, utcnow()
    audit.record(session, actor_id=actor.user_id, action="institution.port_open" if open_ else "institution.port_close",
                 object_type="institution", object_id=institution.id, before=before,
                 after={"port_open": open_, "reason": reason})
    return institution


def get_institution(session: Session, institution_id: str) -> Institution:
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound("机构不存在", code="institution_not_found")
    return institution


def list_institutions(session: Session) -> list[Institution]:
    return list(session.execute(select(Institution).order_by(Institution.institution_type, Institution.name))
                .scalars())


# --- an institution administrator's own staff -------------------------------------------------------------

def _administered(session: Session, actor: Actor) -> Institution:
    actor.require("institution:staff")
    return require_institution(session, actor)


def _own_staff(session: Session, actor: Actor, user_id: str) -> tuple[Institution, User]:
    """The account ``user_id`` if it belongs to the administrator's organisation; another organisation's
    account is answered as not found (its existence is not the administrator's business)."""
    institution = _administered(session, actor)
    user = session.get(User, user_id)
    if user is None or user.institution_id != institution.id:
        raise NotFound("本机构没有该账户", code="staff_not_found")
    return institution, user


def list_staff(session: Session, actor: Actor) -> list[User]:
    institution = _administered(session, actor)
    return list(session.execute(select(User).where(User.institution_id == institution.id)
                                .order_by(User.username)).scalars())


def create_staff(session: Session, actor: Actor, values: dict[str, Any]) -> User:
    """A branch or officer account of the administrator's organisation: it acts in the organisation's name."""
    institution = _administered(session, actor)
    role = str(values.get("role") or "officer")
    if role not in STAFF_ROLES:
        raise ValidationFailed("账户角色应为 officer（经办人员）或 admin（机构管理员）", field="role")
    user = create_user(session, username=str(values.get("username") or "").strip(),
                       password=str(values.get("password") or ""), roles=STAFF_ROLES[role], kind="institution",
                       tenant_id=None, real_name=institution.name, id_number=institution.uscc,
                       phone=values.get("phone") or None, actor_id=actor.user_id)
    user.institution_id, user.institution_type = institution.id, institution.institution_type
    if institution.uscc:
        user.verification_level = "organisation"
    audit.record(session, actor_id=actor.user_id, action="institution.staff_create", object_type="user",
                 object_id=user.id, after={"institution": institution.id, "role": role,
                                           "branch": str(values.get("branch") or "")[:64]})
    return user


def set_staff_active(session: Session, actor: Actor, user_id: str, active: bool) -> User:
    _, user = _own_staff(session, actor, user_id)
    if user.id == actor.user_id and not active:
        raise Conflict("不能停用自己的账户", code="self_disable")
    user.is_active = active
    if not active:
        revoke_sessions(user)
    audit.record(session, actor_id=actor.user_id, action="user.enable" if active else "user.disable",
                 object_type="user", object_id=user.id, after={"by": "institution_admin"})
    return user


def reset_staff_password(session: Session, actor: Actor, user_id: str, password: str) -> User:
    _, user = _own_staff(session, actor, user_id)
    set_password(session, user, password, actor_id=actor.user_id)
    return user


def staff_view(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "active": user.is_active, "roles": user.role_codes,
            "admin": "institution_admin" in user.role_codes}
