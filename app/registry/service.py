"""登簿 (recording) and unit look-ups.

``record_case`` is what the engine's ``registry.record`` service task calls, inside the same transaction as
the recorder's task completion: the register changes if and only if the step commits. What a type records
is data (business.yaml ``record``): the right it creates, which parties hold it, which right it replaces.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, event, func, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from app.casefile.context import CaseContext
from app.casefile.models import Case
from app.db import transaction_cache, utcnow
from app.engine.connectors import connector
from app.errors import Conflict, NotFound, RuleRefusedInOffice
from app.identity.actor import Actor
from app.registry.book import LAST_ENTRIES, LOCKED_UNITS, append_entry
from app.registry.certificates import revoke_for_rights
from app.registry.models import RealtyUnit, RegisterEntry, Right, RightHolder, unit_for_code
from app.right_types import FLAG_RIGHTS, REGISTERED_TITLES
from app.security import audit
from app.vocabulary import RightStatus


def unit_by_code(session: Session, unit_code: str, *, lock: bool = False) -> RealtyUnit:
    """``lock``: hold the unit's row until commit (登簿), so a concurrent 登簿 of the same unit waits and
    then re-checks the rules against what this one recorded. The lock is taken by a statement of its own and
    the rights are read after it (``current_rights``): a statement that waited for the lock still sees the
    other tables as they were when it began (PostgreSQL, READ COMMITTED), without what the other 登簿 wrote."""
    stmt = select(RealtyUnit).where(RealtyUnit.unit_code == unit_code.replace(" ", ""))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    unit = session.execute(stmt).scalar_one_or_none()
    if unit is None:
        raise NotFound("登记簿中没有该不动产单元", code="unit_not_found")
    if lock:  # read afresh under the lock: what the rest of the transaction looks up (models.unit_for_code)
        known = transaction_cache(session, "units_by_code")
        known[(unit.unit_code, False)] = known[(unit.unit_code, True)] = unit
        transaction_cache(session, LOCKED_UNITS)[unit.id] = True
        _read_locked_unit(session, unit)
    return unit


def _read_locked_unit(session: Session, unit: RealtyUnit) -> None:
    """What 登簿 reads of the unit it locked, in one statement after the lock: its current rights with their
    holders (the rules, the plan) and its last register entry (the chain ``append_entry`` extends)."""
    last_seq = select(func.max(RegisterEntry.seq)).where(RegisterEntry.unit_id == unit.id).scalar_subquery()
    rows = session.execute(
        select(RealtyUnit.id, Right, RegisterEntry).select_from(RealtyUnit)
        .outerjoin(Right, and_(Right.unit_id == RealtyUnit.id, Right.status == RightStatus.CURRENT))
        .outerjoin(RightHolder, RightHolder.right_id == Right.id).options(contains_eager(Right.holders))
        .outerjoin(RegisterEntry, and_(RegisterEntry.unit_id == RealtyUnit.id, RegisterEntry.seq == last_seq))
        .where(RealtyUnit.id == unit.id).order_by(Right.created_at, RightHolder.position)).unique().all()
    transaction_cache(session, _CURRENT_RIGHTS)[unit.id] = [right for _, right, _ in rows if right is not None]
    transaction_cache(session, LAST_ENTRIES)[unit.id] = rows[0][2] if rows else None


def unit_with_rights(session: Session, unit_code: str | None, *, all_tenants: bool = False) -> RealtyUnit | None:
    """The unit with this code and its current rights with their holders, in one statement, kept for the
    transaction where ``unit_for_code`` and ``current_rights`` look (issue 18: the rules read the unit, its
    rights and their holders in three); ``all_tenants`` looks outside the session's tenant scope, as
    ``unit_for_code`` does. A unit this transaction locked (登簿: ``unit_by_code(lock=True)``) is not read
    again, and its rights are read after the lock."""
    code = (unit_code or "").replace(" ", "")
    rights_known = transaction_cache(session, _CURRENT_RIGHTS)
    unit = unit_for_code(session, code, all_tenants=all_tenants, cached_only=True)
    if unit is not None and (unit.id in transaction_cache(session, LOCKED_UNITS)
                             or (unit.id in rights_known and not _rights_changing(session))):
        return unit
    stmt = (select(RealtyUnit, Right)
            .outerjoin(Right, and_(Right.unit_id == RealtyUnit.id, Right.status == RightStatus.CURRENT))
            .outerjoin(RightHolder, RightHolder.right_id == Right.id).options(contains_eager(Right.holders))
            .where(RealtyUnit.unit_code == code).order_by(Right.created_at, RightHolder.position))
    if all_tenants:
        stmt = stmt.execution_options(all_tenants=True)
    rows = session.execute(stmt).unique().all()
    if not rows:  # a miss is not kept: the step may yet create the unit (首次登记)
        return None
    unit = rows[0][0]
    scope = session.info.get("tenant_scope")
    in_scope = scope is None or unit.tenant_id in scope
    known = transaction_cache(session, "units_by_code")
    known[(code, True)] = unit
    if in_scope:  # found in scope, or outside it but it is in scope: the scoped look-up finds the same
        known[(code, False)] = unit
        rights_known[unit.id] = [right for _, right in rows if right is not None]
    return unit


def current_rights(session: Session, unit: RealtyUnit, right_type: str | None = None) -> list[Right]:
    """The unit's current rights (of ``right_type``), oldest first. All of them are kept for the transaction
    while no right changes (issue 18: 登簿 read them for the rules, then by type for the plan)."""
    known = transaction_cache(session, _CURRENT_RIGHTS)
    if unit.id in known and not _rights_changing(session):
        return [r for r in known[unit.id] if right_type is None or r.right_type == right_type]
    # With their holders, in the same statement: every caller but a few reads them (the rules, the register
    # members of a co-owned unit, 登簿's plan), and a unit has one or two current rights.
    stmt = (select(Right).where(Right.unit_id == unit.id, Right.status == RightStatus.CURRENT)
            .options(joinedload(Right.holders)))
    if right_type:
        stmt = stmt.where(Right.right_type == right_type)
    rights = list(session.execute(stmt.order_by(Right.created_at)).unique().scalars())
    if not right_type:
        known[unit.id] = rights
    return rights


_CURRENT_RIGHTS = "current_rights"  # transaction cache: unit id → its current rights, while none changes


def _rights_changing(session: Session) -> bool:
    return any(isinstance(o, Right) for o in (*session.new, *session.dirty, *session.deleted))


@event.listens_for(Session, "before_flush")
def _forget_current_rights(session: Session, _context: object, _instances: object) -> None:
    if _rights_changing(session):
        transaction_cache(session, _CURRENT_RIGHTS).clear()


def current_rights_by_unit(session: Session, units: list[RealtyUnit]) -> dict[str, list[Right]]:
    """The current rights of several units (by unit id, oldest first) with their holders: two statements
    whatever the number of units, so a page of search results costs the same for 1 unit as for 50."""
    by_unit: dict[str, list[Right]] = {u.id: [] for u in units}
    if by_unit:
        stmt = (select(Right).where(Right.unit_id.in_(list(by_unit)), Right.status == RightStatus.CURRENT)
                .options(selectinload(Right.holders)).order_by(Right.created_at))
        for right in session.execute(stmt).scalars():
            by_unit[right.unit_id].append(right)
    return by_unit


def flags_of(rights: list[Right]) -> dict[str, bool]:
    """The unit's status flags (查封, 抵押 … and whether it has a current title) from its current rights."""
    types = {r.right_type for r in rights}
    flags = {flag: t in types for t, flag in FLAG_RIGHTS.items()}
    flags["has_current_title"] = bool(types & REGISTERED_TITLES)
    return flags


