"""Importing diagrams drawn in other modelers (tests/fixtures/foreign_bpmn, OMG MIWG A.1–A.4 and C.1 kinds in
the export styles of Camunda 7/8, Signavio, Trisotech and the plain reference files): the proposed mapping
alone turns each into a diagram our checker accepts, cases run to an end, and what cannot run is refused in
Chinese with the element's id and name."""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

import app.cases.sharing.tax  # noqa: F401
import app.cases.sharing.verification  # noqa: F401
import app.registry.announce  # noqa: F401  (connectors register on import)
import app.registry.certificates  # noqa: F401
import app.registry.service  # noqa: F401
from app.catalog import designer
from app.catalog.foreign_bpmn import ForeignDiagramError, read_foreign
from app.catalog.foreign_import import convert
from app.catalog.foreign_mapping import decision_choices, propose, timer_expression, translate_condition
from app.catalog.trial import run_trial

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "foreign_bpmn"
REFUSED = "B.1.0-descriptive.bpmn"  # MIWG B.1.0's kind: descriptive elements only, nothing of it can run
ALL = sorted(p.name for p in FIXTURES.glob("*.bpmn") if p.name != REFUSED)
CODE = "transfer_resale"
CHOICES = decision_choices(REPO / "forms")
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def imported(name: str, **changes: Any) -> tuple[Any, Any]:
    diagram = read_foreign((FIXTURES / name).read_bytes(), name)
    plan = propose(diagram, None, designer.palette_vocabulary(REPO), choices=CHOICES)
    mapping = json.loads(json.dumps(plan.mapping))
    for key, value in changes.items():
        if isinstance(value, dict):
            mapping[key].update(value)
        else:
            mapping[key] = value
    return plan, convert(diagram, mapping, CODE, "导入测试")


def dry(xml: str, **kw: Any) -> dict[str, Any]:
    return run_trial(REPO, CODE, xml, {"price": 1}, kw.get("decisions", {}), {}, kw.get("timeouts", []))


def test_there_are_fixtures_of_every_style() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    assert len(ALL) >= 9 and all(name in readme for name in [*ALL, REFUSED])


