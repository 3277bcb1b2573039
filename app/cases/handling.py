"""Back-office use cases: claim and complete the user tasks of 受理 / 审核 / 登簿 / 缮证."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.cases import progress
from app.cases.access import definition_of
from app.cases.context import CaseContext
from app.cases.intake import apply_outcome
from app.cases.models import Case, Task
from app.cases.storage import Storage
from app.catalog.forms import validate_form_data
from app.db import utcnow
from app.engine.runtime import WorkflowRuntime
from app.errors import Conflict, PermissionDenied
from app.identity.actor import Actor
from app.security import audit


def _check_can_act(actor: Actor, task: Task) -> None:
    actor.require("task:complete")
    if task.role not in actor.roles:
        raise PermissionDenied(f"该任务需要“{task.role}”角色办理", code="wrong_role")
    if task.status != "open":
        raise Conflict("该任务已办理", code="task_closed")
    if task.assignee_id and task.assignee_id != actor.user_id:
        raise Conflict("该任务已由他人领取", code="task_claimed_by_other")


def claim_task(session: Session, actor: Actor, task: Task) -> Task:
    actor.require("task:claim")
    _check_can_act(actor, task)
    if task.assignee_id != actor.user_id:
        task.assignee_id, task.claimed_at = actor.user_id, utcnow()
        audit.record(session, actor_id=actor.user_id, action="task.claim", object_type="task", object_id=task.id,
                     tenant_id=task.tenant_id, after={"assignee_id": actor.user_id})
    return task


def _decision_label(schema: dict[str, Any], decision: str) -> str:
    for option in schema.get("properties", {}).get("decision", {}).get("oneOf", []):
        if option.get("const") == decision:
            return str(option.get("title", decision))
    return decision


def complete_task(session: Session, actor: Actor, task: Task, *, decision: str, opinion: str,
                  data: dict[str, Any] | None = None, today: date | None = None,
                  storage: Storage | None = None) -> Case:
    """``storage`` is where service tasks after this step may write files (缮证 → the signed certificate)."""
    _check_can_act(actor, task)
    case = session.get_one(Case, task.case_id)
    definition = definition_of(session, case)
    schema = definition["forms"][task.form_key]
    payload = validate_form_data(schema, {**(data or {}), "decision": decision, "opinion": opinion})
    before = {"status": case.status, "task": task.task_name}
    runtime = WorkflowRuntime(session, CaseContext(session, case, actor, storage))
    outcome = runtime.complete(case.id, task.spiff_task_id, {"decision": decision})
    now = utcnow()
    task.assignee_id = task.assignee_id or actor.user_id
    task.status, task.completed_at, task.completed_by = "completed", now, actor.user_id
    task.decision, task.opinion = decision, opinion
    task.result = {k: v for k, v in payload.items() if k not in ("decision", "opinion")}
    if task.stage == "受理" and decision == "approve":
        case.accepted_at = now
    if decision == "correct":
        case.correction_items = list(payload.get("correction_items") or [])
    apply_outcome(session, case, outcome, today)
    label = _decision_label(schema, decision)
    progress.add_event(session, case, kind="step_completed", actor=actor, stage=task.stage, decision=decision,
                       actor_role=task.role, message=f"{task.title}：{label}")
    audit.record(session, actor_id=actor.user_id, action="task.complete", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, before=before,
                 after={"status": case.status, "task": task.task_name, "decision": decision})
    return case
