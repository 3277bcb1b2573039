"""代理人 under a 授权委托书 (细则 12; issue 19): an agent institution (房屋经纪机构 / 登记代理机构) records the
powers of attorney its clients gave it, then files cases for them.

A case filed under a power of attorney is the agent's (``applicant_id``; the agent sees only the cases it filed,
app/casefile/access.py) and names the 委托书. Filing checks the 委托书 against the case: the principal is a party,
the business type and the unit are within its scope, it is valid today. A natural person who disposes of a
right through an agent (``DISPOSING_ROLES``) must sign the 委托书 in person at the registry or have it notarised:
online there is no registry desk, so the 公证书 number is required at filing, and 司法 sharing confirms it at
submission, with the other departments' checks (``check_notarial``): the answer is kept in the case as a
verification snapshot; when 司法 cannot answer the case waits (等待部门核验) and the verification job asks again
(app/cases/sharing/rechecks.py). The client still confirms the application (the invitation by SMS).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.attorney_models import PowerOfAttorney
from app.casefile.context import CaseContext
from app.casefile.models import Case, Party
from app.catalog.definitions import BusinessTypeDef
from app.catalog.models import BusinessType
from app.clock import beijing_today
from app.db import utcnow
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.identifiers import InvalidIdentifier, check_id_card, check_unit_code
from app.identity.actor import Actor
from app.identity.models import User
from app.integrations.adapters import sifa
from app.integrations.client import ServiceUnavailable
from app.security import audit
from app.security.masking import mask_id_number, mask_name

# Roles in which a party gives up or burdens its right: a natural person in one of them acting through an agent
# needs the 委托书 notarised (细则 12).
DISPOSING_ROLES = frozenset({"seller", "mortgagor", "holder"})
AGENT_TYPES = frozenset({"agent"})
NOTARIAL_MATTER = "委托书公证"
NOTARIAL_OPERATION = "notarial.query"


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
            "valid_until": poa.valid_until.isoformat(), "notarial_no": poa.notarial_no,
            "revoked_at": poa.revoked_at.isoformat() if poa.revoked_at else None, "revoke_reason": poa.revoke_reason}


def revoke_power_of_attorney(session: Session, actor: Actor, power_of_attorney_id: str, reason: str) -> PowerOfAttorney:
    """撤销委托 (民法典 173): the agent that recorded it, the principal (his own account), or a window clerk
    (``case:window_intake``) the principal came to. After it no new filing or edit may use the 委托书; cases
    already submitted under it run on (they are decided on what was true when filed). Anyone else: not found."""
    text = (reason or "").strip()
    if not 2 <= len(text) <= 200:
        raise ValidationFailed("请填写撤销委托的原因（2 至 200 字）", field="reason")
    poa = session.get(PowerOfAttorney, power_of_attorney_id)
    if actor.kind == "staff":
        actor.require("case:window_intake")
    elif poa is not None and not (poa.agent_id == actor.user_id
                                  or (actor.id_number_bidx and actor.id_number_bidx == poa.principal_bidx)):
        poa = None
    if poa is None:
        raise NotFound("未找到该授权委托书", code="power_of_attorney_not_found")
    if poa.revoked_at is not None:
        raise Conflict("该授权委托书已撤销", code="already_revoked")
    poa.revoked_at, poa.revoked_by, poa.revoke_reason = utcnow(), actor.user_id, text
    by = "agent" if poa.agent_id == actor.user_id else "staff" if actor.kind == "staff" else "principal"
    audit.record(session, actor_id=actor.user_id, action="power_of_attorney.revoke", object_type="power_of_attorney",
                 object_id=poa.id, tenant_id=actor.tenant_id if actor.kind == "staff" else None,
                 after={"revoked_by": by, "reason": text})
    return poa


def file_under_power_of_attorney(session: Session, actor: Actor, case: Case, power_of_attorney_id: str | None,
                                 *, today: date | None = None) -> None:
    """The agent files ``case`` (its parties just read from the form) for its client. Refusals name the field:
    ``power_of_attorney_id`` (none, not the agent's, revoked, expired, principal not a party, not notarised),
    ``business_type`` / ``unit_code`` (outside the scope). 司法 confirms the 公证书 at submission
    (``check_notarial``)."""
    if not power_of_attorney_id:
        raise ValidationFailed("代理办理须选择已备案的授权委托书", field="power_of_attorney_id")
    poa = session.execute(select(PowerOfAttorney).where(PowerOfAttorney.id == power_of_attorney_id,
                                                        PowerOfAttorney.agent_id == actor.user_id)
                          ).scalar_one_or_none()
    if poa is None:
        raise ValidationFailed("未找到该授权委托书，请先备案", field="power_of_attorney_id")
    if poa.revoked_at is not None:
        raise ValidationFailed("该授权委托书已撤销，不能再据此代理申请", field="power_of_attorney_id")
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
    if disposing is not None and not poa.notarial_no:
        raise ValidationFailed("自然人委托代理处分不动产的，授权委托书须经公证，请补录公证书编号",
                               field="power_of_attorney_id")
    case.power_of_attorney_id = poa.id
    audit.record(session, actor_id=actor.user_id, action="case.file_as_agent", object_type="case",
                 object_id=case.ensure_id(), tenant_id=case.tenant_id,
                 after={"power_of_attorney": poa.id, "notarised": disposing is not None})


def with_agent(definition: BusinessTypeDef, form: dict[str, Any]) -> dict[str, Any]:
    """A case filed under a 委托书 is a case with an agent: ``has_agent`` set where the type's form has it, so
    the checklist asks for the 授权委托书 (waived when 司法 confirms its 公证, ``check_notarial``) and the
    form for the agent's 经办人."""
    if "has_agent" in (definition.application_schema.get("properties") or {}):
        return {**form, "has_agent": True}
    return form


def disposing_principal(session: Session, case: Case) -> tuple[PowerOfAttorney, Party] | None:
    """The case's 委托书 and its principal when the principal disposes of a right (the 公证 to be checked)."""
    if not case.power_of_attorney_id:
        return None
    poa = session.get(PowerOfAttorney, case.power_of_attorney_id)
    if poa is None:
        return None
    disposing = next((p for p in case.parties if p.id_number_bidx and p.id_number_bidx == poa.principal_bidx
                      and p.role in DISPOSING_ROLES), None)
    return (poa, disposing) if disposing is not None else None


def check_notarial(ctx: CaseContext, roles: Iterable[str | None] | None = None, rerun: bool = False) -> dict[str, Any]:
    """细则 12, at submission with the other departments' checks: 司法 confirms the 委托书's 公证书 (number,
    matter, principal) and the answer is kept as a snapshot. A mismatch refuses the submission (field
    ``notarial_no``), or, on the verification job's re-run (``rerun``), is recorded for the acceptor. When
    司法 cannot answer, a pending 未核验 record makes the case wait (等待部门核验) instead of failing."""
    from app.cases.sharing import snapshots

    session, case, actor_id = ctx.session, ctx.case, ctx.actor.user_id
    found = disposing_principal(session, case)
    if found is None:
        return {"notarial": {}}
    poa, party = found
    if roles is not None and party.role not in set(roles):
        return {"notarial": {}}
    notarial_no = poa.notarial_no or ""
    try:
        answer = sifa.notarial_certificate(session, snapshots.context_of(case, actor_id), notarial_no)
    except ServiceUnavailable:
        snapshots.take_unavailable(session, case, actor_id, source="notarial", operation=NOTARIAL_OPERATION,
                                   declared=[("公证书编号", notarial_no, None),
                                             ("委托人", poa.principal_id_number, "id_number")],
                                   role=party.role, label=party.label)
        return {"notarial": {party.role: "未核验"}}
    cert = (answer or {}).get("certificate") or {}
    matches = bool(cert) and (answer or {}).get("result") == "一致" \
        and poa.principal_id_number in (cert.get("parties") or []) and cert.get("matter") == NOTARIAL_MATTER
    fields = [snapshots.field("公证书编号", notarial_no, cert.get("cert_no"), "一致" if cert else "不一致"),
              snapshots.field("公证事项", NOTARIAL_MATTER, cert.get("matter"),
                              "一致" if cert.get("matter") == NOTARIAL_MATTER else "不一致"),
              snapshots.field("委托人", poa.principal_id_number,
                              poa.principal_id_number if matches else None, "一致" if matches else "不一致",
                              "id_number"),
              snapshots.field("公证机构", None, cert.get("office"), "一致" if cert else "不一致")]
    snap = snapshots.take(session, case, actor_id, source="notarial", operation=NOTARIAL_OPERATION, fields=fields,
                          role=party.role, label=party.label)
    if matches:
        from app.casefile.access import definition_of
        from app.cases.sharing import exemptions

        exemptions.waive(session, case, definition_of(session, case), source="notarial", role=party.role,
                         snapshot=snap,
                         reason=f"司法部门公证信息核验一致（{party.label}的授权委托书公证），免提交授权委托书")
    if not matches and not rerun:
        message = (f"司法公证信息中未查询到公证书 {notarial_no}，请核对公证书编号" if not cert
                   else "该公证书不是委托人的授权委托书公证，请核对公证书编号")
        raise ValidationFailed(message, code="notarial_mismatch", field="notarial_no")
    return {"notarial": {party.role: snap.result}}