@pytest.mark.parametrize("name", ALL)
def test_the_proposed_mapping_passes_the_designers_checks(name: str) -> None:
    _, result = imported(name)
    assert result.problems == []
    assert designer.validate(REPO, CODE, result.xml) == []
    root = etree.fromstring(result.xml.encode("utf-8"))
    assert set(root.nsmap.values()) <= {BPMN, "http://www.omg.org/spec/BPMN/20100524/DI",
                                        "http://www.omg.org/spec/DD/20100524/DC",
                                        "http://www.omg.org/spec/DD/20100524/DI",
                                        "http://www.w3.org/2001/XMLSchema-instance",
                                        "http://spiffworkflow.org/bpmn/schema/1.0/core"}
    for vendor in ("camunda", "zeebe", "signavio", "trisotech", "triso:", "bioc"):
        assert vendor not in result.xml, vendor
    shown = {s.get("bpmnElement") for s in root.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape")}
    nodes = [el.get("id") for el in root.find(f"{{{BPMN}}}process") if el.get("id") and not el.tag.endswith(
        ("sequenceFlow", "laneSet", "dataObject"))]
    assert set(nodes) <= shown, "the layout of every kept element survives"


@pytest.mark.parametrize("name", ["A.1.0.bpmn", "A.1.1-camunda7.bpmn", "A.2.0.bpmn", "A.2.1.bpmn",
                                  "A.3.0-trisotech.bpmn", "A.4.1-bpmnio.bpmn", "C.1.0-camunda7.bpmn",
                                  "C.3.0-camunda7.bpmn"])
def test_a_dry_run_of_the_import_reaches_an_end(name: str) -> None:
    _, result = imported(name)
    run = dry(result.xml)
    assert run["finished"] and run["end_event"] == "end_registered", run


def test_timers_become_quoted_iso_expressions_and_a_simulated_expiry_passes_them() -> None:
    plan, result = imported("A.4.0-camunda8.bpmn")
    assert plan.mapping["timers"] == {"Event_wait_notice": '"P15D"', "Boundary_overdue": '"PT48H"'}
    waits = dry(result.xml)
    assert not waits["finished"] and "计时器" in waits["stopped"]
    late = dry(result.xml, timeouts=["Event_wait_notice", "Boundary_overdue"])
    assert late["finished"] and late["end_event"] == "end_registered", late
    assert "Task_supervise" in late["visited"]
    refused = dry(result.xml, timeouts=["Event_wait_notice"], decisions={"Task_review": {"decision": "reject"}})
    assert refused["end_event"] == "end_refused"


def test_the_realistic_collaboration_maps_pools_lanes_tasks_and_conditions() -> None:
    plan, result = imported("C.1.0-camunda7.bpmn")
    assert plan.pool == "Process_center"
    assert plan.mapping["lanes"] == {"Lane_window": "acceptor", "Lane_review": "reviewer",
                                     "Lane_record": "recorder", "Lane_issue": "certifier"}
    tasks = plan.mapping["tasks"]
    assert tasks["Task_identity"] == {"kind": "service", "connector": "identity.verify"}
    assert tasks["Task_write_register"] == {"kind": "service", "connector": "registry.record"}
    assert tasks["Task_accept"] == {"kind": "user", "stage": "受理", "form": "decision_accept"}
    assert tasks["Event_correction_received"]["kind"] == "user"  # a message nobody sends: a clerk records it
    assert plan.mapping["ends"] == {"End_rejected": "end_rejected", "End_refused": "end_refused",
                                    "End_done": "end_registered"}
    flows = plan.mapping["flows"]
    assert flows["Flow_c_approve"] == {"condition": "decision == 'approve'"}  # JUEL ${…} translated
    assert flows["Flow_c_reject"] == {"condition": 'decision == "reject"'}  # JavaScript: by the flow's name
    assert flows["Flow_c_pass"] == {"default": True}
    assert "不是平台的表达式语言" in next(r.note for r in plan.flows if r.id == "Flow_c_reject")
    assert any("其他泳池 1 个、消息流 3 条" in n for n in result.notes)
    rejected = dry(result.xml, decisions={"Task_accept": {"decision": "reject"}})
    assert rejected["end_event"] == "end_rejected"
    corrected = dry(result.xml, decisions={"Task_accept": [{"decision": "correct"}, {"decision": "approve"}]})
    assert corrected["finished"] and "Event_correction_received" in corrected["visited"]


def test_an_embedded_sub_process_is_folded_into_the_process() -> None:
    plan, result = imported("A.4.1-bpmnio.bpmn")
    assert plan.mapping["lanes"] == {"Lane_clerk": "acceptor", "Lane_review": "reviewer", "Lane_registrar": "recorder"}
    assert plan.mapping["tasks"]["Activity_survey"]["kind"] == "user"  # a call activity: a clerk's task
    root = etree.fromstring(result.xml.encode("utf-8"))
    assert root.find(f".//{{{BPMN}}}subProcess") is None
    flows = {f.get("id"): (f.get("sourceRef"), f.get("targetRef")) for f in root.iter(f"{{{BPMN}}}sequenceFlow")}
    assert flows["Flow_checks"] == ("Gateway_docs", "Activity_verify_owner")
    assert flows["Flow_s3"] == ("Activity_check_seizure", "Gateway_join")
    lane = root.find(f".//{{{BPMN}}}lane[@id='Lane_review']")
    assert "Activity_verify_owner" in [r.text for r in lane]
    assert any("Activity_checks（Legal checks） 已并入主流程" in n for n in result.notes)
    checked = dry(result.xml, decisions={"Activity_intake": {"decision": "approve"}})  # neither named branch
    assert "Activity_check_seizure" in checked["visited"] and checked["end_event"] == "end_registered"


def test_a_sub_process_that_cannot_be_folded_is_refused() -> None:
    text = (FIXTURES / "A.4.1-bpmnio.bpmn").read_text(encoding="utf-8").replace(
        '<bpmn:subProcess id="Activity_checks" name="Legal checks">',
        '<bpmn:subProcess id="Activity_checks" name="Legal checks" triggeredByEvent="true">')
    diagram = read_foreign(text.encode("utf-8"))
    plan = propose(diagram, None, designer.palette_vocabulary(REPO))
    assert plan.refusals and "事件子流程 Activity_checks（Legal checks）" in plan.refusals[0]
    with pytest.raises(ForeignDiagramError):
        convert(diagram, plan.mapping, CODE, "导入测试")


def test_links_become_flows_and_thrown_signals_and_errors_are_dropped() -> None:
    plan, result = imported("C.2.0-signavio.bpmn")
    assert plan.mapping["lanes"] == {"sid-lane-clerk": "acceptor", "sid-lane-review": "reviewer",
                                     "sid-lane-chief": "team_leader"}
    assert plan.mapping["ends"] == {"sid-end-rejected": "end_rejected", "sid-end-done": "end_registered"}
    assert "linkEventDefinition" not in result.xml and "signalEventDefinition" not in result.xml
    assert "errorEventDefinition" not in result.xml
    assert 'sourceRef="sid-link-throw" targetRef="sid-link-catch"' in result.xml
    done = dry(result.xml, timeouts=["sid-notice-period"])
    assert done["finished"] and done["end_event"] == "end_registered", done
    late = dry(result.xml, timeouts=["sid-notice-period", "sid-review-late"])
    assert "sid-supervise" in late["visited"] and late["end_event"] == "end_registered"
    assert dry(result.xml, decisions={"sid-receive": {"decision": "reject"}})["end_event"] == "end_rejected"


def test_a_diagram_of_descriptive_elements_is_refused_with_every_problem_at_once() -> None:
    diagram = read_foreign((FIXTURES / REFUSED).read_bytes(), REFUSED)
    plan = propose(diagram, None, designer.palette_vocabulary(REPO))
    with pytest.raises(ForeignDiagramError) as caught:
        convert(diagram, plan.mapping, CODE, "导入测试")
    assert caught.value.problems == plan.refusals
    assert [p.split("：")[1].split("——")[0] for p in plan.refusals] == [
        "定时开始事件 b_start（Every Monday）", "复杂网关 b_complex（Case meeting）",
        "事务子流程 b_pay（Collect fees）", "消息边界事件 b_withdrawn（Withdrawn）",
        "自由子流程 b_adhoc（Collect evidence）"]


def test_scripts_rules_and_loops_of_another_engine_become_clerks_steps() -> None:
    plan, result = imported("C.3.0-camunda7.bpmn")
    tasks = plan.mapping["tasks"]
    assert tasks["Task_c30_proof"] == {"kind": "service", "connector": "certificates.issue"}
    for task_id in ("Task_c30_fee", "Task_c30_rules"):  # groovy, DMN: no engine of ours runs them
        assert tasks[task_id]["kind"] == "user"
        assert "改为人工办理的用户任务" in next(r.note for r in plan.tasks if r.id == task_id)
    assert plan.mapping["flows"]["Flow_c30_blocked"] == {"condition": 'decision == "reject"'}  # into 不予登记
    for gone in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics", "<bpmn:script>", "groovy"):
        assert gone not in result.xml
    assert "terminateEventDefinition" in result.xml
    blocked = dry(result.xml, decisions={"Task_c30_rules": {"decision": "reject"}})
    assert blocked["finished"] and blocked["end_event"] == "end_refused"


def test_a_gateway_without_a_default_gets_one_for_the_decisions_no_flow_names() -> None:
    plan, result = imported("A.2.0.bpmn")  # 是 / 否 after 受理, whose form also allows 补正 (correct)
    assert plan.mapping["flows"] == {"sid-F-0003": {"condition": 'decision == "approve"'},
                                     "sid-F-0004": {"default": True}}
    assert "correct" in next(r.note for r in plan.flows if r.id == "sid-F-0004")
    corrected = dry(result.xml, decisions={"sid-A1B2C3D4-0002": {"decision": "correct"}})
    assert corrected["end_event"] == "end_rejected"  # never stranded at the gateway


def test_error_boundary_events_go_with_what_only_they_reach() -> None:
    _, result = imported("A.4.0-camunda8.bpmn")
    for gone in ("Boundary_error", "Task_fix", "Flow_error", "Flow_fixed", "errorEventDefinition"):
        assert gone not in result.xml
    assert "Task_record" in result.xml
    assert any("错误边界事件 Boundary_error（登簿失败） 已移除" in n and "Task_fix（人工核查登簿异常）" in n
               for n in result.notes)


def test_two_end_events_with_the_same_outcome_are_merged() -> None:
    _, result = imported("A.2.1.bpmn")
    root = etree.fromstring(result.xml.encode("utf-8"))
    assert [e.get("id") for e in root.iter(f"{{{BPMN}}}endEvent")] == ["end_registered"]
    flows = {f.get("id"): f.get("targetRef") for f in root.iter(f"{{{BPMN}}}sequenceFlow")}
    assert flows["f9"] == flows["f10"] == "end_registered"
    assert root.find(f".//{{{BPMN}}}exclusiveGateway").get("default") == "f9"


def test_the_analysts_choices_win_over_the_proposal() -> None:
    _, result = imported("A.1.0.bpmn", default_role="reviewer", tasks={
        "_ec59e164-68b4-4f94-98de-ffb1c58a84af": {"kind": "user", "stage": "受理", "form": "decision_accept"}})
    assert '<bpmn:lane id="lane_reviewer" name="reviewer">' in result.xml
    assert '<spiffworkflow:property name="formKey" value="decision_accept"/>' in result.xml


def test_a_bad_choice_is_shown_on_its_element() -> None:
    _, result = imported("A.2.0.bpmn", tasks={"sid-A1B2C3D4-0004": {"kind": "user", "stage": "盖章", "form": "x"}},
                         flows={"sid-F-0004": {"condition": ""}}, ends={"sid-A1B2C3D4-0005": ""})
    assert {p["element"] for p in result.problems} == {"sid-F-0004", "sid-A1B2C3D4-0005"}
    assert all("未选择" in p["message"] or "为空" in p["message"] for p in result.problems)
    located = {p.element: p.message for p in designer.validate(REPO, CODE, result.xml)}
    assert "盖章" in located["sid-A1B2C3D4-0004"]


def test_a_gateway_gets_one_default_flow_only() -> None:
    _, result = imported("A.2.0.bpmn", flows={"sid-F-0003": {"default": True}, "sid-F-0004": {"default": True}})
    assert [p["element"] for p in result.problems] == ["sid-F-0004"]
    assert "只能有一条默认连线" in result.problems[0]["message"]


def diagram_with(body: str, extra: str = "") -> bytes:
    return f"""<?xml version="1.0"?>
<definitions xmlns="{BPMN}" id="d" targetNamespace="t">{extra}
  <process id="p" isExecutable="false">
    <startEvent id="s"><outgoing>f1</outgoing></startEvent>{body}
    <endEvent id="e"><incoming>f2</incoming></endEvent>
    <sequenceFlow id="f1" sourceRef="s" targetRef="x"/><sequenceFlow id="f2" sourceRef="x" targetRef="e"/>
  </process><bpmndi:BPMNDiagram xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI">
  <bpmndi:BPMNPlane bpmnElement="p"/></bpmndi:BPMNDiagram></definitions>""".encode()


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "文件为空"),
    (b"PK\x03\x04 not xml", "不是合法的 XML"),
    (b"<html><body>hi</body></html>", "不是 BPMN 2.0 流程图"),
    (f'<definitions xmlns="{BPMN}"><process id="p"/></definitions>'.encode(), "没有包含任何节点的流程"),
])
def test_files_that_are_not_diagrams_are_refused_in_chinese(data: bytes, expected: str) -> None:
    with pytest.raises(ForeignDiagramError) as caught:
        read_foreign(data, "x.bpmn")
    assert expected in str(caught.value)


