"""Fixtures of the version-migration tests (tests/api, tests/browser): running 更正登记 cases on v1 and a v2
that adds a 复核 step after 审核, so a running case has somewhere new to go."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.cases import complete_stage, file_application, take_through
from support.personas import STAFF

from app.identifiers import make_unit_code

ROOT = Path(__file__).resolve().parents[1]
RECHECK = """<bpmn:userTask id="task_recheck" name="复核">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formKey" value="decision_review" />
          <spiffworkflow:property name="stage" value="审核" />
          <spiffworkflow:property name="dueDays" value="2" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>flow_review_approve</bpmn:incoming>
      <bpmn:outgoing>flow_recheck_done</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="flow_recheck_done" sourceRef="task_recheck" targetRef="task_record" />
    """
RECHECK_SHAPE = """<bpmndi:BPMNShape id="task_recheck_di" bpmnElement="task_recheck">
        <dc:Bounds x="900" y="415" width="100" height="80" />
      </bpmndi:BPMNShape>
      """
REVIEW_LANE = "<bpmn:flowNodeRef>gw_review</bpmn:flowNodeRef>"


def shipped_bpmn(code: str) -> str:
    return (ROOT / "processes" / code / "process.bpmn").read_text(encoding="utf-8")


def with_recheck(xml: str) -> str:
    """The diagram with 复核 (reviewer lane, stage 审核) between 审核通过 and 登簿 (for the shipped types whose
    审核 approves along ``flow_review_approve`` into ``task_record``)."""
    xml = xml.replace('sourceRef="gw_review" targetRef="task_record"', 'sourceRef="gw_review" targetRef="task_recheck"')
    xml = xml.replace(REVIEW_LANE, f"{REVIEW_LANE}\n        <bpmn:flowNodeRef>task_recheck</bpmn:flowNodeRef>")
    head, tail = xml.split('<bpmn:userTask id="task_record"', 1)
    tail = tail.replace("<bpmn:incoming>flow_review_approve</bpmn:incoming>",
                        "<bpmn:incoming>flow_recheck_done</bpmn:incoming>", 1)
    xml = head + RECHECK + '<bpmn:userTask id="task_record"' + tail
    return xml.replace('<bpmndi:BPMNShape id="task_review_di"', RECHECK_SHAPE + '<bpmndi:BPMNShape id="task_review_di"')


CODE = "correction"


def unit(n: int) -> str:
    return make_unit_code("330106", 1, 1, "GB", 100, 1, 100 + n)


def file_correction(login: Any, n: int) -> dict[str, Any]:
    form = {"unit_code": unit(n), "error_description": "登记簿记载的建筑面积与实测面积不符",
            "evidence": "杭州市测绘院测绘成果更正报告（2026）第88号", "corrected_area_m2": 70.5 + n}
    resp = file_application(login, "zhangsan", CODE, form)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def v1_v2(page_login: Any, db: Any, on_v1: dict[str, dict[str, Any]]) -> tuple[str, str]:
    """(v1 id, v2 id): v1 loaded from disk (the running cases are on it), v2 with 复核 published through the
    designer."""
    from app.catalog.models import BusinessType

    with db.unit_of_work() as session:
        v1 = session.get_one(BusinessType, CODE).current_version_id
    xml = with_recheck(shipped_bpmn(CODE))
    published = page_login("analyst").post_json(f"/admin/api/types/{CODE}/publish", {"xml": xml})
    assert published.status_code == 200, published.get_json()
    return v1, published.get_json()["version_id"]


@pytest.fixture
def on_v1(login: Any) -> dict[str, dict[str, Any]]:
    """Three running cases on v1: one waiting at 受理, one at 审核, one at 补正 (with the applicant)."""
    at_accept, at_review, at_correct = (file_correction(login, n) for n in (1, 2, 3))
    take_through(login, at_review["business_no"], ("受理",))
    assert complete_stage(login(STAFF["受理"]), at_correct["business_no"], "受理", "correct",
                          correction_items=["请补充测绘报告原件"]).status_code == 200
    return {"受理": at_accept, "审核": at_review, "补正": at_correct}
