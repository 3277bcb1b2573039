"""Finding a case the actor may see. Staff see their offices' cases (the session's tenant scope does the
filtering, so another office's case is simply not found); applicants see the cases they are a party to."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.casefile.models import Case, Party, Task
from app.catalog.definitions import BusinessTypeDef
from app.catalog.service import definition_by_version
from app.errors import NotFound
from app.identity.actor import Actor
from app.vocabulary import Channel


def is_party(actor: Actor, case: Case) -> bool:
    """The applicant (creator) or a person the application names. An agent institution is the applicant of the
    cases it filed for its clients under a 授权委托书 (app/cases/attorney.py) and of no other: it sees only those."""
    if actor.user_id and case.applicant_id == actor.user_id:
        return True
    return bool(actor.id_number_bidx) and any(p.id_number_bidx == actor.id_number_bidx for p in case.parties)


def get_case(session: Session, actor: Actor, case_id: str) -> Case:
    # The parties, materials and consents with the case, in one statement (issue 18): an applicant's access is
    # decided by the parties, nearly every step on a case reads the first two (the signed content covers the
    # materials), and the rules the consents. Each is a few rows (consents mostly none); their product is what
    # the statement returns. And its office (one row): a submission checks that it is open.
    case = session.execute(select(Case).where(Case.id == case_id)
                           .options(joinedload(Case.parties), joinedload(Case.materials), joinedload(Case.consents),
                                    joinedload(Case.office))
                           ).unique().scalar_one_or_none()
    if case is None:
        raise NotFound("未找到该申请", code="case_not_found")
    if actor.kind == "staff" and actor.has("case:read"):
        return case
    # A case the platform opened for itself (a 差评's follow-up) is the office's work, not an application.
    if actor.kind in ("applicant", "institution") and is_party(actor, case) and case.channel != Channel.INTERNAL:
        return case
    raise NotFound("未找到该申请", code="case_not_found")


def get_task(session: Session, actor: Actor, task_id: str) -> Task:
    task = session.execute(select(Task).where(Task.id == task_id)).scalar_one_or_none()
    if task is None or actor.kind != "staff":
        raise NotFound("未找到该任务", code="task_not_found")
    return task


def get_task_with_case(session: Session, actor: Actor, task_id: str) -> tuple[Task, Case]:
    """``get_task`` and its case in one query (a task's page shows both)."""
    row = session.execute(select(Task, Case).join(Case, Case.id == Task.case_id)
                          .where(Task.id == task_id)).first()
    if row is None or actor.kind != "staff":
        raise NotFound("未找到该任务", code="task_not_found")
    return row[0], row[1]


def definition_of(session: Session, case: Case) -> BusinessTypeDef:
    return definition_by_version(session, case.process_version_id)


def cases_of_applicant(session: Session, actor: Actor) -> list[Case]:
    stmt = select(Case).where(Case.applicant_id == actor.user_id)
    if actor.id_number_bidx:
        stmt = select(Case).where(
            (Case.applicant_id == actor.user_id)
            | Case.id.in_(select(Party.case_id).where(Party.id_number_bidx == actor.id_number_bidx))
        )
    stmt = stmt.where(Case.channel != Channel.INTERNAL)  # a 差评's follow-up is the office's work (app/feedback)
    return list(session.execute(stmt.order_by(Case.created_at.desc())).scalars())