def test_a_file_without_a_usable_drawing_is_refused() -> None:
    text = (FIXTURES / "A.1.0.bpmn").read_text(encoding="utf-8")
    with pytest.raises(ForeignDiagramError, match="没有布局信息"):
        read_foreign(text.split("<bpmndi:BPMNDiagram")[0].encode() + b"</definitions>")
    broken = text.replace('<dc:Bounds x="192"', '<dc:Bounds x="left"', 1)
    with pytest.raises(ForeignDiagramError, match="布局信息（DI）第 .* 行不完整：_93c466ab-b271-4376"):
        read_foreign(broken.encode())


def test_mangled_files_are_refused_or_imported_never_crash() -> None:
    """Elements and attributes removed or garbled at random (fixed seed): a refusal or a result, no exception."""
    rng = random.Random(15)
    for _ in range(150):
        root = etree.fromstring((FIXTURES / rng.choice(ALL)).read_bytes())
        elements = [e for e in root.iter() if isinstance(e.tag, str)][1:]
        for _ in range(rng.randint(1, 3)):
            el, r = rng.choice(elements), rng.random()
            if r < 0.4 and el.getparent() is not None:
                el.getparent().remove(el)
            elif el.attrib:
                el.set(rng.choice(list(el.attrib)), rng.choice(["", "x", "end_registered", "Flow_1"]))
            else:
                el.text = rng.choice(["", "${x}", "P", "'"])
        try:
            diagram = read_foreign(etree.tostring(root))
            result = convert(diagram, propose(diagram, None, designer.palette_vocabulary(REPO)).mapping, CODE, "t")
        except ForeignDiagramError as exc:
            assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
            continue
        assert isinstance(designer.validate(REPO, CODE, result.xml), list)