def unit_flags(session: Session, unit: RealtyUnit) -> dict[str, bool]:
    return flags_of(current_rights(session, unit))


def units_of_holder(session: Session, id_number_bidx: str) -> list[RealtyUnit]:
    stmt = (select(RealtyUnit).join(Right, Right.unit_id == RealtyUnit.id)
            .join(RightHolder, RightHolder.right_id == Right.id)
            .where(RightHolder.id_number_bidx == id_number_bidx, Right.status == RightStatus.CURRENT,
                   Right.right_type.in_(REGISTERED_TITLES)).order_by(RealtyUnit.unit_code))
    return list(session.execute(stmt).scalars().unique())


def holds_title(rights: list[Right], id_number_bidx: str | None) -> bool:
    """Whether the person with this blind index holds one of the titles among a unit's current rights."""
    if not id_number_bidx:
        return False
    return any(h.id_number_bidx == id_number_bidx for r in rights
               if r.right_type in REGISTERED_TITLES for h in r.holders)


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


@dataclass
class RecordPlan:
    """What a 登簿 would change, computed without writing: the rights it ends (moved to 历史), the right it
    creates (transient, not in the session), corrections of the unit's particulars, the rights whose
    certificates are reissued and the queued seizure that takes effect. ``record_case`` applies it; the
    登簿 screen previews it (app/registry/preview.py)."""

    unit: RealtyUnit
    rule: dict[str, Any]
    ended: list[Right] = field(default_factory=list)
    created: Right | None = None
    unit_changes: dict[str, tuple[str, str, Any]] = field(default_factory=dict)  # attr: (old, new, new value)
    reissued: list[Right] = field(default_factory=list)
    promoted: list[Right] = field(default_factory=list)
    converted: list[tuple[Right, Right]] = field(default_factory=list)  # (ended, its successor) — 预转本


