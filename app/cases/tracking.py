"""线下查询: anyone who applied (also at the window) follows a case without an account, by business number
plus the name and ID number of one of its parties. The answer is the same "not found" for a wrong number,
name or ID, so the form cannot be used to learn who applied for what; every lookup is audited. Guessing is
slowed twice: per client address (flask-limiter on the page, app.security.throttle) and per business number —
after a few misses on one number each further try waits longer (``GUESSES``), whichever address it comes from."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.access import definition_of
from app.casefile.models import Case
from app.casefile.progress import timeline
from app.casefile.status import status_label
from app.errors import NotFound, ValidationFailed
from app.identifiers import InvalidIdentifier, check_id_card, check_uscc
from app.security import audit, rate_limit
from app.security.fields import blind_index
from app.security.masking import mask_name
from app.vocabulary import CaseStatus

BUSINESS_NO = re.compile(r"^\d{18}$")
NOT_FOUND = "未查到与所填信息一致的业务，请核对业务号、姓名和证件号码"
GUESSES = rate_limit.Backoff(free=5, first=timedelta(seconds=4), longest=timedelta(hours=1), window=timedelta(days=1),
                             message="该业务号查询失败次数过多，请 {wait}后再试")


def track_case(session: Session, *, business_no: str, name: str, id_number: str) -> dict[str, Any]:
    business_no, name, id_number = (business_no or "").strip(), (name or "").strip(), (id_number or "").strip()
    errors: dict[str, list[str]] = {}
    if not BUSINESS_NO.match(business_no):
        errors["business_no"] = ["业务号为 18 位数字，见受理通知书"]
    if not name:
        errors["name"] = ["请填写申请人姓名或单位名称"]
    try:
        normalised = check_uscc(id_number) if len(id_number) == 18 and not id_number[:17].isdigit() \
            else check_id_card(id_number)
    except InvalidIdentifier as exc:
        errors["id_number"] = [exc.message]
        normalised = ""
    if errors:
        raise ValidationFailed("请检查填写的查询信息", errors=errors)
    rate_limit.backoff_check(session, f"track:{business_no}", GUESSES)
    case = session.execute(select(Case).where(Case.business_no == business_no)
                           .execution_options(all_tenants=True)).scalar_one_or_none()
    bidx = blind_index(normalised)
    party = next((p for p in case.parties if p.id_number_bidx == bidx and p.name == name), None) if case else None
    audit.record_access(session, actor_id=None, action="query.track_case", object_type="case",
                 object_id=case.id if case else None, tenant_id=case.tenant_id if case else None,
                 after={"business_no": business_no, "found": party is not None})
    if case is None or party is None:
        rate_limit.record_failure(session, f"track:{business_no}")  # the caller keeps it on its 404
        raise NotFound(NOT_FOUND, code="case_not_found")
    rate_limit.clear(session, f"track:{business_no}")
    definition = definition_of(session, case)
    return {"business_no": case.business_no, "business_type_name": definition.name, "status": case.status,
            "status_label": status_label(case.status), "party": f"{party.label} {mask_name(party.name)}",
            "submitted_at": case.submitted_at, "completed_at": case.completed_at,
            "correction_items": case.correction_items if case.status == CaseStatus.CORRECTING else [],
            "timeline": timeline(session, case)}
