"""The safe expression/script engine: diagrams route, compute and time correctly, and never run Python."""
from __future__ import annotations

import re
import sys
import types
from datetime import UTC, date, datetime, timedelta
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from app.engine.bpmn_check import check_bpmn_expressions
from app.engine.expressions import (
    ExpressionError,
    ExpressionRejected,
    check_expression,
    check_script,
    evaluate_expression,
    register_function,
    run_script,
)
from app.engine.script_engine import SafeScriptEngine

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://example.org/bpmn">
<bpmn:process id="p" isExecutable="true">
"""
TAIL = "</bpmn:process>\n</bpmn:definitions>\n"


def diagram(body: str) -> bytes:
    return (HEAD + body + TAIL).encode("utf-8")


def gateway_diagram(approve_condition: str = 'decision == "approve"') -> bytes:
    """start → review (user task) → exclusive gateway → end_ok | end_no."""
    return diagram(f"""<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="review" name="审核">
  <bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
</bpmn:userTask>
<bpmn:exclusiveGateway id="gw">
  <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing>
</bpmn:exclusiveGateway>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="review"/>
<bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="gw"/>
<bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="end_ok">
  <bpmn:conditionExpression>{escape(approve_condition)}</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="end_no">
  <bpmn:conditionExpression>decision == "reject"</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:endEvent id="end_ok"><bpmn:incoming>f_yes</bpmn:incoming></bpmn:endEvent>
<bpmn:endEvent id="end_no"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>
""")


def script_diagram(script: str) -> bytes:
    """start → calc (script task) → end."""
    return diagram(f"""<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:scriptTask id="calc" name="计算"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
<bpmn:script>{escape(script)}</bpmn:script>
</bpmn:scriptTask>
<bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="calc"/>
<bpmn:sequenceFlow id="f1" sourceRef="calc" targetRef="end"/>
""")


def start(xml: bytes, data: dict | None = None, engine: SafeScriptEngine | None = None) -> BpmnWorkflow:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(xml)
    wf = BpmnWorkflow(parser.get_spec("p"), parser.get_subprocess_specs("p"),
                      script_engine=engine or SafeScriptEngine())
    for task in wf.get_tasks(state=TaskState.READY):
        task.set_data(**(data or {}))
    wf.do_engine_steps()
    return wf


def complete_review(wf: BpmnWorkflow, **form: object) -> None:
    task = wf.get_tasks(state=TaskState.READY, manual=True, spec_name="review")[0]
    task.set_data(**form)
    task.run()
    wf.do_engine_steps()


def line_of(xml: bytes, needle: str) -> int:
    return next(i for i, line in enumerate(xml.decode().splitlines(), 1) if needle in line)


def reached(wf: BpmnWorkflow) -> set[str]:
    return {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id}


UNSAFE = {  # id → (payload, words the refusal must contain)
    "imports_os": ("__import__('os').system('echo pwned')", "不允许的函数 __import__"),
    "walks_dunder_attributes": ("().__class__.__bases__", "不允许访问属性"),
    "opens_a_file": ("open('/etc/passwd')", "不允许的函数 open"),
    "calls_exec": ('exec("1")', "不允许的函数 exec"),
    "uses_a_lambda": ("(lambda: 1)()", "lambda"),
    "uses_a_comprehension": ("[c for c in decision]", "推导式"),
}


# ------------------------------------------------------------------------------------- real workflow runs
@pytest.mark.parametrize(("decision", "end"), [("approve", "end_ok"), ("reject", "end_no")])
def test_it_routes_an_exclusive_gateway_on_the_decision(decision: str, end: str) -> None:
    xml = gateway_diagram()
    assert check_bpmn_expressions(xml) == []
    wf = start(xml)
    complete_review(wf, decision=decision)
    assert wf.is_completed()
    assert end in reached(wf) and ({"end_ok", "end_no"} - {end}).isdisjoint(reached(wf))


def test_it_runs_a_script_task_that_doubles_the_price() -> None:
    wf = start(script_diagram("total = price * 2"), {"price": 150})
    assert wf.is_completed()
    assert wf.get_tasks(spec_name="calc")[0].data["total"] == 300


def test_it_runs_pre_and_post_scripts() -> None:
    xml = diagram("""<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="review"><bpmn:extensionElements>
  <spiffworkflow:preScript>greeting = "您好，" + name</spiffworkflow:preScript>
  <spiffworkflow:postScript>reviewed = decision in ["approve", "reject"]</spiffworkflow:postScript>
