"""Running cases move to another version of their type when the office decides (issue 15 §4).

Publishing never moves a case by itself: a case finishes on the version it started on. When the office
wants running cases on the new route, an analyst maps each user task of the old version to one of the new
version (``suggested_mapping`` pre-fills it by element id, then by name), looks at the dry run (``plan``:
which cases would move and where, which are refused and why) and runs it (``migrate``).

Each case moves all-or-nothing inside its own savepoint: workflow state re-pointed to the new spec, the
case's version, its open inbox rows (same task ids; assignee and due date kept, the assignee dropped only
when the lane's role changed), a progress event and an audit entry with before/after. A case that is
refused or fails half-way stays exactly as it was on the old version; the others still move. The engine
side is app/engine/migration.py.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile import progress
from app.casefile.models import Case, Task
from app.casefile.status import status_label
from app.cases.intake import apply_outcome
from app.catalog.definitions import UserTaskDef
from app.catalog.designer import version_of
from app.catalog.models import ProcessVersion
from app.catalog.service import version_definition
from app.engine.migration import MigrationRefused, TaskMove
from app.engine.models import WorkflowState
from app.engine.runtime import ReadyTask, WorkflowRuntime
from app.errors import DomainError, ValidationFailed
from app.identity.actor import Actor
from app.security import audit
from app.vocabulary import EventKind, TaskStatus

log = logging.getLogger(__name__)
PERMISSION = "defs:manage"  # who may publish a version may move cases onto it
FAILED = "迁移过程中出错，案件保持在原版本"


@dataclass
class CasePlan:
    """One running case in the dry run or the result: where its waiting tasks go, or why it stays."""

    case_id: str
    business_no: str | None
    status: str
    moves: list[TaskMove] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refusals

    @property
    def status_label(self) -> str:
        return status_label(self.status)


@dataclass
class MigrationPlan:
    source: ProcessVersion
    target: ProcessVersion
    mapping: dict[str, str]
    cases: list[CasePlan]
    executed: bool = False

    @property
    def movable(self) -> list[CasePlan]:
        return [c for c in self.cases if c.ok]

    @property
    def refused(self) -> list[CasePlan]:
        return [c for c in self.cases if not c.ok]


def user_tasks(version: ProcessVersion) -> list[UserTaskDef]:
    """The version's user tasks as the loader recorded them (id, name, role, stage, form_key, due_days)."""
    return list(version_definition(version).user_tasks)


def suggested_mapping(source: ProcessVersion, target: ProcessVersion) -> dict[str, str]:
    """Each old user task → the new user task with the same id, else the only one with the same name."""
    new = user_tasks(target)
    ids = {t.id for t in new}
    names = Counter(t.name for t in new)
    by_name = {t.name: t.id for t in new if names[t.name] == 1}
    mapping = {}
    for task in user_tasks(source):
        match = task.id if task.id in ids else by_name.get(task.name)
        if match:
            mapping[task.id] = match
    return mapping


def waiting_counts(session: Session, source: ProcessVersion) -> dict[str, int]:
    """How many running cases of ``source`` wait at each user task (open inbox rows by element id)."""
    rows = session.execute(select(Task.task_name, Case.id).join(Case, Case.id == Task.case_id).where(
        Case.process_version_id == source.id, Task.status == TaskStatus.OPEN)).all()
    return dict(Counter(name for name, _ in set(rows)))


def _versions(session: Session, actor: Actor, code: str, source_id: str,
              target_id: str) -> tuple[ProcessVersion, ProcessVersion]:
    actor.require(PERMISSION)
    source, target = version_of(session, code, source_id), version_of(session, code, target_id)
    if source.id == target.id:
        raise ValidationFailed("原版本与目标版本相同，请选择另一个版本", field="target")
    return source, target


def _checked_mapping(source: ProcessVersion, target: ProcessVersion, mapping: Mapping[str, str]) -> dict[str, str]:
    """Only old user tasks as keys and new user tasks as values; an empty value means "no mapping"."""
    old_ids, new_ids = {t.id for t in user_tasks(source)}, {t.id for t in user_tasks(target)}
    errors: dict[str, list[str]] = {}
    clean = {}
    for old, new in mapping.items():
        new = (new or "").strip()
        if old not in old_ids:
            errors[f"map-{old}"] = [f"v{source.version_no} 中没有用户任务 {old}"]
        elif new and new not in new_ids:
            errors[f"map-{old}"] = [f"v{target.version_no} 中没有用户任务 {new}"]
        elif new:
            clean[old] = new
    if errors:
        raise ValidationFailed("环节映射有误", errors=errors)
    return clean


