"""The 登簿 preview: exactly what recording a case would change in the register book — the unit's current
rights before and after, and its status flags — computed by the same ``plan_record`` the recording itself
applies, without writing anything. The registration rules are checked again (they are re-checked once
more inside the recording transaction)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.casefile.access import definition_of
from app.casefile.models import Case
from app.errors import Conflict
from app.identity.actor import Actor
from app.registry.models import Right
from app.registry.rules import blocking, check_case
from app.registry.service import UNIT_FIELDS, current_rights, plan_record
from app.right_types import FLAG_RIGHTS, REGISTERED_TITLES, RIGHT_TYPES
from app.security.masking import mask_name

FLAG_LABELS = {"has_current_title": "有现势产权", "mortgaged": "抵押", "seized": "查封", "advance_noticed": "预告",
               "objection": "异议"}


def _right_json(right: Right, change: str | None) -> dict[str, Any]:
    return {"type": right.right_type, "type_label": RIGHT_TYPES.get(right.right_type, right.right_type),
            "holders": [mask_name(h.name) for h in right.holders],
            "share_mode": "、".join(dict.fromkeys(h.share_mode for h in right.holders)),
            "business_no": right.business_no, "cert_no": right.cert_no,
            "amount_yuan": float(right.amount_yuan) if right.amount_yuan is not None else None,
            "details": right.details or {}, "change": change}


def _flags(rights: list[Right]) -> dict[str, bool]:
    types = {r.right_type for r in rights}
    flags = {flag: t in types for t, flag in FLAG_RIGHTS.items()}
    flags["has_current_title"] = bool(types & REGISTERED_TITLES)
    return flags


def record_preview(session: Session, actor: Actor, case: Case) -> dict[str, Any]:
    """Before → after of the unit the case records on. Holders are masked (the recorder checks identity
    against the application, which shows the unmask control)."""
    actor.require("case:read")
    definition = definition_of(session, case)
    rule = definition.record
    if not rule:
        raise Conflict("该业务类型未配置登簿规则（business.yaml 的 record）", code="no_record_rule")
    results = check_case(session, case, definition)
    plan = plan_record(session, case, rule)
    before = current_rights(session, plan.unit)
    converted = {old.id: successor for old, successor in plan.converted}  # 预转本: advance mortgage → mortgage
    ended_ids = {r.id for r in plan.ended} | set(converted)
    after = [r for r in before if r.id not in ended_ids] + ([plan.created] if plan.created is not None else []) \
        + list(converted.values())
    converted_ids = {r.id for r in converted.values()}
    promoted = {r.id for r in plan.promoted}
    reissued = {r.id for r in plan.reissued}
    flags_before, flags_after = _flags(before), _flags(after)
    return {
        "unit": {"unit_code": plan.unit.unit_code, "location": plan.unit.location, "use": plan.unit.use,
                 "area_m2": float(plan.unit.area_m2)},
        "before": [_right_json(r, "ended" if r.id in ended_ids else None) for r in before],
        "after": [_right_json(r, "created" if r is plan.created else "promoted" if r.id in promoted
                              else "reissued" if r.id in reissued else "converted" if r.id in converted_ids
                              else None) for r in after],
        "unit_changes": [{"field": UNIT_FIELDS.get(a, a), "before": old, "after": new}
                         for a, (old, new, _value) in plan.unit_changes.items()],
        "flags": [{"code": k, "label": FLAG_LABELS[k], "before": flags_before[k], "after": flags_after[k]}
                  for k in FLAG_LABELS],
        "rule_results": [r.as_dict() for r in results],
        "blocked": bool(blocking(results)),
    }