</bpmn:extensionElements><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="review"/>
<bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="end"/>
""")
    assert check_bpmn_expressions(xml) == []
    wf = start(xml, {"name": "张三"})
    assert wf.get_tasks(spec_name="review")[0].data["greeting"] == "您好，张三"
    complete_review(wf, decision="approve")
    assert wf.get_tasks(spec_name="end")[0].data["reviewed"] is True


def test_a_registered_function_can_use_the_engine_context() -> None:
    @register_function("test_tenant_of_run", needs_context=True)
    def tenant_of_run(context: dict) -> str:
        return context["tenant"]

    wf = start(script_diagram("office = test_tenant_of_run()"), engine=SafeScriptEngine(context={"tenant": "朝阳"}))
    assert wf.get_tasks(spec_name="calc")[0].data["office"] == "朝阳"


# ------------------------------------------------------------------------------------------ refusals
def test_it_refuses_a_condition_that_imports_os(tmp_path) -> None:
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    xml = gateway_diagram(payload)
    [problem] = check_bpmn_expressions(xml, "danger.bpmn")
    assert (problem.file, problem.element_id, problem.line) == ("danger.bpmn", "f_yes", line_of(xml, payload))
    assert problem.reason == "表达式使用了不允许的函数 __import__"
    wf = start(xml)
    with pytest.raises(WorkflowTaskException, match="__import__"):
        complete_review(wf, decision="approve")
    assert not marker.exists()


def test_it_refuses_a_script_that_imports_os(tmp_path) -> None:
    marker = tmp_path / "pwned"
    script = f"price = 1\nresult = __import__('os').system('touch {marker}')"
    xml = script_diagram(script)
    [problem] = check_bpmn_expressions(xml)
    assert (problem.element_id, problem.line) == ("calc", line_of(xml, "result = __import__"))
    with pytest.raises(WorkflowTaskException) as caught:
        start(xml)
    assert caught.value.line_number == 2 and "__import__" in caught.value.reason
    assert not marker.exists()


@pytest.mark.parametrize("case", UNSAFE, ids=list(UNSAFE))
def test_it_refuses_an_unsafe_condition_when_checking_the_diagram(case: str) -> None:
    payload, words = UNSAFE[case]
    xml = gateway_diagram(payload)
    [problem] = check_bpmn_expressions(xml)
    assert (problem.element_id, problem.line, problem.expression) == ("f_yes", line_of(xml, escape(payload)), payload)
    assert words in problem.reason


@pytest.mark.parametrize("case", UNSAFE, ids=list(UNSAFE))
def test_it_refuses_an_unsafe_condition_at_runtime(case: str) -> None:
    payload, words = UNSAFE[case]
    wf = start(gateway_diagram(payload))
    with pytest.raises(WorkflowTaskException) as caught:
        complete_review(wf, decision="approve")
    assert words in caught.value.reason
    assert "end_ok" not in reached(wf) and "end_no" not in reached(wf)


@pytest.mark.parametrize("case", UNSAFE, ids=list(UNSAFE))
def test_it_refuses_an_unsafe_script_both_when_checking_and_at_runtime(case: str) -> None:
    payload, words = UNSAFE[case]
    xml = script_diagram(f"result = {payload}")
    [problem] = check_bpmn_expressions(xml)
    assert (problem.element_id, problem.line) == ("calc", line_of(xml, escape(payload)))
    assert words in problem.reason
    with pytest.raises(WorkflowTaskException) as caught:
        start(xml, {"decision": "approve"})
    assert words in caught.value.reason
    assert wf_task_state(caught.value) == TaskState.ERROR


def wf_task_state(exc: WorkflowTaskException) -> int:
    return exc.task.state


def test_it_refuses_unsafe_statements_that_are_not_expressions() -> None:
    assert check_script("import os") == "脚本不允许导入模块"
    assert "赋值语句" in (check_script("for i in items:\n    total = i") or "")
    assert "属性" in (check_script("case.status = 'x'") or "")
    assert "一个变量名" in (check_script("a, b = 1, 2") or "")
    assert check_script("exec('1')") == "表达式使用了不允许的函数 exec"
    assert check_script("a = 1\n# 注释\nb = a + 1\nb += 2") is None


@pytest.mark.parametrize(("text", "words"), [
    ("a.b", "不允许访问属性 .b"), ("__builtins__", "双下划线"), ("1 << 99", "运算符 <<"),
    ("f'{x:>999999999}'", "格式说明"), ("{**x}", "** 展开"), ("max(*x)", "* 展开"), ("(y := 1)", ":="),
    ("b'raw'", "bytes"), ("decision ==", "语法错误"), ("", "表达式为空"), ("x" * 20_001, "过长"),
])
def test_check_expression_explains_what_is_not_allowed(text: str, words: str) -> None:
    assert words in (check_expression(text) or "")


def test_check_expression_accepts_the_small_language() -> None:
    for text in ['decision == "approve"', "a in ['x', 'y'] and not b", "d['k'][0] if n > 2 else -1.5",
                 "round(abs(x) / 3, 2) >= min(1, 2)", "len(str(n)) + int('7') * 2 ** 3 % 5 // 1",
                 "{'a': [1, (2, 3)], 'b': {4}}", "f'{a}-{b}'", "x is None or items[1:3] != []"]:
        assert check_expression(text) is None, text


def test_runtime_bounds_stop_resource_exhaustion() -> None:
    for text, words in [('"a" * 10**9', "过长"), ("10 ** 10 ** 6", "数值超出"), ('"%99999999d" % 1', "% 格式化"),
                        ('int("9" * 60)', "数值超出")]:
        with pytest.raises(ExpressionRejected, match=words):
            evaluate_expression(text, {})


def test_round_refuses_huge_ndigits_that_would_hang() -> None:
    assert evaluate_expression("round(2.675, 2)", {}) == 2.67
    with pytest.raises(ExpressionError, match="小数位数"):
        evaluate_expression("round(5, -10**39)", {})


def test_nested_displays_cannot_double_their_way_to_an_exponential_value() -> None:
    doubling = "\n".join(f"x{i + 1} = [x{i}, x{i}]" for i in range(40))
    with pytest.raises(ExpressionRejected, match="过长"):
        run_script("x0 = [1] * 1000\n" + doubling + "\nsize = len(str(x40))", {})


def test_evaluation_errors_are_explained_in_chinese() -> None:
    with pytest.raises(ExpressionError, match="未定义的变量 prise（是否应为 price？）"):
        evaluate_expression("prise * 2", {"price": 1})
    with pytest.raises(ExpressionError, match="除数为零"):
        evaluate_expression("1 / n", {"n": 0})


def test_a_failing_script_leaves_task_data_untouched() -> None:
    data = {"price": 10}
    with pytest.raises(ExpressionError):
        run_script("total = price * 2\nfee = missing + 1", data)
    assert data == {"price": 10}


def test_the_environment_used_directly_by_spiff_is_safe_too() -> None:
    engine = SafeScriptEngine()
    with pytest.raises(ExpressionRejected, match="open"):
        engine.environment.evaluate("open('/etc/passwd')", {})
    assert engine.environment.evaluate("a + 1", {"a": 1}) == 2


def test_validate_raises_syntax_error_for_dmn_and_refuses_unsafe_text() -> None:
    engine = SafeScriptEngine()
    engine.validate("amount > 5")
    with pytest.raises(SyntaxError):
        engine.validate("> 5")
    with pytest.raises(ExpressionRejected):
        engine.validate("open('x')")


# --------------------------------------------------------------------------------- timers and others
def timer_diagram(duration: str) -> bytes:
    return diagram(f"""<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="review"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>
