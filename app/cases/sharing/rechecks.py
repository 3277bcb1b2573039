"""Cases waiting for a department: re-run the checks that got no answer at submission, once the department's
circuit breaker lets calls through again. Run by the ``verifications`` job and ``flask verifications recheck``.

While a check is pending the case shows 等待部门核验 and 受理 cannot be approved (``refuse_acceptance``): an
acceptor may still ask for 补正 or refuse, but not accept on data nobody has verified. When the department
answers, the pending record is resolved by the new snapshot, materials are waived or required again, the
applicant is told (case event → outbox → SMS) and the case is back at 受理中.

One case per transaction; the calls are made outside it (app/integrations/answers.py: the case's unit of
work is re-run with the answers). Idempotent: the case row is locked and its pending checks read after the
lock, so a second run (another process, or the same job again) finds nothing left to do; an answer resolves
its pending record in the same transaction that stores it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile import progress
from app.casefile.access import definition_of
from app.casefile.context import CaseContext
from app.casefile.models import Case, Task
from app.casefile.status import status_for_stage
from app.cases.materials import checklist, required_codes
from app.cases.sharing import exemptions, snapshots
from app.db import utcnow
from app.errors import Conflict
from app.identity.actor import SYSTEM
from app.integrations.answers import each_in_own_transaction
from app.integrations.calllog import breaker_allows
from app.integrations.models import Interface
from app.integrations.verification_models import VerificationSnapshot
from app.security import audit
from app.vocabulary import FINAL_STATUSES, CaseStatus, EventKind, Stage, TaskStatus

AWAITING = CaseStatus.AWAITING_CHECK
ACCEPTING = status_for_stage(Stage.ACCEPT)


@dataclass
class RecheckReport:
    cases: int = 0
    checked: int = 0
    waiting: int = 0
    resumed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"重新核验 {self.checked} 项（{self.cases} 件业务），仍待部门恢复 {self.waiting} 项，"
                f"恢复受理 {len(self.resumed)} 件")


def mark_waiting(session: Session, case: Case) -> None:
    """Show a case at 受理 with unanswered checks as 等待部门核验 (called after each engine step)."""
    if case.status == ACCEPTING and case.id is not None and snapshots.pending_of(session, case):
        case.status = AWAITING


def refuse_acceptance(session: Session, case: Case) -> None:
    """受理 is not approved on unverified data: the clerk is told which department the case waits for."""
    pending = snapshots.pending_of(session, case)
    if pending:
        departments = "、".join(dict.fromkeys(s.department for s in pending))
        raise Conflict(f"本案仍在等待部门核验（{departments}{snapshots.UNAVAILABLE}），核验完成前不能予以受理；"
                       "部门恢复后系统自动重新核验，也可先要求补正或不予受理", code="verification_pending")


def _allowed(session: Session, interface_code: str) -> bool:
    iface = session.execute(select(Interface).where(Interface.code == interface_code)).scalar_one_or_none()
    return iface is not None and iface.enabled and breaker_allows(iface, utcnow())[0]


def recheck_pending(session: Session, limit: int = 100) -> RecheckReport:
    """One pass over the cases with pending checks, each case in its own transaction, committed by ``session``
    (the job's); the department calls are made with no transaction open (app/integrations/answers.py)."""
    case_ids = list(session.execute(select(VerificationSnapshot.case_id)
                                    .where(VerificationSnapshot.retry_state == snapshots.PENDING)
                                    .distinct().limit(limit).execution_options(all_tenants=True)).scalars())
    report = RecheckReport()
    for one in each_in_own_transaction(session, case_ids, lambda case_id: recheck_case(session, case_id)):
        report.cases += one.cases
        report.checked += one.checked
        report.waiting += one.waiting
        report.resumed += one.resumed
    return report


def recheck_case(session: Session, case_id: str) -> RecheckReport:
    """Re-run one case's pending checks (the case row locked first). The report of this case alone: a re-run
    of the unit of work starts it afresh."""
    report = RecheckReport()
    case = session.execute(select(Case).where(Case.id == case_id).with_for_update()
                           .execution_options(all_tenants=True, populate_existing=True)).scalar_one_or_none()
    if case is None:
        return report
    pending = snapshots.pending_of(session, case)  # read after the lock: a concurrent run's work is seen
    if not pending:
        return report
    report.cases += 1
    if case.status in FINAL_STATUSES:  # decided without the check (不予受理, withdrawn): nothing to wait for
        for snap in pending:
            snapshots.cancel(session, case, snap)
        return report
    _recheck_case(session, case, pending, report)
    return report


def _recheck_case(session: Session, case: Case, pending: list[VerificationSnapshot], report: RecheckReport) -> None:
    from app.cases.sharing.verification import RECHECKS

    definition = definition_of(session, case)
    waived_before = exemptions.waived_codes(session, case)
    deferred_before = exemptions.deferred_codes(session, definition, case)
    ctx = CaseContext(session, case, SYSTEM)
    done: list[str] = []
    by_operation: dict[str, list[str | None]] = {}
    for snap in pending:
        by_operation.setdefault(snap.operation, []).append(snap.subject_role)
    for operation, roles in by_operation.items():
        check, interface_code = RECHECKS[operation]
        if not _allowed(session, interface_code):
            report.waiting += len(roles)
            continue
        check(ctx, roles=roles, rerun=True)
        left = [s for s in snapshots.pending_of(session, case) if s.operation == operation]
        report.checked += len(roles) - len(left)
        report.waiting += len(left)
        if len(left) < len(roles):
            done.append(operation)
    if not done:
        return
    asked = {(s.operation, s.subject_role) for s in pending if s.operation in done}
    latest: dict[tuple[str, str | None], VerificationSnapshot] = {}
    for snap in snapshots.snapshots_of(session, case):  # oldest first: the answers of this run win
        if snap.retry_state is None and (snap.operation, snap.subject_role) in asked:
            latest[(snap.operation, snap.subject_role)] = snap
    names = {m.code: m.name for m in checklist(definition)}
    waived = sorted(exemptions.waived_codes(session, case) - waived_before)
    uploaded = {m.code for m in case.materials}
    now_deferred = exemptions.deferred_codes(session, definition, case)
    required_again = [c for c in required_codes(definition, case.form_public)
                      if c in deferred_before and c not in now_deferred and c not in uploaded
                      and c not in exemptions.waived_codes(session, case)]
    still_pending = snapshots.pending_of(session, case)
    if case.status == AWAITING and not still_pending:
        open_task = session.execute(select(Task).where(Task.case_id == case.id, Task.status == TaskStatus.OPEN)
                                    ).scalars().first()
        case.status = status_for_stage(open_task.stage) if open_task is not None else ACCEPTING
        report.resumed.append(case.id)
    checked = "；".join(f"{s.department}{('（' + s.subject_label + '）') if s.subject_label else ''}{s.result}"
                       for s in latest.values())
    parts = [f"部门已恢复，重新核验：{checked}"]
    if waived:
        parts.append("免提交：" + "、".join(names.get(c, c) for c in waived))
    if required_again:
        parts.append("需补充提交（受理人员将通知补正）：" + "、".join(names.get(c, c) for c in required_again))
    if still_pending:
        parts.append("其余核验仍在等待部门恢复")
    progress.add_event(session, case, kind=EventKind.VERIFICATION_COMPLETED, actor=None, stage=Stage.ACCEPT,
                       message="。".join(parts))
    audit.record(session, actor_id=None, action="verification.recheck", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id,
                 after={"operations": done, "results": {f"{k[0]}:{k[1] or ''}": v.result for k, v in latest.items()},
                        "waived": waived, "required_again": required_again, "status": case.status})

