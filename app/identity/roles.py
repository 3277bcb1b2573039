"""Role management: classify, add, edit, delete — a deletion is refused while anybody holds the role or a
process lane names it (the lane's tasks would have nobody to do them), and the refusal says which."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, ValidationFailed
from app.identity.actor import Actor
from app.identity.models import Role, User, UserRole
from app.identity.permissions import PERMISSIONS, ROLE_CATEGORIES, ROLE_SCOPES
from app.security import audit

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


class RoleValues(TypedDict):
    """A role as validated from the operator's form."""

    code: str
    name: str
    category: str
    scope: str
    permissions: list[str]


def all_roles(session: Session) -> list[Role]:
    """Every role, ordered by category then code (the choices of an account's roles)."""
    return list(session.execute(select(Role).order_by(Role.category, Role.code)).scalars())


def list_roles(session: Session) -> list[tuple[Role, int]]:
    """Every role with the number of accounts holding it, ordered by category then code."""
    counts = dict(session.execute(select(UserRole.role_code, func.count()).group_by(UserRole.role_code)).all())
    return [(r, int(counts.get(r.code, 0))) for r in all_roles(session)]


def role_names(session: Session) -> dict[str, str]:
    """Every role in the database (seeded from roles.yaml or created on /admin/roles), code → name: the lane
    roles a process diagram may name, so a role an operator adds can be used without editing files."""
    return {code: name for code, name in session.execute(select(Role.code, Role.name).order_by(Role.code))}


def get_role(session: Session, code: str) -> Role:
    role = session.get(Role, code)
    if role is None:
        raise NotFound(f"角色不存在：{code}")
    return role


def _validated(values: dict[str, object], creating: bool, session: Session) -> RoleValues:
    errors: dict[str, list[str]] = {}
    code = str(values.get("code") or "").strip()
    name = str(values.get("name") or "").strip()
    if creating:
        if not _CODE.match(code):
            errors["code"] = ["角色代码应为 2–32 位小写字母、数字或下划线，以字母开头"]
        elif session.get(Role, code) is not None:
            errors["code"] = ["该角色代码已存在"]
    if not name or len(name) > 64:
        errors["name"] = ["请填写角色名称（不超过 64 字）"]
    if values.get("category") not in ROLE_CATEGORIES:
        errors["category"] = ["请选择角色分类"]
    if values.get("scope") not in ROLE_SCOPES:
        errors["scope"] = ["请选择适用范围"]
    chosen = values.get("permissions") or []
    permissions = [str(p) for p in chosen] if isinstance(chosen, Iterable) else [str(chosen)]
    unknown = [p for p in permissions if p not in PERMISSIONS]
    if unknown:
        errors["permissions"] = [f"未知权限：{'、'.join(unknown)}"]
    if errors:
        raise ValidationFailed("角色信息有误", errors=errors)
    return {"code": code, "name": name, "category": str(values["category"]), "scope": str(values["scope"]),
            "permissions": sorted(set(permissions))}


def create_role(session: Session, actor: Actor, values: dict[str, object]) -> Role:
    actor.require("role:manage")
    clean = _validated(values, True, session)
    role = Role(**clean, customised=True)
    session.add(role)
    audit.record(session, actor_id=actor.user_id, action="role.create", object_type="role", object_id=role.code,
                 after={k: v for k, v in clean.items() if k != "code"})
    return role


def update_role(session: Session, actor: Actor, code: str, values: dict[str, object]) -> Role:
    actor.require("role:manage")
    role = get_role(session, code)
    clean = _validated(values, False, session)
    before = {"name": role.name, "category": role.category, "scope": role.scope, "permissions": list(role.permissions)}
    role.name, role.category, role.scope = clean["name"], clean["category"], clean["scope"]
    role.permissions = clean["permissions"]
    role.customised = True
    audit.record(session, actor_id=actor.user_id, action="role.update", object_type="role", object_id=code,
                 before=before, after={k: v for k, v in clean.items() if k != "code"})
    return role


def delete_role(session: Session, actor: Actor, code: str, lanes: list[str]) -> None:
    """``lanes``: the business types whose process still names the role in a lane (app/catalog/role_lanes.py),
    found by the caller: identity knows no process definitions."""
    actor.require("role:manage")
    role = get_role(session, code)
    holders = session.execute(select(User.username).join(UserRole, UserRole.user_id == User.id)
                              .where(UserRole.role_code == code).order_by(User.username)).scalars().all()
    reasons = []
    if holders:
        shown = "、".join(holders[:5]) + (f" 等 {len(holders)} 人" if len(holders) > 5 else "")
        reasons.append(f"仍有人员持有该角色（{shown}）")
    if lanes:
        reasons.append(f"流程泳道仍指定该角色（{'、'.join(lanes)}）")
    if reasons:
        raise Conflict(f"不能删除角色“{role.name}”：" + "；".join(reasons), code="role_in_use")
    session.delete(role)
    audit.record(session, actor_id=actor.user_id, action="role.delete", object_type="role", object_id=code,
                 before={"name": role.name, "permissions": list(role.permissions)})