def test_a_file_that_is_no_bpmn_by_its_name_is_refused() -> None:
    with pytest.raises(ForeignDiagramError, match="不是 BPMN 文件"):
        read_foreign((FIXTURES / "A.1.0.bpmn").read_bytes(), "diagram.png")


@pytest.mark.parametrize(("body", "expected"), [
    ('<complexGateway id="x" name="会商"><incoming>f1</incoming><outgoing>f2</outgoing></complexGateway>',
     "不支持的元素：复杂网关 x（会商）"),
    ('<task id="x" name="审核"><incoming>f1</incoming><outgoing>f2</outgoing></task>'
     '<boundaryEvent id="b" name="撤件" attachedToRef="x"><messageEventDefinition/></boundaryEvent>',
     "不支持的元素：消息边界事件 b（撤件）"),
    ('<transaction id="x" name="缴费"><incoming>f1</incoming><outgoing>f2</outgoing></transaction>',
     "不支持的元素：事务子流程 x（缴费）"),
])
def test_constructs_that_cannot_run_are_refused_with_id_and_name(body: str, expected: str) -> None:
    diagram = read_foreign(diagram_with(body), "x.bpmn")
    plan = propose(diagram, None, designer.palette_vocabulary(REPO))
    with pytest.raises(ForeignDiagramError) as caught:
        convert(diagram, plan.mapping, CODE, "导入测试")
    assert expected in caught.value.problems[0]


