"""Cases waiting for 税务: fire due escalation timers, re-ask 税务 about tax cases whose callback has not
come (callbacks get lost; the department's own record is the truth). Run by the ``tax_waits`` job."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile import progress
from app.casefile.context import CaseContext
from app.casefile.models import Case
from app.cases.sharing import tax
from app.engine.runtime import WorkflowRuntime
from app.errors import DomainError
from app.identity.actor import SYSTEM
from app.integrations.adapters import shuiwu
from app.integrations.answers import each_in_own_transaction
from app.integrations.client import CallContext, ServiceUnavailable
from app.integrations.verification_models import TaxCase
from app.security import audit
from app.vocabulary import FINAL_STATUSES, CaseStatus, EventKind, Stage, TaxStatus

OPEN = sorted(FINAL_STATUSES | {CaseStatus.DRAFT})  # statuses a tax hand-off no longer waits in


def refresh_waiting_cases(session: Session, limit: int = 200) -> int:
    """Returns how many cases moved (a timer fired or 完税 was found). Each case is its own transaction,
    committed by ``session`` (the job's); 税务 is asked with no transaction open (app/integrations/answers.py),
    so no case row or audit head is locked while it answers."""
    case_ids = list(session.execute(select(Case.id).join(TaxCase, Case.id == TaxCase.case_id)
                                    .where(TaxCase.status != TaxStatus.PAID, Case.status.not_in(OPEN))
                                    .limit(limit)).scalars())
    return sum(each_in_own_transaction(session, case_ids, lambda case_id: refresh_case(session, case_id)))


def refresh_case(session: Session, case_id: str) -> int:
    """1 when the case moved: 完税 found at 税务, or its escalation timer fired."""
    from app.cases.intake import apply_outcome

    row = session.execute(select(TaxCase, Case).join(Case, Case.id == TaxCase.case_id)
                          .where(Case.id == case_id, TaxCase.status != TaxStatus.PAID,
                                 Case.status.not_in(OPEN))).first()
    if row is None:  # paid or decided since the list was read
        return 0
    tax_case, case = row
    if tax_case.status in (TaxStatus.PENDING, TaxStatus.PUSHED):  # pending: the push went through the outbox
        try:
            found = shuiwu.tax_case(session, CallContext(case_id=case.id, business_no=case.business_no),
                                    tax_case.business_no)
        except ServiceUnavailable:
            found = None
        if found and found.get("status") == "完税":
            tax.record_tax_paid(session, found, via="reconcile")
            return 1
    if case.status == CaseStatus.AWAITING_TAX:
        # The case row first, as a clerk's step and the 完税 callback lock it (case → workflow → audit head):
        # firing the timer writes the workflow state, and taking that before the case could deadlock with them.
        locked = session.execute(select(Case).where(Case.id == case_id, Case.status == CaseStatus.AWAITING_TAX)
                                 .with_for_update().execution_options(populate_existing=True)).scalar_one_or_none()
        if locked is None:  # moved on since it was read
            return 0
        case = locked
        try:
            outcome = WorkflowRuntime(session, CaseContext(session, case, SYSTEM)).refresh_timers(case.id)
        except DomainError:
            return 0
        if outcome is None:
            return 0
        apply_outcome(session, case, outcome)
        progress.add_event(session, case, kind=EventKind.TAX_OVERDUE, actor=None, stage=Stage.TAX,
                           message="完税信息超过期限未到，已转审核人员催办")
        audit.record(session, actor_id=None, action="workflow.timer", object_type="case", object_id=case.id,
                     tenant_id=case.tenant_id, after={"status": case.status, "timer": "tax_overdue"})
        return 1
    return 0
