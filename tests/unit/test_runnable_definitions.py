"""What the definition checks accept always runs (issue 15 §1, §3): each "found" of the issue, as the
checker (``flask defs check``, the designer) meets it on a temp copy of the shipped transfer_resale."""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from support.definitions import OPERATORS, REPO, copy_definitions

from app.catalog.definitions import check_definitions
from app.catalog.designer import palette_vocabulary
from app.catalog.diagram_lint import diagram_warnings
from app.engine.dry_run import dry_run
from app.engine.expressions import ExpressionRejected, check_expression, evaluate_expression, run_script
from app.errors import DefinitionError

sys.path.insert(0, str(REPO / "tests" / "admin"))
from construct_matrix import REFUSED, insert, single  # noqa: E402

import app.cases.sharing.tax  # noqa: F401  (registers tax_paid(), which transfer_resale's gateway reads)

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_definitions(tmp_path)


def check(root: Path, xml: str) -> list[DefinitionError]:
    (root / "processes" / "transfer_resale" / "process.bpmn").write_text(xml, encoding="utf-8")
    return check_definitions(root, only=root / "processes" / "transfer_resale", operators=OPERATORS)


def on(found: list[DefinitionError], element: str) -> list[str]:
    return [e.reason for e in found if e.element == element]


def test_a_call_activity_is_refused_on_its_element_not_at_publish_with_a_500(root: Path) -> None:
    found = check(root, single('<bpmn:callActivity id="m_x" name="调用" calledElement="nowhere" />'))
    assert any("调用活动" in r for r in on(found, "m_x")), [e.message for e in found]
    assert all(re.search(r"[\u4e00-\u9fff]", e.reason) and "was not found" not in e.reason for e in found)


@pytest.mark.parametrize("element", ['<bpmn:task id="m_x" name="核对" />',
                                     '<bpmn:manualTask id="m_x" name="线下核对" />'])
def test_a_task_with_no_form_to_complete_is_refused(root: Path, element: str) -> None:
    assert any("用户任务" in r for r in on(check(root, single(element)), "m_x"))


def test_every_kind_in_the_matrix_is_refused_by_defs_check_too(root: Path) -> None:
    """The designer and ``flask defs check`` share the checks; the path check (dry runs) is the designer's."""
    needs_a_run = {"complex result", "branch no data takes"}
    for construct, (make, elements) in REFUSED.items():
        if construct not in needs_a_run:
            assert {e.element for e in check(root, make())} & elements, construct


def test_a_wait_for_a_message_nothing_sends_is_refused_and_a_known_one_without_a_timer_is_warned(root: Path) -> None:
    court = '<bpmn:message id="m_msg" name="court_document" />'
    wait = '<bpmn:receiveTask id="m_x" name="等待" messageRef="{}" />'
    refused = on(check(root, insert(wait.format("m_msg"), "m_x", "m_x", ("m_x",), court)), "m_x")
    assert any("court_document" in r and "tax_paid" in r for r in refused), refused
    known = insert(wait.format("message_tax_paid"), "m_x", "m_x", ("m_x",))
    assert on(check(root, known), "m_x") == []
    tree = etree.fromstring(known.encode())
    warned = [w.message for w in diagram_warnings(tree, tree.find(f"{{{BPMN_NS}}}process"))
              if w.element.get("id") == "m_x"]
    assert any("计时器" in w for w in warned), warned


def test_the_dry_run_never_fakes_a_message_nothing_sends() -> None:
    xml = insert('<bpmn:receiveTask id="m_x" name="等待" messageRef="m_msg" />', "m_x", "m_x", ("m_x",),
                 '<bpmn:message id="m_msg" name="court_document" />')
    result = dry_run(xml.encode(), "transfer_resale", {}, lambda *_: {"decision": "approve"}, {})
    assert not result.finished and "court_document" in (result.stopped or "")
    assert "task_accept" not in [s.element for s in result.steps]


def test_scripts_that_validate_but_fail_at_run_time_are_refused() -> None:
    assert "%" in (check_expression("'%9s' % decision") or "")
    with pytest.raises(ExpressionRejected, match="复数"):
        run_script("root = (-1) ** 0.5", {})
    assert evaluate_expression("7 % 3", {}) == 1  # arithmetic % still works


def test_a_loop_of_automatic_steps_is_refused_on_a_gateway(root: Path) -> None:
    make, elements = REFUSED["script loop through a gateway"]
    found = check(root, make())
    assert any("循环" in e.reason for e in found if e.element in elements), [e.message for e in found]


def test_spiff_schema_errors_are_said_in_chinese_on_the_element(root: Path) -> None:
    xml = (REPO / "processes" / "transfer_resale" / "process.bpmn").read_text(encoding="utf-8").replace(
        "<bpmn:incoming>flow_accept_approve</bpmn:incoming>",
        "<bpmn:bogus /><bpmn:incoming>flow_accept_approve</bpmn:incoming>")
    [problem] = check(root, xml)
    assert problem.element == "task_review" and "bogus" in problem.reason
    assert "{http" not in problem.reason and "not expected" not in problem.reason


def _warnings(xml: str) -> dict[str, str]:
    tree = etree.fromstring(xml.encode())
    return {w.element.get("id"): w.message for w in diagram_warnings(tree, tree.find(f"{{{BPMN_NS}}}process"))}


def test_validation_flags_unconnected_unnamed_and_overlapping_elements() -> None:
    shipped = (REPO / "processes" / "transfer_resale" / "process.bpmn").read_text(encoding="utf-8")
    assert _warnings(shipped) == {}
    unnamed = single('<bpmn:scriptTask id="m_x"><bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>')
    assert "名称" in _warnings(unnamed)["m_x"]
    stray = shipped.replace("</bpmn:process>", '<bpmn:scriptTask id="m_stray" name="孤立"><bpmn:script>a = 1'
                            "</bpmn:script></bpmn:scriptTask></bpmn:process>")
    assert "未连接" in _warnings(stray)["m_stray"]
    bounds = re.search(r'bpmnElement="task_review"[^>]*>\s*<dc:Bounds ([^/]*)/>', shipped)
    assert bounds is not None
    on_top = re.sub(r'(bpmnElement="task_accept"[^>]*>\s*<dc:Bounds )[^/]*/>', rf"\g<1>{bounds.group(1)}/>", shipped)
    assert "重叠" in _warnings(on_top)["task_review"] or "重叠" in _warnings(on_top)["task_accept"]


def test_the_palette_lists_the_messages_a_wait_may_name() -> None:
    palette: dict[str, Any] = palette_vocabulary(REPO)
    assert [m["name"] for m in palette["messages"]] == ["tax_paid"]
    assert palette["messages"][0]["sender"] == "税务部门"
