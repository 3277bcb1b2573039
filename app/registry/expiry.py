"""Rights that lapse by law without anyone applying (DOMAIN §1.5, §2.2 R3/R4; 细则 83, 92):

* an attachment (查封) whose period ended without renewal (续封) lapses (细则 92); the first queued attachment
  then takes effect (细则 91);
* an objection (异议) lapses if no proof of a lawsuit or arbitration was filed within 15 days of its
  registration (细则 83);

Each lapse ends the right and appends a register entry, exactly as a 登簿 would, so the book stays the one
place that says what is current. Run daily (``flask --app wsgi registry expire``, and the scheduler job).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import CHINA, beijing_today
from app.db import utcnow
from app.registry.book import append_entry
from app.registry.certificates import revoke_for_rights
from app.registry.models import RealtyUnit, Right
from app.security import audit
from app.vocabulary import RightStatus

OBJECTION_DAYS = 15  # 细则 83: calendar days from the objection registration


@dataclass
class ExpiryReport:
    lapsed: list[dict[str, Any]] = field(default_factory=list)


def _registered_on(right: Right) -> date:
    return right.created_at.astimezone(CHINA).date()


def lapsed_reason(right: Right, today: date) -> str | None:
    details = right.details or {}
    if right.right_type == "seizure" and details.get("seizure_kind", "查封") == "查封" and details.get("end_date"):
        try:
            if date.fromisoformat(str(details["end_date"])) < today:
                return "seizure_lapsed"
        except ValueError:
            return None
    if right.right_type == "objection" and not details.get("lawsuit_accepted_no") \
            and today > _registered_on(right) + timedelta(days=OBJECTION_DAYS):
        return "objection_lapsed"
    return None


def expire_rights(session: Session, today: date | None = None) -> ExpiryReport:
    """End every right that has lapsed by ``today`` (local date in China). Idempotent."""
    from app.registry.service import promote_queued_seizures

    today = today or beijing_today()
    report = ExpiryReport()
    candidates = session.execute(select(Right).where(Right.status == RightStatus.CURRENT,
                                                     Right.right_type.in_(("seizure", "objection")))
                                 .order_by(Right.created_at).execution_options(all_tenants=True)).scalars().all()
    for right in candidates:
        kind = lapsed_reason(right, today)
        if kind is None:
            continue
        unit = session.get_one(RealtyUnit, right.unit_id)
        right.status, right.ended_at = RightStatus.HISTORY, utcnow()
        right.details = {**(right.details or {}), "lapsed_on": today.isoformat()}
        revoke_for_rights(session, [right.id], None)
        change: dict[str, Any] = {"created": None, "ended": [right.id], "lapsed": kind}
        promoted = promote_queued_seizures(session, unit) if right.right_type == "seizure" else []
        if promoted:
            change["promoted"] = promoted
        entry = append_entry(session, unit, business_no=right.business_no or "", kind=kind, change=change,
                             recorded_by=None)
        audit.record(session, actor_id=None, action="register.lapse", object_type="realty_unit", object_id=unit.id,
                     tenant_id=unit.tenant_id, after={"entry_seq": entry.seq, **change})
        report.lapsed.append({"unit_code": unit.unit_code, "right_type": right.right_type, "kind": kind,
                              "business_no": right.business_no})
    return report
