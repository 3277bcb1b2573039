"""Service tasks reach code only through registered connectors, with safely evaluated parameters."""
from __future__ import annotations

from typing import Any
from xml.sax.saxutils import quoteattr

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from app.engine.bpmn_check import check_bpmn_expressions
from app.engine.connectors import (
    UnknownOperator,
    call_connector,
    connector,
    known_operators,
    service_operators_in,
)
from app.engine.script_engine import SafeScriptEngine, domain_error_of
from app.errors import Conflict, DomainError

CALLS: list[tuple[Any, dict[str, Any]]] = []


@connector("test.echo")
def echo(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    CALLS.append((context, params))
    return {"received": params, "entry_no": "2026-000123"}


@connector("test.conflict")
def sealed(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    raise Conflict("该不动产单元已被查封，不能登簿", code="unit_seized")


@connector("test.broken")
def broken(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    raise ConnectionError("tax bureau unreachable")


@connector("test.not_json")
def not_json(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    return {"when": object()}


def service_diagram(operator: str, params: dict[str, str], result_variable: str = "record_result") -> bytes:
    rows = "\n".join(f'        <spiffworkflow:parameter id="{k}" type="str" value={quoteattr(v)}/>'
                     for k, v in params.items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://example.org/bpmn">
<bpmn:process id="p" isExecutable="true">
  <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
  <bpmn:serviceTask id="record" name="登簿">
    <bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="{result_variable}">
        <spiffworkflow:parameters>
{rows}
        </spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator>
    </bpmn:extensionElements>
    <bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
  </bpmn:serviceTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="record"/>
  <bpmn:sequenceFlow id="f1" sourceRef="record" targetRef="end"/>
</bpmn:process>
</bpmn:definitions>
""".encode()


def run(xml: bytes, data: dict[str, Any], context: Any = None) -> BpmnWorkflow:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(xml)
    wf = BpmnWorkflow(parser.get_spec("p"), parser.get_subprocess_specs("p"),
                      script_engine=SafeScriptEngine(context=context))
    for task in wf.get_tasks(state=TaskState.READY):
        task.set_data(**data)
    wf.do_engine_steps()
    return wf


def failure_of(xml: bytes, data: dict[str, Any] | None = None) -> tuple[WorkflowTaskException, BpmnWorkflow]:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(xml)
    wf = BpmnWorkflow(parser.get_spec("p"), parser.get_subprocess_specs("p"), script_engine=SafeScriptEngine())
    with pytest.raises(WorkflowTaskException) as caught:
        for task in wf.get_tasks(state=TaskState.READY):
            task.set_data(**(data or {}))
        wf.do_engine_steps()
    return caught.value, wf


def test_a_service_task_calls_its_connector_with_evaluated_params_and_stores_the_result() -> None:
    CALLS.clear()
    case = object()
    xml = service_diagram("test.echo", {"unit_code": "unit_code", "fee": "area * 3", "kind": '"首次登记"'})
    assert check_bpmn_expressions(xml) == []
    wf = run(xml, {"unit_code": "110105001001GB00001F00010001", "area": 30}, context=case)
    assert wf.is_completed()
    assert CALLS == [(case, {"unit_code": "110105001001GB00001F00010001", "fee": 90, "kind": "首次登记"})]
    result = wf.get_tasks(spec_name="record")[0].data["record_result"]
    assert result == {"received": CALLS[0][1], "entry_no": "2026-000123"}


def test_an_unknown_operator_fails_clearly() -> None:
    error, _ = failure_of(service_diagram("registry.nope", {}))
    assert error.reason == "服务任务使用了未登记的操作 registry.nope"
    assert isinstance(domain_error_of(error), UnknownOperator)
    assert "registry.nope" not in known_operators()


def test_a_connector_domain_error_stays_reachable_for_rollback_and_display() -> None:
    error, wf = failure_of(service_diagram("test.conflict", {"unit_code": "unit_code"}), {"unit_code": "U1"})
    original = domain_error_of(error)
    assert isinstance(original, Conflict) and original.code == "unit_seized"
    assert error.domain_error is original and error.__cause__ is original
    assert error.reason == "该不动产单元已被查封，不能登簿"
    assert wf.get_tasks(spec_name="record")[0].state == TaskState.ERROR


def test_an_unexpected_connector_failure_names_the_operation() -> None:
    error, _ = failure_of(service_diagram("test.broken", {}))
    assert "服务任务 test.broken 调用失败" in error.reason and "ConnectionError" in error.reason
    assert domain_error_of(error) is None
    assert isinstance(error.__cause__, ConnectionError)


def test_a_result_that_is_not_plain_json_is_refused() -> None:
    error, _ = failure_of(service_diagram("test.not_json", {}))
    assert "test.not_json" in error.reason and "JSON" in error.reason


def test_it_refuses_a_parameter_that_imports_os() -> None:
    payload = "__import__('os').system('echo pwned')"
    xml = service_diagram("test.echo", {"unit_code": payload})
    [problem] = check_bpmn_expressions(xml)
    expected_line = next(i for i, line in enumerate(xml.decode().splitlines(), 1) if 'id="unit_code"' in line)
    assert (problem.element_id, problem.line) == ("record", expected_line)
    assert problem.reason == "表达式使用了不允许的函数 __import__"
    CALLS.clear()
    error, _ = failure_of(xml)
    assert "__import__" in error.reason and CALLS == []


def test_service_operators_in_lists_each_service_task_for_the_loader() -> None:
    xml = service_diagram("test.echo", {})
    line = next(i for i, text in enumerate(xml.decode().splitlines(), 1) if "serviceTaskOperator id=" in text)
    assert service_operators_in(xml) == [("record", "test.echo", line)]
    assert {"test.echo", "test.conflict"} <= known_operators()


def test_the_registry_refuses_clashes_and_bad_results() -> None:
    with pytest.raises(ValueError, match="already registered"):
        connector("test.echo")(lambda context, params: {})
    with pytest.raises(ValueError):
        connector("not an id")
    connector("test.echo")(echo)  # re-registering the same definition is harmless
    connector("test.list_result")(lambda context, params: [1])  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="expected dict"):
        call_connector("test.list_result", None, {})
    with pytest.raises(UnknownOperator) as caught:
        call_connector("test.missing", None, {})
    assert isinstance(caught.value, DomainError) and caught.value.code == "unknown_operator"