<bpmn:boundaryEvent id="deadline" attachedToRef="review" cancelActivity="false">
  <bpmn:outgoing>f_late</bpmn:outgoing>
  <bpmn:timerEventDefinition id="deadline_timer">
    <bpmn:timeDuration>{escape(duration)}</bpmn:timeDuration>
  </bpmn:timerEventDefinition>
</bpmn:boundaryEvent>
<bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
<bpmn:endEvent id="end_late"><bpmn:incoming>f_late</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="review"/>
<bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="end"/>
<bpmn:sequenceFlow id="f_late" sourceRef="deadline" targetRef="end_late"/>
""")


def test_a_timer_boundary_event_with_a_quoted_iso_duration_is_accepted_and_runs() -> None:
    xml = timer_diagram('"P3D"')
    assert check_bpmn_expressions(xml) == []
    wf = start(xml)
    [waiting] = [e for e in wf.waiting_events() if e.event_type.endswith("TimerEventDefinition")]
    due = datetime.fromisoformat(waiting.value)
    assert abs(due - (datetime.now(UTC) + timedelta(days=3))) < timedelta(minutes=1)


@pytest.mark.parametrize(("duration", "words"), [
    ("P3D", "需要加引号"), ('"3 days"', "计时器格式无效"), ("__import__('os')", "__import__")])
def test_a_bad_timer_expression_is_reported_on_the_event(duration: str, words: str) -> None:
    xml = timer_diagram(duration)
    [problem] = check_bpmn_expressions(xml)
    assert (problem.element_id, problem.line) == ("deadline", line_of(xml, "<bpmn:timeDuration>"))
    assert words in problem.reason


def test_the_checker_covers_messages_correlations_loops_and_service_parameters() -> None:
    bad = "open('x')"
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">
<bpmn:message id="tax_paid" name="完税"><bpmn:extensionElements>
  <spiffworkflow:messagePayload>{bad}</spiffworkflow:messagePayload></bpmn:extensionElements></bpmn:message>
<bpmn:correlationProperty id="case_no" name="业务号">
  <bpmn:correlationPropertyRetrievalExpression messageRef="tax_paid">
    <bpmn:formalExpression>{bad}</bpmn:formalExpression>
  </bpmn:correlationPropertyRetrievalExpression>
</bpmn:correlationProperty>
<bpmn:process id="p" isExecutable="true">
  <bpmn:userTask id="sign"><bpmn:multiInstanceLoopCharacteristics>
    <bpmn:loopCardinality>{bad}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
  <bpmn:intermediateCatchEvent id="wait_rule"><bpmn:conditionalEventDefinition>
    <bpmn:condition>{bad}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>
  <bpmn:serviceTask id="notify"><bpmn:extensionElements>
    <spiffworkflow:serviceTaskOperator id="notice.send"><spiffworkflow:parameters>
      <spiffworkflow:parameter id="to" type="str" value="{bad}"/>
    </spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>
</bpmn:process>
</bpmn:definitions>
""".encode()
    problems = check_bpmn_expressions(xml)
    assert [p.element_id for p in problems] == ["tax_paid", "case_no", "sign", "wait_rule", "notify"]
    assert all(p.reason == "表达式使用了不允许的函数 open" for p in problems)
    assert problems[-1].line == line_of(xml, 'id="to"')
    assert problems[0].as_error().element == "tax_paid"


