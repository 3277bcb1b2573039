"""Back-office use cases: claim and complete the user tasks of 受理 / 审核 / 登簿 / 缮证."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, joinedload

from app.casefile import progress
from app.casefile.access import definition_of
from app.casefile.context import CaseContext
from app.casefile.models import Case, Task
from app.casefile.storage import Storage
from app.cases import notices
from app.cases.field_access import may_act
from app.cases.intake import apply_outcome, check_rules_at_acceptance
from app.catalog.forms import validate_form_data
from app.db import affected_rows, transaction_cache, utcnow
from app.engine.models import WorkflowState
from app.engine.runtime import WorkflowRuntime
from app.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from app.identity.actor import Actor
from app.identity.models import User
from app.integrations.answers import discard_if_waiting
from app.security import audit
from app.vocabulary import EventKind, Stage, TaskStatus


def _check_can_act(session: Session, actor: Actor, task: Task) -> None:
    """The lane's role, or a role the type's stage permissions let act at the task's stage."""
    actor.require("task:complete")
    if task.role not in actor.roles:
        case = session.get(Case, task.case_id)
        if case is None or not may_act(definition_of(session, case), actor, task):
            raise PermissionDenied(f"该任务需要“{task.role}”角色办理", code="wrong_role")
    if task.status != TaskStatus.OPEN:
        raise Conflict("该任务已办理", code="task_closed")
    if task.assignee_id and task.assignee_id != actor.user_id:
        raise Conflict("该任务已由他人领取", code="task_claimed_by_other")


def claim_task(session: Session, actor: Actor, task: Task) -> Task:
    """Take a task into one's own inbox. A conditional UPDATE makes the claim atomic: of two clerks
    clicking at the same moment, exactly one gets it, the other a Conflict."""
    actor.require("task:claim")
    _check_can_act(session, actor, task)
    if task.assignee_id == actor.user_id:
        return task
    now = utcnow()
    result = session.execute(
        update(Task).where(Task.id == task.id, Task.status == TaskStatus.OPEN, Task.assignee_id.is_(None))
        .values(assignee_id=actor.user_id, claimed_at=now).execution_options(synchronize_session=False))
    session.refresh(task)
    if not affected_rows(result):
        _check_can_act(session, actor, task)  # raises the precise reason (claimed by another, closed)
        raise Conflict("该任务已由他人领取", code="task_claimed_by_other")
    audit.record(session, actor_id=actor.user_id, action="task.claim", object_type="task", object_id=task.id,
                 tenant_id=task.tenant_id, after={"assignee_id": actor.user_id})
    return task


def claim_tasks(session: Session, actor: Actor, tasks: list[Task]) -> tuple[list[Task], dict[str, str]]:
    """批量领取: claims what can be claimed; returns the claimed tasks and, per task id, why the others failed."""
    claimed: list[Task] = []
    failed: dict[str, str] = {}
    for task in tasks:
        try:
            claimed.append(claim_task(session, actor, task))
        except DomainError as exc:
            failed[task.id] = exc.message
    return claimed, failed


def release_task(session: Session, actor: Actor, task: Task) -> Task:
    """退回待领: the assignee (or a team leader) puts a claimed task back for the role to pick up."""
    if task.status != TaskStatus.OPEN:
        raise Conflict("该任务已办理", code="task_closed")
    if task.assignee_id is None:
        return task
    if task.assignee_id != actor.user_id and not actor.has("task:assign"):
        raise PermissionDenied("只能退回本人领取的任务", code="forbidden")
    before = {"assignee_id": task.assignee_id}
    task.assignee_id, task.claimed_at = None, None
    audit.record(session, actor_id=actor.user_id, action="task.release", object_type="task", object_id=task.id,
                 tenant_id=task.tenant_id, before=before, after={"assignee_id": None})
    return task


def eligible_assignees(session: Session, task: Task) -> list[User]:
    """Active staff of the task's office who hold the task's role."""
    users = session.execute(select(User).where(User.kind == "staff", User.is_active.is_(True),
                                               User.tenant_id == task.tenant_id).order_by(User.username)).scalars()
    return [u for u in users if task.role in u.role_codes]


def assign_task(session: Session, actor: Actor, task: Task, assignee_id: str) -> Task:
    """指派/转办 by a team leader: give an open task (claimed or not) to a colleague holding its role."""
    actor.require("task:assign")
    if task.status != TaskStatus.OPEN:
        raise Conflict("该任务已办理", code="task_closed")
    assignee = next((u for u in eligible_assignees(session, task) if u.id == assignee_id), None)
    if assignee is None:
        raise NotFound("该人员不在本辖区或不具备办理该环节的角色", code="assignee_not_eligible")
    before = {"assignee_id": task.assignee_id}
    result = session.execute(
        update(Task).where(Task.id == task.id, Task.status == TaskStatus.OPEN,
                           or_(Task.assignee_id.is_(None), Task.assignee_id == task.assignee_id))
        .values(assignee_id=assignee.id, claimed_at=utcnow()).execution_options(synchronize_session=False))
    session.refresh(task)
    if not affected_rows(result):
        raise Conflict("任务状态已变化，请刷新后重试", code="concurrent_update")
    audit.record(session, actor_id=actor.user_id, action="task.assign", object_type="task", object_id=task.id,
                 tenant_id=task.tenant_id, before=before, after={"assignee_id": assignee.id})
    return task


def _decision_label(schema: dict[str, Any], decision: str) -> str:
    for option in schema.get("properties", {}).get("decision", {}).get("oneOf", []):
        if option.get("const") == decision:
            return str(option.get("title", decision))
    return decision


