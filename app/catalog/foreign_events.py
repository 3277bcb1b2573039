"""Events of a foreign diagram the engine cannot run as drawn: link pairs, error boundary events, and the
triggers of start and throw events. Each is turned into what it means here, and the change is noted.

Why: SpiffWorkflow 3.2 drops link events, a connector that fails makes a case wait (it throws no BPMN error),
and a case starts on submission and sends no BPMN messages or signals.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from app.catalog.foreign_bpmn import BPMN_NS, NS, describe, tag_of
from app.catalog.foreign_layout import connect_shapes, remove_with_di

if TYPE_CHECKING:
    from app.catalog.foreign_import import Converted


def drop_error_paths(process: etree._Element, out: Converted) -> None:
    """Error boundary events never fire here (a failing connector makes the case wait for the department,
    it throws no BPMN error): they go, with the nodes only they lead to."""
    for boundary in list(process.iter(f"{{{BPMN_NS}}}boundaryEvent")):
        if boundary.find("bpmn:errorEventDefinition", NS) is None:
            continue
        doomed = {boundary.get("id")}
        changed = True
        while changed:  # a node goes when every flow into it comes from something that goes
            changed = False
            flows = list(process.iter(f"{{{BPMN_NS}}}sequenceFlow"))
            for node in process.iter():
                nid = node.get("id")
                into = [f for f in flows if f.get("targetRef") == nid]
                if nid and nid not in doomed and into and all(f.get("sourceRef") in doomed for f in into):
                    doomed.add(nid)
                    changed = True
        gone = [el for el in process.iter() if el.get("id") in doomed or (
            el.tag == f"{{{BPMN_NS}}}sequenceFlow" and el.get("sourceRef") in doomed)]
        for el in gone:
            remove_with_di(el)
        names = "、".join(describe(el) for el in gone if not tag_of(el).endswith("sequenceFlow") and el is not boundary)
        out.notes.append(f"错误边界事件 {describe(boundary)} 已移除（平台的服务任务出错时转为等待核验，"
                         "不抛出 BPMN 错误）" + (f"，以及只由它到达的 {names}" if names else ""))


def join_links(process: etree._Element, out: Converted) -> None:
    """A link throw and the link catch of the same name become one sequence flow (the engine has no links)."""
    def links(kind: str) -> dict[str, etree._Element]:
        found = {}
        for event in process.iterfind(f"bpmn:{kind}", NS):
            d = event.find("bpmn:linkEventDefinition", NS)
            if d is not None:
                found[d.get("name") or d.get("id") or ""] = event
                event.remove(d)
        return found

    throws, catches = links("intermediateThrowEvent"), links("intermediateCatchEvent")
    root = process.getroottree().getroot()
    for name, throw in throws.items():
        catch = catches.pop(name, None)
        if catch is None:
            out.problem(throw, f"链接事件 {describe(throw)} 没有同名（{name}）的链接捕获事件")
            continue
        flow = etree.SubElement(process, f"{{{BPMN_NS}}}sequenceFlow", id=f"Flow_link_{throw.get('id')}",
                                sourceRef=throw.get("id") or "", targetRef=catch.get("id") or "")
        connect_shapes(root, flow.get("id") or "", throw.get("id") or "", catch.get("id") or "")
        out.notes.append(f"链接事件 {describe(throw)} → {describe(catch)} 已改为一条连线")
    for catch in catches.values():
        out.problem(catch, f"链接捕获事件 {describe(catch)} 没有同名的链接抛出事件，流程无法到达")


def map_events(process: etree._Element, out: Converted) -> None:
    """Start and throw events lose what nobody receives (a case starts on submission; no message is sent)."""
    for el in process.iter(f"{{{BPMN_NS}}}startEvent", f"{{{BPMN_NS}}}intermediateThrowEvent"):
        if el.getparent() is not process and etree.QName(el).localname == "startEvent":
            continue
        for d in [c for c in el
                  if tag_of(c).endswith("EventDefinition") and not tag_of(c).endswith("linkEventDefinition")]:
            el.remove(d)
            out.notes.append(f"事件 {describe(el)} 的{definition_label(d)}定义已移除"
                             "（平台中由申请提交开始、不发送消息）")


def definition_label(d: etree._Element) -> str:
    return {"messageEventDefinition": "消息", "signalEventDefinition": "信号", "errorEventDefinition": "错误",
            "escalationEventDefinition": "升级", "timerEventDefinition": "计时器",
            "conditionalEventDefinition": "条件", "compensateEventDefinition": "补偿"}.get(
        etree.QName(d).localname, etree.QName(d).localname)
