"""What can be rated: a case once it has ended (办结, 不予受理, 不予登记, 撤回) and a window visit once the
applicant came (an appointment checked in), with the dimensions its rating is counted under."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.models import Appointment, Case, Task
from app.errors import Conflict
from app.vocabulary import FINAL_STATUSES, AppointmentStatus, CaseStatus, Channel, Stage, TaskStatus

# The stage of a case's rating is how the service ended; a visit's is the window.
OUTCOME_STAGES = {CaseStatus.COMPLETED: "办结", CaseStatus.REJECTED: "不予受理", CaseStatus.REFUSED: "不予登记",
                  CaseStatus.WITHDRAWN: "撤回"}
WINDOW_STAGE = "窗口服务"


@dataclass(frozen=True)
class Subject:
    key: str
    tenant_id: str
    reference: str
    business_type_code: str
    stage: str
    clerk_id: str | None
    case_id: str | None = None
    appointment_id: str | None = None


def case_subject(session: Session, case: Case) -> Subject:
    """Raises ``Conflict`` while the case runs (a rating is of the whole service, given once it has ended)."""
    if case.channel == Channel.INTERNAL:
        raise Conflict("该事项不接受评价", code="not_ratable")
    if case.status not in FINAL_STATUSES:
        raise Conflict("业务办结（或不予受理、不予登记、撤回）后才能评价", code="not_ended")
    # The clerk is whoever accepted it (受理, the service's front desk); a case withdrawn before 受理 has none.
    clerk = session.execute(select(Task.completed_by).where(
        Task.case_id == case.id, Task.stage == Stage.ACCEPT, Task.status == TaskStatus.COMPLETED)
        .order_by(Task.completed_at.desc()).limit(1)).scalar_one_or_none()
    return Subject(key=f"case:{case.id}", tenant_id=case.tenant_id, reference=case.business_no or "",
                   business_type_code=case.business_type_code, stage=OUTCOME_STAGES[CaseStatus(case.status)],
                   clerk_id=clerk, case_id=case.id)


def appointment_subject(session: Session, appointment: Appointment) -> Subject:
    if appointment.status != AppointmentStatus.CHECKED_IN:
        raise Conflict("到窗口办理（预约签到）后才能评价窗口服务", code="not_visited")
    # The clerk who entered the visit's window case (its author) served the applicant at the window.
    clerk = session.execute(select(Case.applicant_id).where(Case.id == appointment.case_id)
                            ).scalar_one_or_none() if appointment.case_id else None
    return Subject(key=f"appointment:{appointment.id}", tenant_id=appointment.tenant_id, reference=appointment.code,
                   business_type_code=appointment.business_type_code, stage=WINDOW_STAGE, clerk_id=clerk,
                   appointment_id=appointment.id)


def subject_for_key(session: Session, key: str) -> Subject:
    kind, _, ident = key.partition(":")
    if kind == "case":
        case = session.get(Case, ident)
        if case is not None:
            return case_subject(session, case)
    elif kind == "appointment":
        appointment = session.get(Appointment, ident)
        if appointment is not None:
            return appointment_subject(session, appointment)
    raise Conflict("被评价的服务不存在", code="not_ratable")