def _running_cases(session: Session, source: ProcessVersion) -> list[Case]:
    return list(session.execute(
        select(Case).join(WorkflowState, WorkflowState.case_id == Case.id)
        .where(WorkflowState.process_version_id == source.id, WorkflowState.completed.is_(False))
        .order_by(Case.business_no, Case.id)).scalars())


def plan(session: Session, actor: Actor, code: str, source_id: str, target_id: str,
         mapping: Mapping[str, str]) -> MigrationPlan:
    """The dry run: nothing is written."""
    source, target = _versions(session, actor, code, source_id, target_id)
    clean = _checked_mapping(source, target, mapping)
    cases = []
    for case in _running_cases(session, source):
        checked = WorkflowRuntime(session).check_migration(case.id, target, clean)
        cases.append(CasePlan(case.id, case.business_no, case.status, checked.moves, checked.refusals))
    return MigrationPlan(source, target, clean, cases)


def migrate(session: Session, actor: Actor, code: str, source_id: str, target_id: str,
            mapping: Mapping[str, str]) -> MigrationPlan:
    """Move every movable running case of ``source`` to ``target``, each in its own savepoint."""
    source, target = _versions(session, actor, code, source_id, target_id)
    clean = _checked_mapping(source, target, mapping)
    results = []
    for case in _running_cases(session, source):
        result = CasePlan(case.id, case.business_no, case.status)
        try:
            with session.begin_nested():
                result = _migrate_case(session, actor, case.id, source, target, clean)
        except MigrationRefused as exc:
            result.refusals, result.moves = exc.reasons, exc.moves
        except DomainError as exc:
            result.refusals = [exc.message]
        except Exception:  # one case's failure must neither move it half nor stop the others
            log.exception("migrating case %s from %s to %s failed", case.id, source.id, target.id)
            result.refusals = [FAILED]
        results.append(result)
    moved = [c for c in results if c.ok]
    audit.record(session, actor_id=actor.user_id, action="definition.migrate_cases", object_type="process_version",
                 object_id=target.id, before={"code": code, "version_no": source.version_no},
                 after={"code": code, "version_no": target.version_no, "mapping": clean, "moved": len(moved),
                        "refused": [c.case_id for c in results if not c.ok][:200]})
    return MigrationPlan(source, target, clean, results, executed=True)


def _migrate_case(session: Session, actor: Actor, case_id: str, source: ProcessVersion, target: ProcessVersion,
                  mapping: dict[str, str]) -> CasePlan:
    # The case lock first, as a step of the case takes it (app/cases/handling.py): no step runs meanwhile.
    case = session.execute(select(Case).where(Case.id == case_id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()
    if case.process_version_id != source.id:
        raise MigrationRefused([f"案件已不在 v{source.version_no} 上"])
    before: dict[str, Any] = {"process_version_id": source.id, "version_no": source.version_no,
                              "status": case.status}
    outcome, moves = WorkflowRuntime(session).migrate(case.id, target, mapping)
    before["tasks"] = [m.from_element for m in moves]
    case.process_version_id = target.id
    _repoint_tasks(session, case, outcome.ready)
    apply_outcome(session, case, outcome)
    steps = "；".join(f"{m.from_title} → {m.to_title}" for m in moves)
    progress.add_event(session, case, kind=EventKind.VERSION_MIGRATED, actor=actor,
                       message=f"办理流程已更新为 v{target.version_no}（{steps}）")
    audit.record(session, actor_id=actor.user_id, action="case.migrate_version", object_type="case",
                 object_id=case.id, tenant_id=case.tenant_id, before=before,
                 after={"process_version_id": target.id, "version_no": target.version_no, "status": case.status,
                        "tasks": [m.to_element for m in moves]})
    return CasePlan(case.id, case.business_no, case.status, moves)


def _repoint_tasks(session: Session, case: Case, ready: list[ReadyTask]) -> None:
    """Open inbox rows follow their task onto the new element (same spiff task id): name, stage, role and
    form change; the assignee and the due date stay — unless the role changed, then the task is claimable
    again by the new role instead of sitting with someone who may not act on it."""
    rows = {t.spiff_task_id: t for t in session.execute(
        select(Task).where(Task.case_id == case.id, Task.status == TaskStatus.OPEN)).scalars()}
    for r in ready:
        row = rows.get(r.spiff_task_id)
        if row is None:
            continue  # not open before: apply_outcome opens it
        if row.role != r.role:
            row.assignee_id, row.claimed_at = None, None
        row.task_name, row.title, row.role = r.task_name, r.title, r.role
        row.stage, row.form_key = r.properties.get("stage", ""), r.properties.get("formKey", "")
