"""登簿 (recording) and unit look-ups.

``record_case`` is what the engine's ``registry.record`` service task calls, inside the same transaction as
the recorder's task completion: the register changes if and only if the step commits. What a type records
is data (business.yaml ``record``): the right it creates, which parties hold it, which right it replaces.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases.context import CaseContext
from app.cases.models import Case
from app.db import utcnow
from app.engine.connectors import connector
from app.errors import Conflict, NotFound
from app.identity.actor import Actor
from app.registry.book import append_entry
from app.registry.certificates import revoke_for_rights
from app.registry.models import RealtyUnit, Right, RightHolder
from app.security import audit

FLAG_RIGHTS = {"mortgage": "mortgaged", "seizure": "seized", "advance_notice": "advance_noticed",
               "objection": "objection"}


def unit_by_code(session: Session, unit_code: str) -> RealtyUnit:
    unit = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == unit_code.replace(" ", "")))\
        .scalar_one_or_none()
    if unit is None:
        raise NotFound("登记簿中没有该不动产单元", code="unit_not_found")
    return unit


def current_rights(session: Session, unit: RealtyUnit, right_type: str | None = None) -> list[Right]:
    stmt = select(Right).where(Right.unit_id == unit.id, Right.status == "current")
    if right_type:
        stmt = stmt.where(Right.right_type == right_type)
    return list(session.execute(stmt.order_by(Right.created_at)).scalars())


def unit_flags(session: Session, unit: RealtyUnit) -> dict[str, bool]:
    types = {r.right_type for r in current_rights(session, unit)}
    flags = {flag: t in types for t, flag in FLAG_RIGHTS.items()}
    flags["has_current_title"] = "ownership" in types
    return flags


def units_of_holder(session: Session, id_number_bidx: str) -> list[RealtyUnit]:
    stmt = (select(RealtyUnit).join(Right, Right.unit_id == RealtyUnit.id)
            .join(RightHolder, RightHolder.right_id == Right.id)
            .where(RightHolder.id_number_bidx == id_number_bidx, Right.status == "current",
                   Right.right_type == "ownership").order_by(RealtyUnit.unit_code))
    return list(session.execute(stmt).scalars().unique())


def is_holder(session: Session, unit: RealtyUnit, id_number_bidx: str | None) -> bool:
    if not id_number_bidx:
        return False
    return any(h.id_number_bidx == id_number_bidx for r in current_rights(session, unit, "ownership")
               for h in r.holders)


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


@dataclass
class RecordPlan:
    """What a 登簿 would change, computed without writing: the rights it ends (moved to 历史) and the right
    it creates (transient, not in the session). ``record_case`` applies it; the 登簿 screen previews it."""

    unit: RealtyUnit
    rule: dict[str, Any]
    ended: list[Right] = field(default_factory=list)
    created: Right | None = None


def plan_record(session: Session, case: Case, rule: dict[str, Any]) -> RecordPlan:
    if not case.business_no or not case.unit_code:
        raise Conflict("案件缺少业务号或不动产单元，不能登簿", code="cannot_record")
    unit = unit_by_code(session, case.unit_code)
    plan = RecordPlan(unit=unit, rule=rule)
    if rule.get("replaces"):
        plan.ended.extend(current_rights(session, unit, rule["replaces"]))
    if rule.get("ends"):
        targets = rights_ended_by(session, case, unit, rule["ends"])
        if not targets:
            raise Conflict("登记簿中没有本申请要注销的现势权利", code="nothing_to_end")
        plan.ended.extend(t for t in targets if t not in plan.ended)
    if rule.get("right_type"):
        plan.created = _create_right(case, unit, rule)
    return plan


def record_case(session: Session, case: Case, actor: Actor, rule: dict[str, Any]) -> dict[str, Any]:
    if not case.business_no or not case.unit_code:
        raise Conflict("案件缺少业务号或不动产单元，不能登簿", code="cannot_record")
    from app.cases.access import definition_of
    from app.registry.rules import blocking, check_case

    blocked = blocking(check_case(session, case, definition_of(session, case)))  # R1: re-check at 登簿
    if blocked:
        raise Conflict("登簿前复核未通过，不能登簿：" + "；".join(r.message for r in blocked),
                       code="rule_blocked_at_recording", errors={"unit_code": [r.message for r in blocked]})
    return apply_record(session, case, actor, plan_record(session, case, rule))


def apply_record(session: Session, case: Case, actor: Actor, plan: RecordPlan) -> dict[str, Any]:
    assert case.business_no is not None
    unit, rule, right = plan.unit, plan.rule, plan.created
    ended = []
    for old in plan.ended:
        old.status, old.ended_at, old.ended_by_business_no = "history", utcnow(), case.business_no
        ended.append(old.id)
    revoke_for_rights(session, ended, case.business_no)  # 注销 their certificates in the same transaction
    if right is not None:
        session.add(right)
    change = {"created": {"right_id": right.id, "type": right.right_type,
                          "holders": [h.id_number_bidx for h in right.holders]} if right is not None else None,
              "ended": ended}
    entry = append_entry(session, unit, business_no=case.business_no,
                         kind=rule.get("entry_kind") or rule.get("right_type") or rule["ends"]["right_type"],
                         change=change, recorded_by=actor.user_id)
    audit.record(session, actor_id=actor.user_id, action="register.record", object_type="realty_unit",
                 object_id=unit.id, tenant_id=unit.tenant_id, after={"entry_seq": entry.seq, **change})
    return {"entry_seq": entry.seq, "right_id": right.id if right is not None else None, "ended": ended}


def rights_ended_by(session: Session, case: Case, unit: RealtyUnit, ends: dict[str, Any]) -> list[Right]:
    """The current rights a record rule's ``ends`` names: of ``right_type``, held by the party in
    ``holder_role`` and, when the application gives a certificate / proof number, the one with that number."""
    holders = {p.id_number_bidx for p in case.parties if p.role == ends["holder_role"] and p.id_number_bidx}
    rights = [r for r in current_rights(session, unit, ends["right_type"])
              if any(h.id_number_bidx in holders for h in r.holders)]
    number = str(case.form_data.get(ends.get("number_field") or "") or "").strip()
    if number:
        rights = [r for r in rights if (r.cert_no or "").strip() == number]
    elif len(rights) > 1:
        return []  # ambiguous: the applicant must say which one (rules.py reports it)
    return rights


def _create_right(case: Case, unit: RealtyUnit, rule: dict[str, Any]) -> Right:
    form = case.form_data
    holder_roles = set(rule.get("holder_roles", []))
    right = Right(unit_id=unit.id, tenant_id=unit.tenant_id, right_type=rule["right_type"], status="current",
                  business_no=case.business_no, amount_yuan=_amount(form.get(rule.get("amount_field") or "")),
                  details={k: case.form_public.get(k) for k in rule.get("detail_fields", [])})
    right.ensure_id()
    for position, party in enumerate(p for p in case.parties if p.role in holder_roles):
        holder = RightHolder(right_id=right.id, tenant_id=unit.tenant_id, position=position, kind=party.kind,
                             share_mode=str(form.get("share_mode") or "单独所有"))
        holder.ensure_id()
        holder.name = party.name
        holder.id_number = party.id_number
        right.holders.append(holder)
    return right


@connector("registry.record")
def _record_connector(context: CaseContext, params: dict[str, Any]) -> dict[str, Any]:
    from app.cases.access import definition_of

    rule = definition_of(context.session, context.case).get("record")
    if not rule:
        raise Conflict("该业务类型未配置登簿规则（business.yaml 的 record）", code="no_record_rule")
    return record_case(context.session, context.case, context.actor, rule)
