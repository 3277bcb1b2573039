"""The operator's directory: tenants (district registration offices), the organisation tree (centre →
district offices → sections) and the people in it — staff and institution accounts (banks, developers,
agents; identified by their USCC).

An operator at city level manages every tenant; one holding ``user:manage`` in a district role manages
only that district's accounts.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.identity.actor import Actor
from app.identity.models import Institution, OrgUnit, Role, Tenant, User, UserRole
from app.identity.service import create_user, get_user, revoke_sessions, set_password
from app.identity.signin import reset_totp, unlock
from app.security import audit

INSTITUTION_TYPES = {"bank": "银行", "developer": "房地产开发企业", "agent": "中介机构", "court": "法院等嘱托机关",
                     "collective": "农村集体经济组织"}
ORG_KINDS = {"centre": "登记中心", "district": "区（县）登记机构", "section": "科室"}


def check_in_scope(actor: Actor, tenant_id: str | None) -> None:
    scope = actor.tenant_scope
    if scope is not None and tenant_id not in scope:
        raise PermissionDenied("只能管理本辖区的人员", code="forbidden")


# --- tenants and the organisation tree -------------------------------------------------------------

def list_tenants(session: Session) -> list[Tenant]:
    return list(session.execute(select(Tenant).order_by(Tenant.level, Tenant.code)).scalars())


def districts(session: Session) -> list[Tenant]:
    """The district offices (区县登记机构) by code: what the front page lists and a city-level filter offers."""
    return list(session.execute(select(Tenant).where(Tenant.level == "district").order_by(Tenant.code)).scalars())


def ensure_org_tree(session: Session) -> None:
    """Every tenant has its node in the organisation tree (the city tenant is the centre)."""
    nodes = {o.tenant_id: o for o in session.execute(select(OrgUnit).where(OrgUnit.kind != "section")).scalars()}
    for tenant in sorted(list_tenants(session), key=lambda t: t.level != "city"):
        if tenant.code not in nodes:
            parent = nodes.get(tenant.parent_code)
            suffix = "中心" if tenant.level == "city" else "机构"
            node = OrgUnit(code=tenant.code, name=f"{tenant.name}不动产登记{suffix}",
                           kind="centre" if tenant.level == "city" else "district", tenant_id=tenant.code,
                           parent_id=parent.ensure_id() if parent else None, enabled=tenant.enabled)
            node.ensure_id()
            session.add(node)
            nodes[tenant.code] = node
    session.flush()


def create_tenant(session: Session, actor: Actor, *, code: str, name: str, parent_code: str) -> Tenant:
    actor.require("tenant:manage")
    errors: dict[str, list[str]] = {}
    code, name = (code or "").strip(), (name or "").strip()
    parent = session.get(Tenant, parent_code or "")
    if not re.fullmatch(r"\d{6}", code):
        errors["code"] = ["辖区代码应为 6 位行政区划代码（GB/T 2260）"]
    elif session.get(Tenant, code) is not None:
        errors["code"] = ["该辖区已存在"]
    if not name or len(name) > 64:
        errors["name"] = ["请填写辖区名称"]
    if parent is None or parent.level != "city":
        errors["parent_code"] = ["请选择所属的市级登记中心"]
    elif code[:4] != parent.code[:4] and "code" not in errors:
        errors["code"] = [f"区县代码应以上级 {parent.code[:4]} 开头"]
    if errors:
        raise ValidationFailed("辖区信息有误", errors=errors)
    assert parent is not None
    tenant = Tenant(code=code, name=name, level="district", parent_code=parent.code,
                    province_abbr=parent.province_abbr, enabled=True)
    session.add(tenant)
    session.flush()
    ensure_org_tree(session)
    audit.record(session, actor_id=actor.user_id, action="tenant.create", object_type="tenant", object_id=code,
                 tenant_id=code, after={"name": name, "parent": parent.code})
    return tenant


def set_tenant_enabled(session: Session, actor: Actor, code: str, enabled: bool) -> Tenant:
    """A disabled district keeps its data; its staff can no longer sign in."""
    actor.require("tenant:manage")
    tenant = session.get(Tenant, code)
    if tenant is None:
        raise NotFound(f"辖区不存在：{code}")
    if tenant.level == "city" and not enabled:
        raise Conflict("不能停用市级登记中心", code="city_tenant")
    tenant.enabled = enabled
    for node in session.execute(select(OrgUnit).where(OrgUnit.tenant_id == code, OrgUnit.kind != "section")).scalars():
        node.enabled = enabled
    audit.record(session, actor_id=actor.user_id, action="tenant.enable" if enabled else "tenant.disable",
                 object_type="tenant", object_id=code, tenant_id=code)
    return tenant


def org_tree(session: Session) -> list[tuple[int, OrgUnit]]:
    """The tree flattened depth-first as (depth, node), for an indented table."""
    nodes = list(session.execute(select(OrgUnit).order_by(OrgUnit.code)).scalars())
    children: dict[str | None, list[OrgUnit]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    out: list[tuple[int, OrgUnit]] = []

    def walk(parent: str | None, depth: int) -> None:
        for node in children.get(parent, []):
            out.append((depth, node))
            walk(node.id, depth + 1)

    walk(None, 0)
    return out


def sections(session: Session) -> list[OrgUnit]:
    return list(session.execute(select(OrgUnit).where(OrgUnit.kind == "section").order_by(OrgUnit.code)).scalars())


def create_section(session: Session, actor: Actor, *, code: str, name: str, parent_id: str) -> OrgUnit:
    actor.require("org:manage")
    errors: dict[str, list[str]] = {}
    code, name = (code or "").strip(), (name or "").strip()
    parent = session.get(OrgUnit, parent_id or "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{2,32}", code):
        errors["code"] = ["机构代码应为 2–32 位字母、数字、下划线或连字符"]
    elif session.execute(select(OrgUnit.id).where(OrgUnit.code == code)).first():
        errors["code"] = ["该机构代码已存在"]
    if not name or len(name) > 64:
        errors["name"] = ["请填写科室名称"]
    if parent is None or parent.kind == "section":
        errors["parent_id"] = ["科室应隶属于登记中心或区（县）登记机构"]
    if errors:
        raise ValidationFailed("机构信息有误", errors=errors)
    assert parent is not None
    check_in_scope(actor, parent.tenant_id)
    node = OrgUnit(code=code, name=name, kind="section", parent_id=parent.id, tenant_id=parent.tenant_id, enabled=True)
    node.ensure_id()
    session.add(node)
    audit.record(session, actor_id=actor.user_id, action="org.create", object_type="org_unit", object_id=node.id,
                 tenant_id=parent.tenant_id, after={"code": code, "name": name, "parent": parent.code})
    return node


# --- people ----------------------------------------------------------------------------------------

def usernames(session: Session, user_ids: Iterable[str | None]) -> dict[str, str]:
    """id → username of the given accounts, for pages that show who holds or did a task (no permission of
    its own: the caller already shows those tasks)."""
    known = {i for i in user_ids if i}
    if not known:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(known))).all())


def list_users(session: Session, actor: Actor, *, q: str = "", tenant: str = "", kind: str = "") -> list[User]:
    actor.require("user:manage")
    stmt = select(User).order_by(User.kind, User.tenant_id, User.username).limit(300)
    if actor.tenant_scope is not None:
        stmt = stmt.where(User.tenant_id.in_(actor.tenant_scope))
    if q:
        stmt = stmt.where(or_(User.username.contains(q), User.external_id == q))
    if tenant:
        stmt = stmt.where(User.tenant_id == tenant)
    if kind:
        stmt = stmt.where(User.kind == kind)
    return list(session.execute(stmt).scalars())


def _profile_errors(session: Session, values: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    section = values.get("org_unit_id") or None
    if section:
        node = session.get(OrgUnit, section)
        if node is None or node.kind != "section":
            errors["org_unit_id"] = ["请选择科室"]
        elif node.tenant_id != (values.get("tenant_id") or None):
            errors["org_unit_id"] = ["科室须属于该人员所在辖区"]
    itype = values.get("institution_type") or None
    if itype and itype not in INSTITUTION_TYPES:
        errors["institution_type"] = ["机构类型不正确"]
    return errors


def create_account(session: Session, actor: Actor, values: dict[str, Any]) -> User:
    """A new staff member or institution account (roles, district, section, initial password)."""
    actor.require("user:manage")
    tenant_id = values.get("tenant_id") or None
    check_in_scope(actor, tenant_id)
    errors = _profile_errors(session, values)
    if values.get("kind") == "institution" and not values.get("id_number"):
        errors["id_number"] = ["机构账户须填写统一社会信用代码"]
    try:
        user = create_user(session, username=(values.get("username") or "").strip(),
                           password=values.get("password") or "",
                           roles=list(values.get("roles") or []), kind=values.get("kind") or None, tenant_id=tenant_id,
                           real_name=values.get("real_name") or None, id_number=values.get("id_number") or None,
                           phone=values.get("phone") or None, actor_id=actor.user_id)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, errors={**errors, **exc.errors}) from exc
    if errors:
        raise ValidationFailed("人员信息有误", errors=errors)
    user.org_unit_id = values.get("org_unit_id") or None
    user.institution_type = values.get("institution_type") or None
    if user.kind == "institution":
        attach_to_institution(session, actor, user)
    return user


def attach_to_institution(session: Session, actor: Actor, user: User) -> None:
    """An institution account belongs to the organisation of its USCC — the one on record, else a new one named
    after the account — so an operator's new bank account can file batches and be supervised at once."""
    from app.identity.institutions import create_institution

    uscc = user.id_number
    org = session.execute(select(Institution).where(Institution.uscc == uscc)).scalar_one_or_none() if uscc else None
    if org is None:
        org = create_institution(session, name=user.real_name or user.username, uscc=uscc,
                                 institution_type=user.institution_type or "bank", tenant_id=user.tenant_id,
                                 actor_id=actor.user_id)
    user.institution_id = org.id
    user.institution_type = user.institution_type or org.institution_type


