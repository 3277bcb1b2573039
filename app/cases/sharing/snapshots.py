"""Writing and reading verification snapshots: the fixed-format record of one check (department, operation,
time, each field with 一致 / 不一致 / 未核验), kept with the case as part of its original records."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.models import Case
from app.db import transaction_cache
from app.integrations.client import CallContext
from app.integrations.verification_models import MARKS, VerificationSnapshot
from app.security import audit
from app.security.masking import mask_id_number, mask_name
from app.vocabulary import EventKind, Stage

DEPARTMENTS = {"identity": "公安", "marriage": "民政", "contract": "住建", "business_licence": "市场监管",
               "tax": "税务", "notarial": "司法"}
PII_KINDS = {"name": mask_name, "id_number": mask_id_number}


def field(label: str, declared: Any, found: Any, mark: str, kind: str | None = None) -> dict[str, Any]:
    """One line of a snapshot. ``kind`` ('name' / 'id_number') says how to mask the values for display."""
    assert mark in MARKS
    return {"label": label, "declared": None if declared is None else str(declared),
            "found": None if found is None else str(found), "mark": mark, "kind": kind}


def overall(fields: list[dict[str, Any]]) -> str:
    marks = {f["mark"] for f in fields}
    return "不一致" if "不一致" in marks else ("未核验" if "未核验" in marks or not marks else "一致")


UNAVAILABLE = "部门服务暂不可用"
PENDING, RESOLVED, CANCELLED = "pending", "resolved", "cancelled"


def _same_subject(role: str | None) -> Any:
    return VerificationSnapshot.subject_role.is_(None) if role is None else VerificationSnapshot.subject_role == role


def take(session: Session, case: Case, actor_id: str | None, *, source: str, operation: str,
         fields: list[dict[str, Any]], role: str | None = None, label: str | None = None,
         retry_state: str | None = None) -> VerificationSnapshot:
    """Keep the record of one check. An answered check resolves the pending (unanswered) one of the same
    operation and subject, so the verification job does not ask again."""
    if retry_state is None:
        for snap in pending_of(session, case):  # read once per transaction: usually none is pending
            if snap.operation == operation and snap.subject_role == role:
                snap.retry_state = RESOLVED
    snap = VerificationSnapshot(case_id=case.id, tenant_id=case.tenant_id, business_no=case.business_no,
                                source=source, department=DEPARTMENTS.get(source, source), operation=operation,
                                subject_role=role, subject_label=label, result=overall(fields),
                                marks={f["label"]: f["mark"] for f in fields}, retry_state=retry_state)
    snap.ensure_id()
    snap.fields = fields
    session.add(snap)  # flushed with the step's other rows: a submission's checks in one INSERT (issue 18)
    _kept(session, case).append(snap)
    audit.record(session, actor_id=actor_id, action="verification.record", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after=_present({"snapshot_id": snap.id, "source": source, "role": role,
                                                           "result": snap.result, "retry_state": retry_state}))
    return snap


def take_unavailable(session: Session, case: Case, actor_id: str | None, *, source: str, operation: str,
                     declared: list[tuple[str, Any, str | None]], role: str | None = None,
                     label: str | None = None) -> VerificationSnapshot:
    """The department could not be asked: a 未核验 record saying so, pending for the verification job. At most
    one pending record per operation and subject (a failed re-run keeps the one it has); the first pending
    check of a department puts a line on the timeline (and through the outbox, a text to the applicant)."""
    from app.casefile import progress

    pending = pending_of(session, case)
    mine = next((s for s in pending if s.operation == operation and s.subject_role == role), None)
    if mine is not None:
        return mine
    department = DEPARTMENTS.get(source, source)
    fields = [field(lab, value, None, "未核验", kind) for lab, value, kind in declared]
    fields.append(field("核验说明", None, f"{UNAVAILABLE}，恢复后自动重新核验", "未核验"))
    snap = take(session, case, actor_id, source=source, operation=operation, fields=fields, role=role, label=label,
                retry_state=PENDING)
    if not any(s.source == source for s in pending):
        progress.add_event(session, case, kind=EventKind.VERIFICATION_PENDING, actor=None, stage=Stage.ACCEPT,
                           message=f"等待部门核验：{department}{UNAVAILABLE}，恢复后系统自动重新核验")
    return snap


def pending_of(session: Session, case: Case) -> list[VerificationSnapshot]:
    """Checks of this case still waiting for their department (a row resolved or cancelled in between drops
    out by its state)."""
    return [s for s in _kept(session, case) if s.retry_state == PENDING]


def answered(session: Session, case: Case) -> set[tuple[str, str | None]]:
    """(source, subject role) of the case's checks that got an answer or were given up (not pending)."""
    return {(s.source, s.subject_role) for s in _kept(session, case) if s.retry_state != PENDING}


def cancel(session: Session, case: Case, snap: VerificationSnapshot) -> None:
    """A pending check no longer waited for (the case was decided without it)."""
    snap.retry_state = CANCELLED


def _kept(session: Session, case: Case) -> list[VerificationSnapshot]:
    """The case's checks, oldest first, read once per transaction and kept current by ``take`` (issue 18: a
    submission read them three ways per pass: the answered ones, the pending ones, all of them). The first
    read of a transaction that locks the case comes after the lock (rechecks: a concurrent run's work is
    seen)."""
    if case.id is None:
        return []
    known = transaction_cache(session, "snapshots")
    if case.id not in known:
        known[case.id] = list(session.execute(select(VerificationSnapshot).where(
            VerificationSnapshot.case_id == case.id).order_by(VerificationSnapshot.checked_at)).scalars())
    result: list[VerificationSnapshot] = known[case.id]
    return result


def latest_by_role(session: Session, case: Case, source: str) -> dict[str | None, VerificationSnapshot]:
    """The latest check of ``source`` per subject (a pending one counts: it is 未核验)."""
    latest: dict[str | None, VerificationSnapshot] = {}
    for snap in snapshots_of(session, case):
        if snap.source == source:
            latest[snap.subject_role] = snap
    return latest


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
            "business_no": snap.business_no, "checked_at": snap.checked_at.isoformat(), "fields": lines,
            "pending": snap.retry_state == PENDING, "retry_state": snap.retry_state}


def snapshots_of(session: Session, case: Case) -> list[VerificationSnapshot]:
    return list(_kept(session, case))


def snapshot_pdf(session: Session, case: Case, snapshot_id: str, *, unmask: bool = False) -> bytes:
    """The printable record of one check of this case (masked unless ``unmask``)."""
    from app.cases.sharing.snapshot_pdf import render_snapshot
    from app.errors import NotFound
    from app.registry.certificates import issuing_config

    snap = next((s for s in snapshots_of(session, case) if s.id == snapshot_id), None)
    if snap is None:
        raise NotFound("未找到该核验记录", code="snapshot_not_found")
    return render_snapshot(show(snap, unmask=unmask), issuing_config().font)


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    """The audit payload without its empty fields (no role for a case-wide check, no retry state for an answer):
    five of these per submission, and an absent key reads as empty on the log pages (issue 18)."""
    return {k: v for k, v in fields.items() if v is not None}