def plan_record(session: Session, case: Case, rule: dict[str, Any], unit: RealtyUnit | None = None) -> RecordPlan:
    if not case.business_no or not case.unit_code:
        raise Conflict("案件缺少业务号或不动产单元，不能登簿", code="cannot_record")
    unit = unit or unit_by_code(session, case.unit_code)
    plan = RecordPlan(unit=unit, rule=rule)
    replaced = current_rights(session, unit, rule["replaces"]) if rule.get("replaces") else []
    plan.ended.extend(replaced)
    if rule.get("ends"):
        targets = rights_ended_by(session, case, unit, rule["ends"])
        if not targets and not rule["ends"].get("optional"):
            raise Conflict("登记簿中没有本申请要注销的现势权利", code="nothing_to_end")
        plan.ended.extend(t for t in targets if t not in plan.ended)
    if rule.get("corrects_unit"):
        plan.unit_changes = _unit_corrections(unit, case.form_public, rule["corrects_unit"])
    if rule.get("reissues"):  # the certificate shows what was corrected: it no longer equals the book
        plan.reissued = current_rights(session, unit, rule["reissues"])
    ended_ids = {r.id for r in plan.ended}
    if any(r.right_type == "seizure" for r in plan.ended):
        plan.promoted = queued_seizure_to_promote(session, unit, ended_ids)
    if rule.get("right_type"):
        plan.created = _create_right(session, case, unit, rule, replaced, ended_ids, ended=plan.ended)
    if rule.get("converts"):
        plan.converted = _conversions(session, case, unit, rule["converts"], plan.ended)
    return plan


def record_case(session: Session, case: Case, actor: Actor, rule: dict[str, Any]) -> dict[str, Any]:
    if not case.business_no or not case.unit_code:
        raise Conflict("案件缺少业务号或不动产单元，不能登簿", code="cannot_record")
    from app.casefile.access import definition_of
    from app.casefile.consent import require_current
    from app.registry.rules import blocking, check_case

    require_current(definition_of(session, case), case)  # the register never rests on a stale signature
    unit = unit_by_code(session, case.unit_code, lock=True)  # first: a racing 登簿 of this unit waits here
    blocked = blocking(check_case(session, case, definition_of(session, case)))  # R1: re-check at 登簿
    if blocked:
        raise RuleRefusedInOffice("登簿前复核未通过，不能登簿：" + "；".join(r.message for r in blocked),
                                  code="rule_blocked_at_recording", refusals=[r.as_dict() for r in blocked],
                          errors={"unit_code": [r.message for r in blocked]})
    return apply_record(session, case, actor, plan_record(session, case, rule, unit))


