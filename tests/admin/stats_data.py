"""Case-side rows for the statistics tests, written directly (dozens of cases through the whole workflow
would take minutes): applications in both districts over two months and three channels, their stage tasks
with known durations and due days, uploaded and waived materials, certificates and appointments."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.casefile.models import Appointment, Case, Material, Task
from app.catalog.models import BusinessType
from app.db import new_id
from app.identity.models import User
from app.integrations.verification_models import MaterialWaiver
from app.registry.models import Certificate

# (tenant, type, channel, submitted at UTC) — 2026-03-31 17:30 UTC is already 1 April in Beijing.
CASES = [
    ("330106", "transfer_resale", "online", datetime(2026, 3, 2, 2, 0, tzinfo=UTC)),
    ("330106", "transfer_resale", "window", datetime(2026, 3, 15, 6, 0, tzinfo=UTC)),
    ("330106", "mortgage_first", "institution", datetime(2026, 3, 31, 17, 30, tzinfo=UTC)),
    ("330106", "mortgage_first", "institution", datetime(2026, 4, 8, 3, 0, tzinfo=UTC)),
    ("330110", "transfer_resale", "online", datetime(2026, 4, 9, 1, 0, tzinfo=UTC)),
    ("330110", "seizure", "window", datetime(2026, 4, 20, 7, 0, tzinfo=UTC)),
    ("330110", "transfer_resale", "online", datetime(2026, 4, 21, 8, 0, tzinfo=UTC)),
]


def seed_statistics(db: Any) -> list[str]:
    """Write the rows; returns the business numbers in CASES order."""
    numbers = []
    with db.unit_of_work() as session:
        applicant = session.execute(select(User.id).where(User.username == "zhangsan")).scalar_one()
        versions = dict(session.execute(select(BusinessType.code, BusinessType.current_version_id)).all())
        for i, (tenant, type_code, channel, at) in enumerate(CASES):
            number = f"{at.year}{tenant}20{i + 1:06d}"
            case = Case(id=new_id(), tenant_id=tenant, business_type_code=type_code,
                        process_version_id=versions[type_code], business_no=number, status="in_progress",
                        channel=channel, applicant_id=applicant, created_at=at, submitted_at=at)
            session.add(case)
            numbers.append(number)
            # 受理 took 2 h (completed on its due day); 审核 took 30 h and finished a day late (odd cases) or
            # is still open past its due day (even cases).
            due = (at + timedelta(days=1)).date()
            session.add(_task(case, "受理", at, at + timedelta(hours=2), due))
            if i % 2:
                session.add(_task(case, "审核", at + timedelta(hours=2), at + timedelta(hours=32), at.date()))
            else:
                session.add(_task(case, "审核", at + timedelta(hours=2), None, date(2026, 4, 1)))
            session.add(_task(case, "登簿", at, None, None, status="cancelled"))
            for code in ("application_form", "contract"):
                session.add(Material(case_id=case.id, tenant_id=tenant, code=code, content_type="application/pdf",
                                     size=10, sha256="0" * 64, storage_key=new_id(), uploaded_by=applicant))
            session.add(Material(case_id=case.id, tenant_id=tenant, code="contract",  # a second page
                                 content_type="application/pdf", size=10, sha256="1" * 64, storage_key=new_id(),
                                 uploaded_by=applicant))
            if channel != "window":
                session.add(MaterialWaiver(case_id=case.id, tenant_id=tenant, material_code="id_card",
                                           source="identity", reason="公安身份核验一致"))
            if i < 4:
                session.add(Certificate(kind="title" if i % 2 else "proof", number=f"NO-{i}", year=at.year, seq=i,
                                        case_id=case.id, business_no=number, verify_code=new_id(), tenant_id=tenant,
                                        issued_at=at + timedelta(days=3), status="voided" if i == 3 else "valid"))
        for n, (tenant, status, day) in enumerate([
                ("330106", "checked_in", date(2026, 3, 3)), ("330106", "booked", date(2026, 3, 4)),
                ("330106", "cancelled", date(2026, 3, 5)), ("330110", "checked_in", date(2026, 4, 10)),
                ("330110", "checked_in", date(2026, 4, 11))]):
            session.add(Appointment(user_id=applicant, business_type_code="transfer_resale", day=day, half="am",
                                    code=f"YY{n:06d}", status=status, tenant_id=tenant))
    return numbers


def _task(case: Case, stage: str, created: datetime, completed: datetime | None, due: date | None,
          status: str | None = None) -> Task:
    return Task(case_id=case.id, tenant_id=case.tenant_id, spiff_task_id=new_id(), task_name=f"task_{stage}",
                title=stage, stage=stage, role="acceptor", form_key="f", created_at=created, due_at=due,
                completed_at=completed, status=status or ("completed" if completed else "open"))