def _check_decision(task: Task, decision: str, confirmed_record: bool, data: dict[str, Any]) -> dict[str, Any]:
    """The rules of a decision that hold whichever skin it comes from. 登簿 writes the register, so its approval
    needs the recorder's explicit confirmation that he checked the preview; 登簿's 退回审核 sends the case back
    to 审核 and is no 不予登记, so it takes no reject reasons (they are dropped, not refused: a form may send
    the field empty)."""
    if not decision:
        raise ValidationFailed("请选择办理结论", field="decision")
    if task.stage == Stage.RECORD and decision == "approve" and not confirmed_record:
        raise ValidationFailed("请先核对登簿内容，勾选“已核对”后再确认登簿", field="confirm_record",
                               code="record_not_confirmed")
    if task.stage == Stage.RECORD:
        return {k: v for k, v in data.items() if k != "reject_reasons"}
    return data


_LOCKED_FOR_STEP = "case_locked_for_step"  # transaction cache: case id → (case, its workflow state), read locked


def task_to_complete(session: Session, actor: Actor, task_id: str) -> Task:
    """``get_task`` for a completion: the task with its case locked — the step's first lock, as
    ``complete_task`` takes it — and the case's workflow state, parties, materials and consents, in one
    statement (issue 18: the task, then the case, then each collection). A statement that waited for the
    case's lock sees the joined rows as they were when it began (PostgreSQL, READ COMMITTED): the workflow
    state's version guards the step (a completion that raced another is refused, ``WorkflowRuntime``); the
    department messages that lock the case (完税) write none of the collections."""
    row = session.execute(
        select(Task, Case, WorkflowState).join(Case, Case.id == Task.case_id)
        .outerjoin(WorkflowState, WorkflowState.case_id == Case.id)
        .options(joinedload(Case.parties), joinedload(Case.materials), joinedload(Case.consents))
        .where(Task.id == task_id).with_for_update(of=Case).execution_options(populate_existing=True)
    ).unique().one_or_none()
    if row is None or actor.kind != "staff":
        raise NotFound("未找到该任务", code="task_not_found")
    task, case, state = row
    transaction_cache(session, _LOCKED_FOR_STEP)[case.id] = (case, state)  # held: the identity map is weak
    return task


def complete_task(session: Session, actor: Actor, task: Task, *, decision: str, opinion: str,
                  data: dict[str, Any] | None = None, confirmed_record: bool = False, today: date | None = None,
                  storage: Storage | None = None) -> Case:
    """``confirmed_record`` is the recorder's tick that he checked what 登簿 will write (required to approve
    登簿). ``storage`` is where service tasks after this step may write files (缮证 → the signed certificate)."""
    _check_can_act(session, actor, task)
    data = _check_decision(task, decision, confirmed_record, data or {})
    # Lock the case first: inbound department messages (完税) lock it too, so a message and a step never miss
    # each other (the step's gateways read what the message wrote, or the message finds the step's wait).
    # The workflow's state row comes with it: held here, the runtime finds it in the session (whose identity map
    # keeps only referenced objects) instead of reading it again. So do its parties, materials and consents
    # (a few rows each): the rules at 受理 and 登簿 and the signatures' check at 登簿 and 缮证 read them.
    # Read with the task already (``task_to_complete``): not again.
    held = transaction_cache(session, _LOCKED_FOR_STEP).get(task.case_id)
    if held is not None:
        case = held[0]
    else:
        case, _workflow_state = session.execute(
            select(Case).outerjoin(WorkflowState, WorkflowState.case_id == Case.id).add_columns(WorkflowState)
            .options(joinedload(Case.parties), joinedload(Case.materials), joinedload(Case.consents))
            .where(Case.id == task.case_id).with_for_update(of=Case).execution_options(populate_existing=True)
        ).unique().one()
    definition = definition_of(session, case)
    schema = definition.forms[task.form_key]
    payload = validate_form_data(schema, {**data, "decision": decision, "opinion": opinion})
    if task.stage == Stage.ACCEPT and decision == "approve":
        from app.cases.sharing.rechecks import refuse_acceptance

        refuse_acceptance(session, case)  # not on data a department has not verified yet
        check_rules_at_acceptance(session, actor, case, definition)
    before = {"status": case.status}  # the task is named once, in ``after`` (issue 18: no repeated payloads)
    runtime = WorkflowRuntime(session, CaseContext(session, case, actor, storage))
    outcome = runtime.complete(case.id, task.spiff_task_id, {"decision": decision})
    discard_if_waiting(session)  # a department answer is wanted: the step runs again with it
    now = utcnow()
    task.assignee_id = task.assignee_id or actor.user_id
    task.status, task.completed_at, task.completed_by = TaskStatus.COMPLETED, now, actor.user_id
    task.decision, task.opinion = decision, opinion
    task.result = {k: v for k, v in payload.items() if k not in ("decision", "opinion")}
    if task.stage == Stage.ACCEPT and decision == "approve":
        case.accepted_at = now
    if decision == "correct":
        case.correction_items = list(payload.get("correction_items") or [])
    # The inbox mirrors the READY user tasks: when this task was the only one, the case has no other open row
    # to read (issue 18: the task was read twice per completion).
    apply_outcome(session, case, outcome, today, [] if outcome.was_ready == frozenset({task.spiff_task_id}) else None)
    label = _decision_label(schema, decision)
    progress.add_event(session, case, kind=EventKind.STEP_COMPLETED, actor=actor, stage=task.stage, decision=decision,
                       actor_role=task.role, message=f"{task.title}：{label}")
    notices.announce(session, case, task, actor)
    audit.record(session, actor_id=actor.user_id, action="task.complete", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, before=before,
                 after={"status": case.status, "task": task.task_name, "decision": decision})
    return case