def update_account(session: Session, actor: Actor, user_id: str, values: dict[str, Any]) -> User:
    """Edit name, phone, district, section and roles (audited with the role change, never the PII)."""
    actor.require("user:manage")
    user = get_user(session, user_id)
    check_in_scope(actor, user.tenant_id)
    tenant_id = values.get("tenant_id") or None
    check_in_scope(actor, tenant_id)
    errors = _profile_errors(session, values)
    roles = sorted(set(values.get("roles") or []))
    known = set(session.execute(select(Role.code)).scalars())
    if not roles or set(roles) - known:
        errors["roles"] = ["请至少选择一个已有角色"]
    if tenant_id is not None and session.get(Tenant, tenant_id) is None:
        errors["tenant_id"] = [f"未知辖区：{tenant_id}"]
    if errors:
        raise ValidationFailed("人员信息有误", errors=errors)
    before = {"roles": user.role_codes, "tenant": user.tenant_id, "org_unit": user.org_unit_id}
    if user.kind != "applicant":  # an applicant's real-name identity comes from verification, not from here
        user.real_name = values.get("real_name") or None
        user.phone = values.get("phone") or None
    user.tenant_id = tenant_id
    user.org_unit_id = values.get("org_unit_id") or None
    if user.kind == "institution":
        user.institution_type = values.get("institution_type") or None
    if roles != user.role_codes:
        user.roles = [UserRole(role_code=r) for r in roles]
    audit.record(session, actor_id=actor.user_id, action="user.update", object_type="user", object_id=user.id,
                 tenant_id=tenant_id, before=before,
                 after={"roles": roles, "tenant": tenant_id, "org_unit": user.org_unit_id})
    return user