def test_an_event_based_gateway_waiting_for_messages_is_refused() -> None:
    body = ('<eventBasedGateway id="x" name="等待"><incoming>f1</incoming><outgoing>g</outgoing></eventBasedGateway>'
            '<intermediateCatchEvent id="m" name="法院文书"><incoming>g</incoming><outgoing>f2</outgoing>'
            '<messageEventDefinition/></intermediateCatchEvent><sequenceFlow id="g" sourceRef="x" targetRef="m"/>')
    diagram = read_foreign(diagram_with(body).replace(b'sourceRef="x" targetRef="e"', b'sourceRef="m" targetRef="e"'))
    plan = propose(diagram, None, designer.palette_vocabulary(REPO))
    with pytest.raises(ForeignDiagramError, match="基于事件的网关 x（等待） 之后的消息/信号事件（m（法院文书））"):
        convert(diagram, plan.mapping, CODE, "导入测试")


@pytest.mark.parametrize(("foreign", "ours"), [
    ("${decision == 'approve'}", "decision == 'approve'"),
    ("#{amount > 1000 && !urgent}", "amount > 1000 and not urgent"),
    ("=approved = true", "approved == True"),
    ("= a >= 2 or b != null", "a >= 2 or b != None"),
])
def test_simple_juel_and_feel_conditions_are_translated(foreign: str, ours: str) -> None:
    assert translate_condition(foreign) == ours


def test_a_condition_on_the_target_types_form_fields_is_kept() -> None:
    text = (FIXTURES / "A.2.0.bpmn").read_text(encoding="utf-8").replace(
        '<conditionExpression xsi:type="tFormalExpression">材料齐全</conditionExpression>',
        '<conditionExpression xsi:type="tFormalExpression">${price &gt; 1000000 &amp;&amp; use == "住宅"}'
        '</conditionExpression>')
    diagram = read_foreign(text.encode("utf-8"))
    palette = designer.palette_vocabulary(REPO)
    kept = propose(diagram, None, palette, known_names={"price", "use"})
    assert kept.mapping["flows"]["sid-F-0003"] == {"condition": 'price > 1000000 and use == "住宅"'}
    unknown = propose(diagram, None, palette)  # no target type yet: names unknown, proposed from the name 是
    assert unknown.mapping["flows"]["sid-F-0003"] == {"condition": 'decision == "approve"'}
    assert "不是平台的表达式语言" in next(r.note for r in unknown.flows if r.id == "sid-F-0003")


@pytest.mark.parametrize(("foreign", "ours"), [
    ("PT2H", '"PT2H"'), ("R3/PT10M", '"R3/PT10M"'), ('=duration("P3D")', '"P3D"'),
    ("2026-12-31T00:00:00Z", '"2026-12-31T00:00:00Z"'), ("${sla}", None)])
def test_iso_timers_are_recognised(foreign: str, ours: str | None) -> None:
    assert timer_expression(foreign) == ours
