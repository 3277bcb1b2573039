"""The clerk inbox: READY user tasks mirrored into the indexed ``task`` table after every engine step."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.cases.models import Case, Task
from app.db import utcnow
from app.engine.runtime import ReadyTask
from app.engine.workdays import add_working_days
from app.identity.actor import Actor


def sync_tasks(session: Session, case: Case, ready: list[ReadyTask], today: date | None = None) -> list[Task]:
    """Open a row for each newly READY task; cancel open rows whose task is no longer READY."""
    today = today or utcnow().date()
    open_rows = session.execute(select(Task).where(Task.case_id == case.id, Task.status == "open")).scalars().all()
    by_spiff_id = {t.spiff_task_id: t for t in open_rows}
    ready_ids = {r.spiff_task_id for r in ready}
    for row in open_rows:
        if row.spiff_task_id not in ready_ids:
            row.status = "cancelled"
    created = []
    for r in ready:
        if r.spiff_task_id in by_spiff_id:
            continue
        due_days = r.properties.get("dueDays")
        task = Task(case_id=case.id, tenant_id=case.tenant_id, spiff_task_id=r.spiff_task_id,
                    task_name=r.task_name, title=r.title, stage=r.properties.get("stage", ""), role=r.role,
                    form_key=r.properties.get("formKey", ""), status="open",
                    due_at=add_working_days(today, int(due_days)) if due_days else None)
        session.add(task)
        created.append(task)
    return created


def inbox_query(actor: Actor, *, business_no: str | None = None, stage: str | None = None,
                mine: bool = False, status: str = "open") -> Select[tuple[Task, Case]]:
    stmt = select(Task, Case).join(Case, Case.id == Task.case_id).where(Task.status == status)
    if mine:
        stmt = stmt.where(Task.assignee_id == actor.user_id)
    elif not actor.city_level:
        stmt = stmt.where(Task.role.in_(sorted(actor.roles)))
    if business_no:
        stmt = stmt.where(Case.business_no == business_no)
    if stage:
        stmt = stmt.where(Task.stage == stage)
    return stmt.order_by(Task.due_at.is_(None), Task.due_at, Task.created_at, Task.id)