def test_malformed_xml_is_one_problem_not_a_crash() -> None:
    [problem] = check_bpmn_expressions(b"<bpmn:definitions", "broken.bpmn")
    assert problem.file == "broken.bpmn" and problem.reason.startswith("XML 格式错误")


# ---------------------------------------------------------------------------------- built-in functions
def test_date_functions_return_iso_strings() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", evaluate_expression("date_today()", {}))
    assert datetime.fromisoformat(evaluate_expression("now_iso()", {})).utcoffset() == timedelta(hours=8)


def test_working_days_after_delegates_to_the_workday_calendar(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def add_working_days(start: date, n: int) -> date:
        calls.append((start, n))
        return start + timedelta(days=n + 2)

    monkeypatch.setitem(sys.modules, "app.engine.workdays", types.SimpleNamespace(
        SHIPPED=types.SimpleNamespace(add_working_days=add_working_days), calendar_for=None))
    assert evaluate_expression("working_days_after(accepted_on, 5)", {"accepted_on": "2026-03-02"}) == "2026-03-09"
    assert calls == [(date(2026, 3, 2), 5)]
    with pytest.raises(ExpressionError, match="日期格式无效"):
        evaluate_expression("working_days_after('明天', 5)", {})


def test_only_registered_functions_can_be_called() -> None:
    assert check_expression("area_fee(90)") == "表达式使用了不允许的函数 area_fee"
    register_function("area_fee")(lambda area: 80 if area <= 90 else 550)
    assert check_expression("area_fee(90)") is None
    assert evaluate_expression("area_fee(120)", {}) == 550
    with pytest.raises(ValueError):
        register_function("area_fee")(lambda area: 0)
    with pytest.raises(ValueError):
        register_function("__import__")
