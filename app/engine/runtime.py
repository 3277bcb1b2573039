"""The workflow runtime: the only module that loads, saves and runs a ``BpmnWorkflow`` (moving an instance
to another version is delegated to app/engine/migration.py, on a workflow loaded here).

Per request: load the case's state → run one user task → ``do_engine_steps`` → save. The state row has a
version column, so a second concurrent completion of the same task fails with ``Conflict`` instead of
running the step twice. Task data holds no personal data (only ids, public form fields and decisions):
the state is stored unencrypted (compressed JSON, app/engine/state_format.py) and must stay that way.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import column, inspect, select, table, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.db import affected_rows, utcnow
from app.engine import migration
from app.engine.models import WorkflowState
from app.engine.script_engine import SafeScriptEngine
from app.engine.specs import SpecPair, cached_spec, is_cached, lookup
from app.engine.state_format import dump_state, load_state
from app.errors import Conflict, DomainError


class CompiledVersion(Protocol):
    """A process version as the engine needs it (the catalog's ProcessVersion row is one): the engine runs
    definitions, it does not know how the catalog stores them."""

    @property
    def id(self) -> str: ...

    @property
    def spec_json(self) -> str: ...


# The compiled spec of a version a saved workflow names, read by id without importing the catalog's model.
_VERSION_SPECS = table("process_version", column("id"), column("spec_json"))


@dataclass(frozen=True)
class ReadyTask:
    spiff_task_id: str
    task_name: str
    title: str
    role: str
    properties: dict[str, str]


@dataclass
class StepOutcome:
    ready: list[ReadyTask] = field(default_factory=list)
    finished: bool = False
    end_event: str | None = None
    # The user tasks READY before the step ran (``complete`` only): what the inbox held open for the case.
    was_ready: frozenset[str] | None = None


class WorkflowRuntime:
    """``before_save``: called once the engine has run, before the new state is serialized and flushed; it may
    raise to drop the step (a unit of work's pass that will be re-run: app/integrations/answers.py)."""

    def __init__(self, session: Session, context: Any = None, *,
                 before_save: Callable[[], None] | None = None) -> None:
        self.session = session
        self.context = context
        self.before_save = before_save

    def _engine(self) -> SafeScriptEngine:
        engine = SafeScriptEngine()
        engine.context = self.context
        return engine

    def start(self, case_id: str, version: CompiledVersion | str, data: dict[str, Any]) -> StepOutcome:
        """``version``: the version, or its id (its spec is then read only when this process has not parsed
        it yet: a submission need not load the version row, issue 18)."""
        if isinstance(version, str):
            version_id = version
            spec, subprocess_specs = self._spec(version_id)
        else:
            version_id = version.id
            spec, subprocess_specs = cached_spec(version.id, version.spec_json)
        wf = BpmnWorkflow(spec, subprocess_specs, script_engine=self._engine())
        wf.spec_ref = version_id
        for task in wf.get_tasks(state=TaskState.READY):
            task.set_data(**data)
        self._run_engine(wf)
        state = WorkflowState(case_id=case_id, process_version_id=version_id, state=b"")
        self.session.add(state)
        return self._save(wf, state)

    def complete(self, case_id: str, spiff_task_id: str, data: dict[str, Any]) -> StepOutcome:
        wf, state = self._load(case_id)
        task = wf.get_task_from_id(UUID(spiff_task_id)) if spiff_task_id else None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise Conflict("该任务已办理或不可办理", code="task_not_ready")
        was_ready = frozenset(str(t.id) for t in wf.get_tasks(state=TaskState.READY, manual=True))
        task.set_data(**data)
        task.run()
        self._run_engine(wf)
        outcome = self._save(wf, state)
        outcome.was_ready = was_ready
        return outcome

    def deliver_message(self, case_id: str, name: str, payload: dict[str, Any]) -> StepOutcome | None:
        """Hand an inbound message (e.g. 完税 from 税务) to the case's workflow; None when nothing waits for it.
        The caller correlated the message to this case (by business number) before calling."""
        wf, state = self._load(case_id)
        waiting = {e.name for e in _pending_events(wf)}
        if name not in waiting:
            return None
        wf.send_event(BpmnEvent(MessageEventDefinition(name), payload))
        self._run_engine(wf)
        return self._save(wf, state)

    def refresh_timers(self, case_id: str) -> StepOutcome | None:
        """Fire the timers that are due (escalations) and run the engine; None (nothing saved) when no
        timer was due."""
        wf, state = self._load(case_id)
        before = {str(t.id) for t in wf.get_tasks(state=TaskState.READY, manual=True)}
        wf.refresh_timers()
        self._run_engine(wf)
        if {str(t.id) for t in wf.get_tasks(state=TaskState.READY, manual=True)} == before and not wf.completed:
            return None
        return self._save(wf, state)

    def check_migration(self, case_id: str, version: CompiledVersion,
                        mapping: Mapping[str, str]) -> migration.MigrationCheck:
        """Dry run: where the case's waiting tasks would go on ``version``, or why it cannot move."""
        wf, _ = self._load(case_id)
        return migration.check(wf, cached_spec(version.id, version.spec_json), mapping)

    def migrate(self, case_id: str, version: CompiledVersion,
                mapping: Mapping[str, str]) -> tuple[StepOutcome, list[migration.TaskMove]]:
        """Move the case's instance onto ``version`` (app/engine/migration.py); nothing runs, the waiting
        tasks keep their ids. Raises ``MigrationRefused`` and saves nothing when it cannot move."""
        wf, state = self._load(case_id)
        moved = migration.migrate(wf, cached_spec(version.id, version.spec_json), mapping)
        wf.spec_ref = version.id
        state.process_version_id = version.id
        return self._save(wf, state), moved.moves

    def ready_tasks(self, case_id: str) -> list[ReadyTask]:
        wf, _ = self._load(case_id)
        return _ready(wf)

    def _run_engine(self, wf: BpmnWorkflow) -> None:
        try:
            wf.do_engine_steps()
        except WorkflowException as exc:
            cause = _domain_cause(exc)
            if cause is not None:
                raise cause from exc
            raise DomainError(f"流程执行出错：{exc}", code="workflow_error") from exc

    def _load(self, case_id: str) -> tuple[BpmnWorkflow, WorkflowState]:
        state = self.session.get(WorkflowState, case_id)
        if state is None:
            raise Conflict("该申请尚未进入办理流程", code="workflow_not_started")
        self._spec(state.process_version_id)
        wf = load_state(state.state)
        wf.script_engine = self._engine()
        return wf, state

    def _spec(self, version_id: str) -> SpecPair:
        """The version's parsed spec, put in the process's cache (read from the database the first time)."""
        if not is_cached(version_id):
            spec_json = self.session.execute(select(_VERSION_SPECS.c.spec_json)
                                             .where(_VERSION_SPECS.c.id == version_id)).scalar_one()
            return cached_spec(version_id, spec_json)
        return lookup(version_id)

    def _save(self, wf: BpmnWorkflow, state: WorkflowState) -> StepOutcome:
        if self.before_save is not None:
            self.before_save()
        values = {"state": dump_state(wf), "completed": wf.completed}
        if inspect(state).persistent:
            self._update(state, values)
        else:  # a new instance: inserted with the step's other rows at the flush
            state.state, state.completed = values["state"], values["completed"]
        outcome = StepOutcome(ready=_ready(wf), finished=wf.completed)
        if wf.completed:
            outcome.end_event = _end_event(wf)
        return outcome


    def _update(self, state: WorkflowState, values: dict[str, Any]) -> None:
        """Write the instance now, only if it still is the version this step loaded (the optimistic lock: the
        same task can never be completed twice), and alone: the step's other writes stay pending until its
        last flush, where the rows of each table go out in one INSERT (issue 18: flushing everything here
        split 登簿's outbox messages and register rows over two flushes)."""
        values.update(version=state.version + 1, updated_at=utcnow(), process_version_id=state.process_version_id)
        with self.session.no_autoflush:
            moved = self.session.execute(
                update(WorkflowState).where(WorkflowState.case_id == state.case_id,
                                            WorkflowState.version == state.version)
                .values(**values).execution_options(synchronize_session=False))
        if not affected_rows(moved):
            raise Conflict("该案件已被他人同时办理，请刷新后重试", code="concurrent_update")
        for name, value in values.items():
            set_committed_value(state, name, value)


def _ready(wf: BpmnWorkflow) -> list[ReadyTask]:
    ready = []
    for task in wf.get_tasks(state=TaskState.READY, manual=True):
        spec = task.task_spec
        ready.append(ReadyTask(
            spiff_task_id=str(task.id), task_name=spec.bpmn_id or spec.name, title=spec.bpmn_name or spec.name,
            role=spec.lane or "", properties=dict(spec.extensions.get("properties", {})),
        ))
    return ready


def pending_message_names(wf: BpmnWorkflow) -> list[str]:
    """Names of the messages the workflow waits for (timers excluded)."""
    from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition

    return [e.name for e in _pending_events(wf) if isinstance(e, MessageEventDefinition)]


def _pending_events(wf: BpmnWorkflow) -> list[Any]:
    """Message names the workflow waits for, also inside an event-based gateway (a MultipleEventDefinition)."""
    found = []
    for task in wf.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        for each in getattr(definition, "event_definitions", None) or [definition]:
            if each is not None and getattr(each, "name", None):
                found.append(each)
    return found


def _end_event(wf: BpmnWorkflow) -> str | None:
    reached = [t for t in wf.get_tasks(state=TaskState.COMPLETED) if isinstance(t.task_spec, EndEvent)
               and t.task_spec.bpmn_id and t.workflow is wf]  # a sub-process's end is not the case's outcome
    return reached[-1].task_spec.bpmn_id if reached else None


def _domain_cause(exc: BaseException) -> DomainError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DomainError):
            return current
        seen.add(id(current))
        inner = getattr(current, "exception", None) or getattr(current, "error", None)
        current = inner if isinstance(inner, BaseException) else (current.__cause__ or current.__context__)
    return None