def apply_record(session: Session, case: Case, actor: Actor, plan: RecordPlan) -> dict[str, Any]:
    assert case.business_no is not None
    unit, rule, right = plan.unit, plan.rule, plan.created
    change: dict[str, Any] = {}
    ended = []
    for old in plan.ended:
        _end(old, case)
        ended.append(old.id)
    if plan.unit_changes:
        for attribute, (_old, _new, value) in plan.unit_changes.items():
            setattr(unit, attribute, value)
        change["unit"] = {a: [old, new] for a, (old, new, _v) in plan.unit_changes.items()}
    if rule.get("reissues"):
        reissued = [r.id for r in plan.reissued]
        revoke_for_rights(session, reissued, case.business_no)
        change["reissued"] = reissued
    revoke_for_rights(session, ended, case.business_no)  # 注销 their certificates in the same transaction
    for queued in plan.promoted:
        queued.details = {**(queued.details or {}), "seizure_kind": "查封"}
    if plan.converted:
        revoke_for_rights(session, [old.id for old, _new in plan.converted], case.business_no)
        for old, successor in plan.converted:
            _end(old, case)
            session.add(successor)
        change["converted"] = [[old.id, successor.id] for old, successor in plan.converted]
    if right is not None:
        session.add(right)
    change.update({"created": {"right_id": right.id, "type": right.right_type, "details": _entry_details(right),
                               "holders": [h.id_number_bidx for h in right.holders]} if right is not None else None,
                   "ended": ended})
    if plan.promoted:
        change["promoted"] = [r.id for r in plan.promoted]
    kind = rule.get("entry_kind") or rule.get("right_type") or (rule.get("ends") or {})["right_type"]
    entry = append_entry(session, unit, business_no=case.business_no, kind=kind, change=change,
                         recorded_by=actor.user_id)
    audit.record(session, actor_id=actor.user_id, action="register.record", object_type="realty_unit",
                 object_id=unit.id, tenant_id=unit.tenant_id, after={"entry_seq": entry.seq, **change})
    return {"entry_seq": entry.seq, "right_id": right.id if right is not None else None, "ended": ended}


def _end(right: Right, case: Case) -> None:
    right.status, right.ended_at, right.ended_by_business_no = RightStatus.HISTORY, utcnow(), case.business_no


def _entry_details(right: Right) -> dict[str, Any]:
    """What the entry keeps of a new right's particulars (no personal data: details hold none)."""
    keep = ("seizure_kind", "court_doc", "start_date", "end_date", "accepted_at", "notice_kind")
    return {k: v for k, v in (right.details or {}).items() if k in keep}


UNIT_FIELDS = {"location": "坐落", "area_m2": "面积", "use": "用途"}


def _unit_corrections(unit: RealtyUnit, form: dict[str, Any],
                      mapping: dict[str, str]) -> dict[str, tuple[str, str, Any]]:
    """更正登记 of the unit's natural particulars: before → after of each corrected field (applied by
    ``apply_record``; the entry keeps them)."""
    changed: dict[str, tuple[str, str, Any]] = {}
    for attribute, form_field in mapping.items():
        if attribute not in UNIT_FIELDS:
            raise Conflict(f"登簿规则 corrects_unit 不支持字段 {attribute}", code="bad_record_rule")
        value = form.get(form_field)
        if value in (None, ""):
            continue
        new = _amount(value) if attribute == "area_m2" else str(value).strip()
        old = getattr(unit, attribute)
        if new is not None and new != old:  # Decimal("70.5") == Decimal("70.50")
            changed[attribute] = (str(old), str(new), new)
    if not changed:
        raise Conflict("更正内容与登记簿记载一致，无需更正", code="nothing_to_correct")
    return changed