def set_account_active(session: Session, actor: Actor, user_id: str, active: bool) -> User:
    actor.require("user:manage")
    user = get_user(session, user_id)
    check_in_scope(actor, user.tenant_id)
    if user.id == actor.user_id and not active:
        raise Conflict("不能停用自己的账户", code="self_disable")
    user.is_active = active
    if not active:
        revoke_sessions(user)
    audit.record(session, actor_id=actor.user_id, action="user.enable" if active else "user.disable",
                 object_type="user", object_id=user.id, tenant_id=user.tenant_id)
    return user


def reset_account_password(session: Session, actor: Actor, user_id: str, password: str) -> User:
    actor.require("user:manage")
    user = get_user(session, user_id)
    check_in_scope(actor, user.tenant_id)
    set_password(session, user, password, actor_id=actor.user_id)
    return user


def unlock_account(session: Session, actor: Actor, user_id: str) -> User:
    actor.require("user:manage")
    user = get_user(session, user_id)
    check_in_scope(actor, user.tenant_id)
    unlock(session, user, actor.user_id)
    return user


def reset_account_totp(session: Session, actor: Actor, user_id: str) -> User:
    """For a lost phone: TOTP off, the person enrols again after signing in with the password."""
    actor.require("user:manage")
    user = get_user(session, user_id)
    check_in_scope(actor, user.tenant_id)
    reset_totp(session, user, actor.user_id)
    return user


# 证书号 prefixes (简称) by the first two digits of a province's division code
PROVINCE_ABBREVIATIONS = dict(zip(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65".split(),
    "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川黔云藏陕甘青宁新", strict=True))


def ensure_province_office(session: Session, code: str) -> Tenant:
    """A province platform's own office row (``flask setup`` at PLATFORM_LEVEL=province): it names and numbers
    what the province itself issues, the province-wide 无房证明 (``浙(2026)浙江省无房证明第0000001号``)."""
    from app.identifiers import division_name

    office = session.get(Tenant, code)
    if office is None:
        office = Tenant(code=code, name=division_name(code) or code, level="province",
                        province_abbr=PROVINCE_ABBREVIATIONS.get(code[:2], "浙"))
        session.add(office)
        session.flush()
    return office
