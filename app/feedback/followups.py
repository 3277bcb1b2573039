"""A 差评's follow-up (差评整改): a case of the internal type ``feedback_followup`` (processes/feedback_followup),
opened in the rated office and run by the same engine, inbox, deadlines and task pages as every case.

Why a case and not an instance model of its own: the workflow state (``workflow_state``), the inbox rows
(``task``), claiming, completing with form validation, the working-day deadlines, the timeline and the audit
all hang off ``reg_case``; a follow-up as a case of an internal type gets all of them unchanged, and its
diagram is a definition on disk like every other (versioned, editable in the designer). ``Channel.INTERNAL``
keeps it out of the applicants' lists and of the application statistics."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile import progress
from app.casefile.context import CaseContext
from app.casefile.models import Case, Party, Task
from app.casefile.status import SUBMITTED, status_label
from app.cases.intake import apply_outcome
from app.cases.numbers import next_business_no
from app.catalog.forms import pii_fields
from app.catalog.service import current_version, version_definition
from app.clock import beijing_today
from app.db import utcnow
from app.engine.runtime import WorkflowRuntime
from app.feedback.models import Rating
from app.feedback.scale import LEVELS
from app.feedback.subjects import Subject
from app.identity.actor import Actor
from app.identity.models import User
from app.security import audit
from app.vocabulary import FINAL_STATUSES, Channel, EventKind, Stage, TaskStatus

FOLLOW_UP_TYPE = "feedback_followup"


def open_follow_up(session: Session, actor: Actor, rating: Rating, subject: Subject, rater: User) -> Case:
    """Open the follow-up of ``rating`` in the rated office: its first task (核实) lands in the office leaders'
    inbox with its deadline in working days."""
    version = current_version(session, FOLLOW_UP_TYPE)
    definition = version_definition(version)
    form = {"rated_business_no": subject.reference, "rated_subject": subject.stage,
            "rating_level": LEVELS[rating.level], "rating_comment": rating.comment or "",
            "rater_name": rater.real_name or rater.username, "rater_id_number": rater.id_number or "",
            "rater_phone": rater.phone or ""}
    case = Case(business_type_code=FOLLOW_UP_TYPE, process_version_id=version.id, channel=Channel.INTERNAL,
                applicant_id=rater.id, tenant_id=subject.tenant_id)
    case.ensure_id()
    secret = pii_fields(definition.application_schema)
    case.form_data = form
    case.form_public = {k: v for k, v in form.items() if k not in secret}
    party = Party(case_id=case.id, tenant_id=case.tenant_id, position=0, role="rater", label="评价人", kind="person")
    party.ensure_id()
    party.name, party.id_number = form["rater_name"], form["rater_id_number"] or None
    case.parties.append(party)
    today = beijing_today()
    case.business_no = next_business_no(session, case.tenant_id, today.year, definition.reg_class)
    case.submitted_at, case.accepted_at, case.status = utcnow(), utcnow(), SUBMITTED
    session.add(case)
    session.flush()
    runtime = WorkflowRuntime(session, CaseContext(session, case, actor))
    outcome = runtime.start(case.id, version, {"case_id": case.id, "business_type": FOLLOW_UP_TYPE,
                                               **case.form_public})
    apply_outcome(session, case, outcome, today)
    rating.follow_up_case_id = case.id
    progress.add_event(session, case, kind=EventKind.SUBMITTED, actor=actor,
                       message=f"评价人对 {subject.reference} 作出“{LEVELS[rating.level]}”评价，开启差评整改")
    audit.record(session, actor_id=actor.user_id, action="feedback.follow_up_open", object_type="case",
                 object_id=case.id, tenant_id=case.tenant_id,
                 after={"rating": rating.id, "business_no": case.business_no, "status": case.status})
    return case


def follow_up_view(session: Session, rating: Rating) -> dict[str, object] | None:
    """What the rater sees of the follow-up: its status and, once answered, the 答复."""
    if rating.follow_up_case_id is None:
        return None
    case = session.execute(select(Case).where(Case.id == rating.follow_up_case_id)
                           .execution_options(all_tenants=True)).scalar_one_or_none()
    if case is None:
        return None
    answer = None
    if case.status in FINAL_STATUSES:
        answer = session.execute(select(Task).where(
            Task.case_id == case.id, Task.stage == Stage.ANSWER, Task.status == TaskStatus.COMPLETED)
            .order_by(Task.completed_at.desc()).limit(1).execution_options(all_tenants=True)).scalar_one_or_none()
    return {"business_no": case.business_no, "status": case.status, "status_label": status_label(case.status),
            "answered": answer is not None, "answer": answer.opinion if answer else None,
            "answered_at": answer.completed_at if answer else None}
