"""Moving one running workflow instance onto another version of its process, like Camunda's process instance
migration: the analyst maps each waiting user task of the old version to a user task of the new one.

Why SpiffWorkflow's own helpers (``SpiffWorkflow.bpmn.util.diff``): ``SpecDiff`` aligns the two specs by
element id (and by structure where an id changed), and ``migrate_workflow`` re-points every task of the tree
to its new spec and re-predicts the branch below each waiting task — no tree surgery of ours. The analyst's
mapping overrides the alignment for the tasks the case waits at; the history (completed tasks) keeps the
alignment, or the mapping where an id is gone. The waiting task keeps its id, so the inbox row stays the
same task.

Only a case that waits at user tasks can move. A wait on a timer, a message, a join, a step still running,
a sub-process, or a waiting task without a mapping is refused with a Chinese reason naming the element,
and the instance is left untouched (``check`` never changes it; ``migrate`` checks first).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.diff import SpecDiff, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from app.engine.specs import SpecPair, serializer
from app.errors import Conflict


@dataclass(frozen=True)
class TaskMove:
    """A waiting user task and where it goes (``to_element`` None: no mapping, the case is refused)."""

    spiff_task_id: str
    from_element: str
    from_title: str
    to_element: str | None = None
    to_title: str | None = None


@dataclass
class MigrationCheck:
    moves: list[TaskMove] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refusals


class MigrationRefused(Conflict):
    """The instance cannot move to the new version; ``reasons`` says why, one Chinese sentence each."""

    code = "migration_refused"

    def __init__(self, reasons: list[str], moves: list[TaskMove] | None = None) -> None:
        super().__init__("该案件不能迁移：" + "；".join(reasons), errors={"migration": reasons})
        self.reasons = reasons
        self.moves = moves or []


@dataclass
class _Alignment:
    """All ``migrate_workflow`` reads of its ``WorkflowDiff``: task → new task spec — SpiffWorkflow's own
    alignment with the analyst's mapping for the waiting tasks (see ``_plan``)."""

    alignment: dict[Task, Any]


def _title(spec: Any) -> str:
    return str(getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name)


def _label(spec: Any) -> str:
    bpmn_id = getattr(spec, "bpmn_id", None) or spec.name
    return f"「{_title(spec)}」（{bpmn_id}）"


def _wait_kind(task: Task) -> str:
    definition = getattr(task.task_spec, "event_definition", None)
    kinds = [type(d) for d in getattr(definition, "event_definitions", None) or [definition]]
    if any(issubclass(k, TimerEventDefinition) for k in kinds):
        return "计时器"
    if any(issubclass(k, MessageEventDefinition) for k in kinds):
        return "消息"
    return "汇聚或事件"


def _plan(wf: BpmnWorkflow, new: SpecPair, mapping: Mapping[str, str]) -> tuple[MigrationCheck, dict[Task, Any]]:
    """What would happen, and the task → new spec alignment ``migrate`` applies."""
    check = MigrationCheck()
    new_spec = new[0]
    if wf.completed:
        check.refusals.append("流程已办结")
        return check, {}
    if wf.subprocesses:
        check.refusals.append("案件正处于子流程中，暂不支持迁移")
    diff = SpecDiff(serializer().registry, wf.spec, new_spec)
    alignment: dict[Task, Any] = {}
    waiting = wf.get_tasks(state=TaskState.READY, manual=True, skip_subprocesses=True)
    for task in wf.get_tasks(skip_subprocesses=True):
        spec, bpmn_id = task.task_spec, task.task_spec.bpmn_id or task.task_spec.name
        if task.has_state(TaskState.PREDICTED_MASK | TaskState.FUTURE):
            alignment[task] = diff.alignment.get(spec)
            # Below a waiting task it is re-predicted from the new spec; elsewhere it must have a counterpart.
            if alignment[task] is None and not any(task.is_descendant_of(w) for w in waiting):
                check.refusals.append(f"环节{_label(spec)}在新版本中不存在")
        elif task.has_state(TaskState.WAITING):
            check.refusals.append(f"案件正在{_label(spec)}等待{_wait_kind(task)}，该状态不能迁移")
        elif task.has_state(TaskState.READY) and spec.manual:
            target_id = (mapping.get(bpmn_id) or "").strip()
            target = new_spec.task_specs.get(target_id) if target_id else None
            check.moves.append(TaskMove(str(task.id), bpmn_id, _title(spec), target_id or None,
                                        _title(target) if target is not None else None))
            if not target_id:
                check.refusals.append(f"等待中的环节{_label(spec)}没有指定新版本中的对应环节")
            elif target is None or not getattr(target, "manual", False):
                check.refusals.append(f"新版本中没有用户任务 {target_id}（{_label(spec)}的映射）")
            else:
                alignment[task] = target
        elif task.has_state(TaskState.READY | TaskState.STARTED | TaskState.ERROR):
            check.refusals.append(f"环节{_label(spec)}正在执行或执行出错，不能迁移")
        else:  # history: completed or cancelled
            target = diff.alignment.get(spec) or new_spec.task_specs.get((mapping.get(bpmn_id) or "").strip())
            if target is None:
                check.refusals.append(f"已办环节{_label(spec)}在新版本中不存在，请在映射中指定其对应环节")
            alignment[task] = target
    check.refusals = list(dict.fromkeys(check.refusals))  # a loop repeats the same element in the history
    return check, alignment


def check(wf: BpmnWorkflow, new: SpecPair, mapping: Mapping[str, str]) -> MigrationCheck:
    """The dry run for one instance: its waiting tasks and where they would go, or why it cannot move."""
    return _plan(wf, new, mapping)[0]


def migrate(wf: BpmnWorkflow, new: SpecPair, mapping: Mapping[str, str]) -> MigrationCheck:
    """Re-point ``wf`` onto the new spec in memory (the caller saves it). Raises ``MigrationRefused`` when
    the check refuses (``wf`` untouched) or, defensively, when a task was left on the old spec (``wf`` then
    half-moved: the caller must discard it, which the runtime does by not saving)."""
    result, alignment = _plan(wf, new, mapping)
    if not result.ok:
        raise MigrationRefused(result.refusals, result.moves)
    migrate_workflow(_Alignment(alignment), wf, new[0])
    wf.subprocess_specs = new[1]
    stale = sorted({t.task_spec.name for t in wf.get_tasks(skip_subprocesses=True)
                    if new[0].task_specs.get(t.task_spec.name) is not t.task_spec})
    if stale:  # defensive: nothing of the old spec may survive, or the saved state would not load
        raise MigrationRefused([f"环节 {'、'.join(stale)} 无法对应到新版本"], result.moves)
    return result
