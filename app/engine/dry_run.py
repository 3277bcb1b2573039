"""Dry run of a diagram that is not published yet: the designer's "试运行".

Runs the real SpiffWorkflow spec with the safe script engine, in memory, with nothing saved. Clerk
decisions are simulated per user task and every service task answers from the analyst's simulated
answers: the connector registry is never called, so a dry run can never write to the register book or
reach a department. The result is the path taken, so the designer can highlight it before publishing.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from app.engine.connectors import NSMAP, dry_run_sample
from app.engine.script_engine import SafeScriptEngine
from app.engine.specs import SpecPair, parse_bpmn

# (task id, form key, how many times this task ran before) → form data, or None when nothing is simulated
Decide = Callable[[str, str, int], dict[str, Any] | None]
MAX_USER_STEPS = 50


@dataclass
class DryRunStep:
    element: str
    name: str
    kind: str  # user | service | event | gateway | other
    data: dict[str, Any] = field(default_factory=dict)  # the simulated decision or connector answer


@dataclass
class DryRunResult:
    steps: list[DryRunStep]
    flows: list[str]  # sequence flow ids taken
    finished: bool
    end_event: str | None
    stopped: str | None  # why the run stopped before an end event (Chinese), None when it finished
    # The case would sit with no open task and nothing to wait for (a real case would be stranded).
    stranded: bool = False
    failed: bool = False  # the engine raised (a script or condition that cannot run)

    def as_dict(self) -> dict[str, Any]:
        visited = list(dict.fromkeys(s.element for s in self.steps))
        return {"steps": [s.__dict__ for s in self.steps], "visited": visited,
                "flows": self.flows, "finished": self.finished, "end_event": self.end_event, "stopped": self.stopped,
                "stranded": self.stranded, "failed": self.failed}


class _SimulatedServices(SafeScriptEngine):
    """Service calls answer from the analyst's sample answers, never from a real connector."""

    def __init__(self, answers: dict[str, Any]) -> None:
        super().__init__(context=None)
        self.answers = answers
        self.calls: dict[str, dict[str, Any]] = {}

    def call_service(self, task: Any, operation_name: str = "", operation_params: dict[str, Any] | None = None,
                     **kwargs: Any) -> str:
        answer = self.answers.get(operation_name, dry_run_sample(operation_name))
        self.calls[str(task.id)] = {"operator": operation_name, "answer": answer}
        return json.dumps(answer, ensure_ascii=False)


def dry_run(xml: bytes, process_id: str, data: dict[str, Any], decide: Decide,
            answers: dict[str, Any], timeouts: frozenset[str] = frozenset(),
            specs: SpecPair | None = None) -> DryRunResult:
    """Run until an end event, a user task without a simulated decision, a wait (timer/message) or an error.

    ``timeouts``: timer events (boundary timers, timers after an event-based gateway) the analyst wants to
    see expire — each fires (once) as soon as it is waiting, before any clerk decision or department message.
    ``specs``: the diagram already parsed (``parse_bpmn``), when one diagram is run many times."""
    engine = _SimulatedServices(answers)
    fired: set[str] = set()
    wf = BpmnWorkflow(*(specs or parse_bpmn(xml, process_id)), script_engine=engine)
    for task in wf.get_tasks(state=TaskState.READY):
        task.set_data(**data)
    decided: dict[str, dict[str, Any]] = {}
    visits: dict[str, int] = {}
    stopped: str | None = None
    failed = False
    try:
        wf.do_engine_steps()
        for _ in range(MAX_USER_STEPS):
            if _fire_timeouts(wf, timeouts, fired):
                continue
            ready = wf.get_tasks(state=TaskState.READY, manual=True)
            if not ready:
                undeliverable = _undeliverable_wait(wf)
                if undeliverable:
                    stopped = f"流程在等待消息“{undeliverable}”，但没有任何平台集成会发送它，试运行在此停止"
                    break
                if not _deliver_simulated_message(wf, answers):
                    break
            if not ready:
                continue
            task = ready[0]
            spec = task.task_spec
            form_key = dict(spec.extensions.get("properties", {})).get("formKey", "")
            answer = decide(spec.bpmn_id, form_key, visits.get(spec.bpmn_id, 0))
            if answer is None:
                stopped = f"用户任务“{spec.bpmn_name or spec.bpmn_id}”没有模拟办理数据，试运行在此停止"
                break
            visits[spec.bpmn_id] = visits.get(spec.bpmn_id, 0) + 1
            decided[str(task.id)] = answer
            task.set_data(**answer)
            task.run()
            wf.do_engine_steps()
        else:
            stopped = f"办理步骤超过 {MAX_USER_STEPS} 步（可能存在循环），试运行停止"
    except (WorkflowException, SpiffWorkflowException) as exc:
        stopped = f"流程执行出错：{_reason(exc)}"
        failed = True
    stranded = False
    if stopped is None and not wf.completed:
        if wf.waiting_events():
            stopped = "流程在等待计时器或外部消息，试运行在此停止（可在“模拟超时”中填写计时器事件编号）"
        else:
            stopped, stranded = "流程停在途中：没有待办任务，也没有等待的计时器或消息（真实案件会停滞）", True
    result = _result(wf, xml, decided, engine.calls, stopped)
    result.stranded, result.failed = stranded, failed
    for step in result.steps:
        if step.element in fired:
            step.data = {"模拟超时": True}
            fired.discard(step.element)  # the expiry marks the first pass only
    return result


