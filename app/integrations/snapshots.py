"""Writing and reading verification snapshots: the fixed-format record of one check (department, operation,
time, each field with 一致 / 不一致 / 未核验), kept with the case as part of its original records."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases.models import Case
from app.integrations.client import CallContext
from app.integrations.verification_models import MARKS, VerificationSnapshot
from app.security import audit
from app.security.masking import mask_id_number, mask_name

DEPARTMENTS = {"identity": "公安", "marriage": "民政", "contract": "住建", "business_licence": "市场监管",
               "tax": "税务"}
PII_KINDS = {"name": mask_name, "id_number": mask_id_number}


def field(label: str, declared: Any, found: Any, mark: str, kind: str | None = None) -> dict[str, Any]:
    """One line of a snapshot. ``kind`` ('name' / 'id_number') says how to mask the values for display."""
    assert mark in MARKS
    return {"label": label, "declared": None if declared is None else str(declared),
            "found": None if found is None else str(found), "mark": mark, "kind": kind}


def overall(fields: list[dict[str, Any]]) -> str:
    marks = {f["mark"] for f in fields}
    return "不一致" if "不一致" in marks else ("未核验" if "未核验" in marks or not marks else "一致")


def take(session: Session, case: Case, actor_id: str | None, *, source: str, operation: str,
         fields: list[dict[str, Any]], role: str | None = None, label: str | None = None) -> VerificationSnapshot:
    snap = VerificationSnapshot(case_id=case.id, tenant_id=case.tenant_id, business_no=case.business_no,
                                source=source, department=DEPARTMENTS.get(source, source), operation=operation,
                                subject_role=role, subject_label=label, result=overall(fields),
                                marks={f["label"]: f["mark"] for f in fields})
    snap.ensure_id()
    snap.fields = fields
    session.add(snap)
    session.flush()
    audit.record(session, actor_id=actor_id, action="verification.record", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after={"snapshot_id": snap.id, "source": source, "role": role,
                                                  "result": snap.result})
    return snap


def context_of(case: Case, actor_id: str | None) -> CallContext:
    return CallContext(actor_id=actor_id, case_id=case.id, business_no=case.business_no)


def show(snap: VerificationSnapshot, *, unmask: bool = False) -> dict[str, Any]:
    lines = []
    for f in snap.fields:
        masker = PII_KINDS.get(f.get("kind") or "")
        shown = (lambda v: v) if unmask or masker is None else masker
        lines.append({"label": f["label"], "declared": shown(f["declared"]), "found": shown(f["found"]),
                      "mark": f["mark"]})
    return {"id": snap.id, "source": snap.source, "department": snap.department, "operation": snap.operation,
            "subject_role": snap.subject_role, "subject_label": snap.subject_label, "result": snap.result,
            "business_no": snap.business_no, "checked_at": snap.checked_at.isoformat(), "fields": lines}


def snapshots_of(session: Session, case: Case) -> list[VerificationSnapshot]:
    return list(session.execute(select(VerificationSnapshot).where(VerificationSnapshot.case_id == case.id)
                                .order_by(VerificationSnapshot.checked_at)).scalars())


def snapshot_pdf(session: Session, case: Case, snapshot_id: str, *, unmask: bool = False) -> bytes:
    """The printable record of one check of this case (masked unless ``unmask``)."""
    from app.errors import NotFound
    from app.integrations.snapshot_pdf import render_snapshot
    from app.registry.certificates import issuing_config

    snap = next((s for s in snapshots_of(session, case) if s.id == snapshot_id), None)
    if snap is None:
        raise NotFound("未找到该核验记录", code="snapshot_not_found")
    return render_snapshot(show(snap, unmask=unmask), issuing_config().font)
