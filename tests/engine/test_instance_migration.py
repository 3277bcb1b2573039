"""Moving one workflow instance to another version (app/engine/migration.py), in memory: a waiting user
task moves (also onto a renamed element) and keeps its id; a wait that no clerk could act on — a timer, a
message, a boundary timer beside the task — or a waiting task without a mapping is refused with the element
named, and the instance is left exactly as it was."""
from __future__ import annotations

import json

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from test_safe_expressions import diagram, start, timer_diagram

from app.engine import migration
from app.engine.specs import SpecPair, cached_spec, parse_bpmn, serializer, spec_to_json
from app.engine.state_format import dump_state, load_state

TASK_B = """<bpmn:userTask id="b" name="复核"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
</bpmn:userTask>
<bpmn:sequenceFlow id="f2" sourceRef="b" targetRef="end"/>"""


def linear(wait: str = "", extra_step: bool = False, review_id: str = "a") -> bytes:
    """start → [wait] → a (审核) → [b (复核)] → end."""
    first = "f0"
    body = '<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>'
    if wait:
        body += f"""<bpmn:intermediateCatchEvent id="wait" name="等待">
  <bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>fw</bpmn:outgoing>{wait}</bpmn:intermediateCatchEvent>
<bpmn:sequenceFlow id="fw" sourceRef="wait" targetRef="{review_id}"/>"""
        first = "fw"
    end_flow = "f2" if extra_step else "f1"
    body += f"""<bpmn:userTask id="{review_id}" name="审核"><bpmn:incoming>{first}</bpmn:incoming>
<bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>{end_flow}</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="{'wait' if wait else review_id}"/>
<bpmn:sequenceFlow id="f1" sourceRef="{review_id}" targetRef="{'b' if extra_step else 'end'}"/>"""
    return diagram(body + (TASK_B if extra_step else ""))


TIMER = '<bpmn:timerEventDefinition id="t"><bpmn:timeDuration>"P3D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
MESSAGE = '<bpmn:messageEventDefinition id="m" messageRef="tax_paid"/>'


def spec(xml: bytes) -> SpecPair:
    return parse_bpmn(xml, "p")


def ready(wf: BpmnWorkflow) -> list[tuple[str, str]]:
    return [(t.task_spec.bpmn_id, str(t.id)) for t in wf.get_tasks(state=TaskState.READY, manual=True)]


def snapshot(wf: BpmnWorkflow) -> str:
    wf.spec_ref = "old"  # type: ignore[attr-defined]
    return json.dumps(serializer().to_dict(wf), sort_keys=True, default=str)


def test_a_waiting_task_moves_onto_the_new_route_and_keeps_its_id() -> None:
    wf = start(linear())
    [(_, task_id)] = ready(wf)
    moved = migration.migrate(wf, spec(linear(extra_step=True)), {"a": "a"})
    assert [(m.from_element, m.to_element, m.spiff_task_id) for m in moved.moves] == [("a", "a", task_id)]
    assert ready(wf) == [("a", task_id)]
    wf.get_task_from_id(wf.get_tasks(state=TaskState.READY, manual=True)[0].id).run()
    wf.do_engine_steps()
    assert [name for name, _ in ready(wf)] == ["b"]  # the step only the new version has


def test_a_waiting_task_moves_onto_a_renamed_element() -> None:
    wf = start(linear())
    [(_, task_id)] = ready(wf)
    new = spec(linear(extra_step=True, review_id="review"))
    refused = migration.check(wf, new, {})
    assert refused.refusals == ["等待中的环节「审核」（a）没有指定新版本中的对应环节"]
    migration.migrate(wf, new, {"a": "review"})
    assert ready(wf) == [("review", task_id)]


@pytest.mark.parametrize(("mapping", "words"), [({"a": "nowhere"}, "新版本中没有用户任务 nowhere"),
                                                ({"a": "end"}, "新版本中没有用户任务 end")])
def test_a_mapping_onto_something_that_is_not_a_user_task_is_refused(mapping: dict[str, str], words: str) -> None:
    wf = start(linear())
    before = snapshot(wf)
    with pytest.raises(migration.MigrationRefused) as refused:
        migration.migrate(wf, spec(linear(extra_step=True)), mapping)
    assert words in refused.value.message
    assert snapshot(wf) == before


@pytest.mark.parametrize(("wait", "kind"), [(TIMER, "计时器"), (MESSAGE, "消息")])
def test_a_case_waiting_on_a_timer_or_a_message_is_refused_and_untouched(wait: str, kind: str) -> None:
    message = '<bpmn:message id="tax_paid" name="完税"/><bpmn:process'.encode()
    old = linear(wait).replace(b"<bpmn:process", message, 1)
    wf = start(old)
    assert ready(wf) == []
    before = snapshot(wf)
    with pytest.raises(migration.MigrationRefused) as refused:
        migration.migrate(wf, spec(old.replace(b'id="f1"', b'id="f1" name="new"')), {"a": "a"})
    assert refused.value.reasons == [f"案件正在「等待」（wait）等待{kind}，该状态不能迁移"]
    assert snapshot(wf) == before


def test_a_task_with_a_running_boundary_timer_is_refused() -> None:
    wf = start(timer_diagram('"P3D"'))
    assert [name for name, _ in ready(wf)] == ["review"]
    checked = migration.check(wf, spec(timer_diagram('"P5D"')), {"review": "review"})
    assert not checked.ok and "deadline" in checked.refusals[0] and "计时器" in checked.refusals[0]


def test_a_finished_instance_is_refused() -> None:
    wf = start(linear())
    wf.get_tasks(state=TaskState.READY, manual=True)[0].run()
    wf.do_engine_steps()
    assert wf.completed
    assert migration.check(wf, spec(linear(extra_step=True)), {"a": "a"}).refusals == ["流程已办结"]


def two_steps() -> bytes:
    """start → x (初审) → a (审核) → end."""
    return diagram("""<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="x" name="初审"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>fx</bpmn:outgoing></bpmn:userTask>
<bpmn:userTask id="a" name="审核"><bpmn:incoming>fx</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="x"/>
<bpmn:sequenceFlow id="fx" sourceRef="x" targetRef="a"/>
<bpmn:sequenceFlow id="f1" sourceRef="a" targetRef="end"/>""")


def test_a_completed_step_the_new_version_dropped_needs_a_mapping() -> None:
    wf = start(two_steps())
    wf.get_tasks(state=TaskState.READY, manual=True)[0].run()
    wf.do_engine_steps()
    [(_, task_id)] = ready(wf)
    new = spec(linear())  # start → a → end: 初审 is gone
    assert migration.check(wf, new, {"a": "a"}).refusals == [
        "已办环节「初审」（x）在新版本中不存在，请在映射中指定其对应环节"]
    migration.migrate(wf, new, {"a": "a", "x": "a"})
    assert ready(wf) == [("a", task_id)]
    wf.spec_ref = "test-dropped-step"  # type: ignore[attr-defined]
    cached_spec("test-dropped-step", spec_to_json(new))
    loaded = load_state(dump_state(wf))  # the saved state loads on v2
    assert ready(loaded) == [("a", task_id)]