def _fire_timeouts(wf: BpmnWorkflow, timeouts: frozenset[str], fired: set[str]) -> bool:
    """Expire the waiting timers the analyst named, each once per run (a loop back to the same wait then
    gets the department's answer); True when one fired.

    A timer after an event-based gateway is held by the gateway (Spiff moves the outgoing events'
    definitions onto it, in the order of its outputs); a boundary or intermediate timer waits itself."""
    from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
    from SpiffWorkflow.bpmn.util.event import BpmnEvent

    def is_timer(definition: Any) -> bool:  # cycles keep their own schedule
        return isinstance(definition, TimerEventDefinition) and "Cycle" not in type(definition).__name__

    changed = False
    for task in wf.get_tasks(state=TaskState.WAITING):
        spec, definition = task.task_spec, getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, MultipleEventDefinition) and len(definition.event_definitions) == len(spec.outputs):
            for output, inner in zip(spec.outputs, definition.event_definitions, strict=True):
                if output.bpmn_id in timeouts and output.bpmn_id not in fired and is_timer(inner):
                    task._set_internal_data(seen_events=[*task.internal_data.get("seen_events", []), BpmnEvent(inner)])
                    fired.add(output.bpmn_id)
                    changed = True
                    break  # one branch of the gateway
        elif spec.bpmn_id in timeouts and spec.bpmn_id not in fired and is_timer(definition):
            task._set_internal_data(event_value=task._get_internal_data("event_value") or "2000-01-01T00:00:00+00:00",
                                    event_fired=True)
            fired.add(spec.bpmn_id)
            changed = True
    if changed:
        wf.refresh_timers()
        wf.do_engine_steps()
    return changed


def _reason(exc: BaseException) -> str:
    """The Chinese reason our script engine attached; Spiff's own English text is never shown."""
    reason = getattr(exc, "reason", None)
    if reason and not str(reason).isascii():
        return str(reason)
    return "流程引擎无法继续执行（结构不被支持）"


def _undeliverable_wait(wf: BpmnWorkflow) -> str | None:
    """A message the workflow waits for that no integration sends: a dry run must not pretend it came."""
    from app.engine.message_catalogue import is_deliverable
    from app.engine.runtime import pending_message_names

    return next((n for n in pending_message_names(wf) if not is_deliverable(n)), None)


def _deliver_simulated_message(wf: BpmnWorkflow, answers: dict[str, Any]) -> bool:
    """A department's answer the process waits for (e.g. 完税 from 税务) arrives at once in a dry run, with
    the payload given under its message name in ``answers`` (empty otherwise). Timers are not fired."""
    from SpiffWorkflow.bpmn.util.event import BpmnEvent
    from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

    from app.engine.message_catalogue import MESSAGES
    from app.engine.runtime import pending_message_names

    names = pending_message_names(wf)
    if not names:
        return False
    payload = answers.get(names[0]) or dict.fromkeys(MESSAGES[names[0]].payload, "试运行")
    wf.send_event(BpmnEvent(MessageEventDefinition(names[0]), payload))
    wf.do_engine_steps()
    return True


def _result(wf: BpmnWorkflow, xml: bytes, decided: dict[str, dict[str, Any]], calls: dict[str, dict[str, Any]],
            stopped: str | None) -> DryRunResult:
    done = [t for t in wf.get_tasks(state=TaskState.COMPLETED | TaskState.ERROR) if t.task_spec.bpmn_id]
    done.sort(key=lambda t: t.last_state_change)
    steps, pairs, end_event = [], set(), None
    for task in done:
        spec = task.task_spec
        kind = _kind(spec)
        if kind == "end":
            end_event = spec.bpmn_id
        steps.append(DryRunStep(spec.bpmn_id, spec.bpmn_name or "", kind,
                                decided.get(str(task.id)) or calls.get(str(task.id)) or {}))
        parent = task.parent
        while parent is not None and not parent.task_spec.bpmn_id:
            parent = parent.parent
        if parent is not None:
            pairs.add((parent.task_spec.bpmn_id, spec.bpmn_id))
    return DryRunResult(steps, _flows(xml, pairs), wf.completed and stopped is None, end_event, stopped)


def _kind(spec: Any) -> str:
    name = type(spec).__name__
    if spec.manual:
        return "user"
    for key, kind in (("Service", "service"), ("EndEvent", "end"), ("Gateway", "gateway"), ("Event", "event")):
        if key in name:
            return kind
    return "other"


def _flows(xml: bytes, pairs: set[tuple[str, str]]) -> list[str]:
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    return [f.get("id", "") for f in root.iterfind(".//bpmn:sequenceFlow", NSMAP)
            if (f.get("sourceRef"), f.get("targetRef")) in pairs]
