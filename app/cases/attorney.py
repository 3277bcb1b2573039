"""代理人 under a 授权委托书 (细则 12; issue 19): an agent institution (房屋经纪机构 / 登记代理机构) records the
powers of attorney its clients gave it, then files cases for them.

A case filed under a power of attorney is the agent's (``applicant_id``; the agent sees only the cases it filed,
app/casefile/access.py) and names the 委托书. Filing checks the 委托书 against the case: the principal is a party,
the business type and the unit are within its scope, it is valid today. A natural person who disposes of a
right through an agent (``DISPOSING_ROLES``) must sign the 委托书 in person at the registry or have it notarised:
online there is no registry desk, so the 公证书 is required and checked through 司法 sharing, and the answer is
kept in the case as a verification snapshot. The client still confirms the application (the invitation by SMS).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.attorney_models import PowerOfAttorney
from app.casefile.models import Case
from app.catalog.models import BusinessType
from app.clock import beijing_today
from app.errors import PermissionDenied, ValidationFailed
from app.identifiers import InvalidIdentifier, check_id_card, check_unit_code
from app.identity.actor import Actor
from app.identity.models import User
from app.integrations.adapters import sifa
from app.integrations.client import CallContext
from app.security import audit
from app.security.masking import mask_id_number, mask_name

# Roles in which a party gives up or burdens its right: a natural person in one of them acting through an agent
# needs the 委托书 notarised (细则 12).
DISPOSING_ROLES = frozenset({"seller", "mortgagor", "holder"})
AGENT_TYPES = frozenset({"agent"})
NOTARIAL_MATTER = "委托书公证"


@dataclass(frozen=True)
class PowerOfAttorneyInput:
    principal_name: str
    principal_id_number: str
    business_types: list[str]
    unit_codes: list[str]
    valid_from: date
    valid_until: date
    notarial_no: str | None = None


def is_agent(session: Session, actor: Actor) -> bool:
    if actor.kind != "institution" or not actor.user_id:
        return False
    user = session.get(User, actor.user_id)
    return user is not None and user.institution_type in AGENT_TYPES


def _require_agent(session: Session, actor: Actor) -> None:
    actor.require("application:create")
    if not is_agent(session, actor):
        raise PermissionDenied("仅房屋经纪机构、登记代理机构可备案授权委托书", code="not_an_agent")


def record_power_of_attorney(session: Session, actor: Actor, data: PowerOfAttorneyInput,
                             *, today: date | None = None) -> PowerOfAttorney:
    """Record a 委托书 the agent holds. Every field is checked on its own; the errors come back together."""
    _require_agent(session, actor)
    today = today or beijing_today()
    errors: dict[str, list[str]] = {}
    name = (data.principal_name or "").strip()
    if not 2 <= len(name) <= 50:
        errors["principal_name"] = ["请填写委托人姓名"]
    try:
        id_number = check_id_card(data.principal_id_number)
    except InvalidIdentifier as exc:
        errors["principal_id_number"] = [str(exc)]
        id_number = ""
    known = set(session.execute(select(BusinessType.code)).scalars())
    types = [t for t in dict.fromkeys(data.business_types)]
    if not types:
        errors["business_types"] = ["请选择委托办理的业务类型"]
    elif unknown := [t for t in types if t not in known]:
        errors["business_types"] = [f"没有该业务类型：{'、'.join(unknown)}"]
    units: list[str] = []
    for raw in data.unit_codes:
        try:
            units.append(check_unit_code(raw))
        except InvalidIdentifier as exc:
            errors["unit_codes"] = [f"{raw}：{exc}"]
    if not data.unit_codes:
        errors["unit_codes"] = ["请填写委托办理的不动产单元代码"]
    if data.valid_until < data.valid_from:
        errors["valid_until"] = ["委托期限的截止日期不能早于起始日期"]
    elif data.valid_until < today:
        errors["valid_until"] = ["委托期限已届满，不能备案"]
    notarial_no = (data.notarial_no or "").strip() or None
    if notarial_no is not None and len(notarial_no) > 64:
        errors["notarial_no"] = ["公证书编号过长"]
    if errors:
        raise ValidationFailed("授权委托书信息有误，请按提示修改", errors=errors)
    poa = PowerOfAttorney(agent_id=actor.user_id, business_types=types, unit_codes=list(dict.fromkeys(units)),
                          valid_from=data.valid_from, valid_until=data.valid_until, notarial_no=notarial_no)
    poa.ensure_id()
    poa.principal_name, poa.principal_id_number = name, id_number
    session.add(poa)
    audit.record(session, actor_id=actor.user_id, action="power_of_attorney.record", object_type="power_of_attorney",
                 object_id=poa.id, after={"business_types": types, "units": len(poa.unit_codes),
                                          "valid_until": poa.valid_until.isoformat(), "notarised": bool(notarial_no)})
    return poa


def powers_of(session: Session, actor: Actor) -> list[PowerOfAttorney]:
    _require_agent(session, actor)
    return list(session.execute(select(PowerOfAttorney).where(PowerOfAttorney.agent_id == actor.user_id)
                                .order_by(PowerOfAttorney.created_at)).scalars())


def shown(poa: PowerOfAttorney) -> dict[str, Any]:
    """A 委托书 for display: the principal masked."""
    return {"id": poa.id, "principal_name": mask_name(poa.principal_name),
            "principal_id_number": mask_id_number(poa.principal_id_number), "business_types": poa.business_types,
            "unit_codes": poa.unit_codes, "valid_from": poa.valid_from.isoformat(),
            "valid_until": poa.valid_until.isoformat(), "notarial_no": poa.notarial_no}


def file_under_power_of_attorney(session: Session, actor: Actor, case: Case, power_of_attorney_id: str | None,
                                 *, today: date | None = None) -> None:
    """The agent files ``case`` (its parties just read from the form) for its client. Refusals name the field:
    ``power_of_attorney_id`` (none, not the agent's, expired, principal not a party, not notarised),
    ``business_type`` / ``unit_code`` (outside the scope), ``notarial_no`` (司法 knows no such 公证书, or it is
    not the principal's 委托书公证)."""
    if not power_of_attorney_id:
        raise ValidationFailed("代理办理须选择已备案的授权委托书", field="power_of_attorney_id")
    poa = session.execute(select(PowerOfAttorney).where(PowerOfAttorney.id == power_of_attorney_id,
                                                        PowerOfAttorney.agent_id == actor.user_id)
                          ).scalar_one_or_none()
    if poa is None:
        raise ValidationFailed("未找到该授权委托书，请先备案", field="power_of_attorney_id")
    today = today or beijing_today()
    if not poa.valid_from <= today <= poa.valid_until:
        when = f"已于 {poa.valid_until.isoformat()} 到期" if today > poa.valid_until \
            else f"自 {poa.valid_from.isoformat()} 起生效"
        raise ValidationFailed(f"授权委托书不在委托期限内（{when}）", field="power_of_attorney_id")
    principal = [p for p in case.parties if p.id_number_bidx and p.id_number_bidx == poa.principal_bidx]
    if not principal:
        raise ValidationFailed("授权委托书的委托人不是本申请的当事人", field="power_of_attorney_id")
    if case.business_type_code not in poa.business_types:
        raise ValidationFailed("授权委托书的委托事项不包括该业务类型", field="business_type")
    if case.unit_code and case.unit_code not in poa.unit_codes:
        raise ValidationFailed("授权委托书的委托范围不包括该不动产单元", field="unit_code")
    # the principal is a natural person (recorded by ID card): disposing, the 委托书 must be notarised
    disposing = next((p for p in principal if p.role in DISPOSING_ROLES), None)
    if disposing is not None:
        _check_notarised(session, actor, case, poa, disposing.role, disposing.label)
    case.power_of_attorney_id = poa.id
    audit.record(session, actor_id=actor.user_id, action="case.file_as_agent", object_type="case",
                 object_id=case.ensure_id(), tenant_id=case.tenant_id,
                 after={"power_of_attorney": poa.id, "notarised": disposing is not None})


def _check_notarised(session: Session, actor: Actor, case: Case, poa: PowerOfAttorney, role: str,
                     label: str) -> None:
    """细则 12: a natural person disposing through an agent — the 委托书 must be notarised; 司法 confirms it."""
    from app.cases.sharing import snapshots

    if not poa.notarial_no:
        raise ValidationFailed("自然人委托代理处分不动产的，授权委托书须经公证，请补录公证书编号",
                               field="power_of_attorney_id")
    found = sifa.notarial_certificate(session, CallContext(actor_id=actor.user_id, case_id=case.ensure_id()),
                                      poa.notarial_no)
    cert = (found or {}).get("certificate") or {}
    if not cert:
        raise ValidationFailed(f"司法公证信息中未查询到公证书 {poa.notarial_no}，请核对公证书编号",
                               field="notarial_no")
    matches = (found or {}).get("result") == "一致" and poa.principal_id_number in (cert.get("parties") or []) \
        and cert.get("matter") == NOTARIAL_MATTER
    fields = [snapshots.field("公证书编号", poa.notarial_no, cert.get("cert_no"), "一致"),
              snapshots.field("公证事项", NOTARIAL_MATTER, cert.get("matter"),
                              "一致" if cert.get("matter") == NOTARIAL_MATTER else "不一致"),
              snapshots.field("委托人", poa.principal_id_number,
                              poa.principal_id_number if matches else None, "一致" if matches else "不一致",
                              "id_number"),
              snapshots.field("公证机构", None, cert.get("office"), "一致")]
    snapshots.take(session, case, actor.user_id, source="notarial", operation="notarial.query", fields=fields,
                   role=role, label=label)
    if not matches:
        raise ValidationFailed("该公证书不是委托人的授权委托书公证，请核对公证书编号", field="notarial_no")