def queued_seizure_to_promote(session: Session, unit: RealtyUnit,
                             ended_ids: set[str] | frozenset[str] = frozenset()) -> list[Right]:
    """细则 91: when the effective attachment is released, the first queued one (轮候查封) takes effect."""
    remaining = [r for r in current_rights(session, unit, "seizure") if r.id not in ended_ids]
    if not remaining or any((r.details or {}).get("seizure_kind", "查封") != "轮候查封" for r in remaining):
        return []
    return [remaining[0]]


def promote_queued_seizures(session: Session, unit: RealtyUnit) -> list[str]:
    """Apply ``queued_seizure_to_promote`` after a seizure has ended (the expiry job)."""
    promoted = queued_seizure_to_promote(session, unit)
    for right in promoted:
        right.details = {**(right.details or {}), "seizure_kind": "查封"}
    return [r.id for r in promoted]


def mortgage_ranks(rights: list[Right]) -> dict[str, int]:
    """细则 67 / R10: current mortgages rank by acceptance time (sub-second), not by recording order.
    ``rights``: the unit's current rights (those that are not mortgages are left out)."""
    mortgages = [r for r in rights if r.right_type == "mortgage"]
    ordered = sorted(mortgages, key=lambda r: (str((r.details or {}).get("accepted_at") or r.created_at.isoformat()),
                                               r.created_at))
    return {r.id: n for n, r in enumerate(ordered, start=1)}


def rights_ended_by(session: Session, case: Case, unit: RealtyUnit, ends: dict[str, Any]) -> list[Right]:
    """The current rights a record rule's ``ends`` names: of ``right_type``, held by the party in
    ``holder_role`` and, when the application gives a certificate / proof number (or the detail named by
    ``match_detail``, e.g. a court's document number), the one with that number."""
    holders = {p.id_number_bidx for p in case.parties if p.role == ends["holder_role"] and p.id_number_bidx}
    rights = [r for r in current_rights(session, unit, ends["right_type"])
              if any(h.id_number_bidx in holders for h in r.holders)]
    number = str(case.form_data.get(ends.get("number_field") or "") or "").strip()
    if number:
        detail = ends.get("match_detail")
        rights = [r for r in rights
                  if (str((r.details or {}).get(detail) or "") if detail else (r.cert_no or "")).strip() == number]
    elif len(rights) > 1:
        return []  # ambiguous: the applicant must say which one (rules.py reports it)
    return rights


def _create_right(session: Session, case: Case, unit: RealtyUnit, rule: dict[str, Any],
                  replaced: list[Right], ended_ids: set[str] | frozenset[str] = frozenset(),
                  ended: list[Right] | None = None) -> Right:
    form = case.form_data
    holder_roles = set(rule.get("holder_roles", []))
    details = {k: case.form_public.get(k) for k in rule.get("detail_fields", [])}
    amount = _amount(form.get(rule.get("amount_field") or ""))
    if rule["right_type"] in ("mortgage", "advance_mortgage"):  # R10: the rank is derived from this (mortgage_ranks)
        details["accepted_at"] = (case.accepted_at or case.submitted_at or utcnow()).isoformat()
    predecessors = [r for r in ended or [] if r.right_type == rule["right_type"]]
    if rule.get("carries") and len(predecessors) == 1:  # 变更 of one right: what the form does not change stays
        before = predecessors[0]
        for key in rule["carries"]:
            if key == "amount":
                amount = amount if amount is not None else before.amount_yuan
            elif key == "accepted_at" or details.get(key) in (None, ""):
                details[key] = (before.details or {}).get(key, details.get(key))
    if rule["right_type"] == "seizure":  # 细则 91: a later attachment of an attached unit waits its turn
        effective = [r for r in current_rights(session, unit, "seizure") if r.id not in ended_ids]
        details["seizure_kind"] = "轮候查封" if effective else "查封"
    right = Right(unit_id=unit.id, tenant_id=unit.tenant_id, right_type=rule["right_type"], status=RightStatus.CURRENT,
                  business_no=case.business_no, amount_yuan=amount, details=details)
    right.ensure_id()
    if rule.get("keeps_co_holders") and replaced:
        _carry_holders(case, right, replaced, holder_roles)
        return right
    for position, party in enumerate(p for p in case.parties if p.role in holder_roles):
        holder = RightHolder(right_id=right.id, tenant_id=unit.tenant_id, position=position, kind=party.kind,
                             share=party.share, share_mode=str(form.get("share_mode") or "单独所有"))
        holder.ensure_id()
        holder.name = party.name
        holder.id_number = party.id_number
        right.holders.append(holder)
    return right


