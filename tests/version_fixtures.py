"""Diagrams for the version-migration tests: a shipped process with one step added or renamed, so a
running case has somewhere new to go."""
from __future__ import annotations

from pathlib import Path

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