def _conversions(session: Session, case: Case, unit: RealtyUnit, converts: dict[str, str],
                 ended: list[Right]) -> list[tuple[Right, Right]]:
    """细则 78 (预转本): the unit's current rights of ``converts["from"]`` whose detail ``by_detail`` is the
    certificate number of a right this 登簿 ends (the buyer's advance notice) become rights of ``converts["to"]``
    with the same holders, amount and particulars (a mortgage keeps its rank: the advance's acceptance time).
    The successor keeps the old right's business number; ``converted_by`` names the case that converted it."""
    numbers = {r.cert_no for r in ended if r.cert_no}
    detail = converts.get("by_detail") or ""
    pairs = []
    for old in current_rights(session, unit, converts["from"]):
        if not numbers or str((old.details or {}).get(detail) or "").strip() not in numbers:
            continue
        successor = Right(unit_id=unit.id, tenant_id=unit.tenant_id, right_type=converts["to"],
                          status=RightStatus.CURRENT, business_no=old.business_no, amount_yuan=old.amount_yuan,
                          details={**(old.details or {}), "converted_from": old.id,
                                   "converted_by": case.business_no})
        successor.ensure_id()
        for position, h in enumerate(old.holders):
            holder = RightHolder(right_id=successor.id, tenant_id=unit.tenant_id, position=position, kind=h.kind,
                                 share=h.share, share_mode=h.share_mode)
            holder.ensure_id()
            holder.name, holder.id_number = h.name, h.id_number
            successor.holders.append(holder)
        pairs.append((old, successor))
    return pairs


def converted_by(session: Session, case: Case, right_type: str) -> list[Right]:
    """The current rights of ``right_type`` this case's 登簿 converted (their new certificates are issued at 缮证)."""
    if not case.business_no or not case.unit_code:
        return []
    unit = unit_by_code(session, case.unit_code)
    return [r for r in current_rights(session, unit, right_type)
            if (r.details or {}).get("converted_by") == case.business_no]


def _carry_holders(case: Case, right: Right, replaced: list[Right], holder_roles: set[str]) -> None:
    """变更 of one holder's particulars: every registered holder carries over with its share; the applying
    holder(s) (the parties not in ``holder_roles``) come back under the new particulars, paired in order."""
    old_parties = [p for p in case.parties if p.role not in holder_roles]
    new_parties = [p for p in case.parties if p.role in holder_roles]
    renamed = {old.id_number_bidx: new for old, new in zip(old_parties, new_parties, strict=False)}
    for position, old in enumerate(h for r in replaced for h in r.holders):
        holder = RightHolder(right_id=right.id, tenant_id=right.tenant_id, position=position, kind=old.kind,
                             share=old.share, share_mode=old.share_mode)
        holder.ensure_id()
        source = renamed.get(old.id_number_bidx)
        holder.name = source.name if source is not None else old.name
        holder.id_number = source.id_number if source is not None else old.id_number
        right.holders.append(holder)


@connector("registry.record")
def _record_connector(context: CaseContext, params: dict[str, Any]) -> dict[str, Any]:
    from app.casefile.access import definition_of

    rule = definition_of(context.session, context.case).record
    if not rule:
        raise Conflict("该业务类型未配置登簿规则（business.yaml 的 record）", code="no_record_rule")
    return record_case(context.session, context.case, context.actor, rule)
