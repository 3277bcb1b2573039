"""Warnings on a diagram that runs but that an analyst should look at before publishing.

Why apart from the errors: these do not stop a case (an unnamed script task still runs; two shapes drawn on
top of each other still execute), so they never block publishing — but each one is usually a slip of the
mouse that hides a step, and the designer marks it on the canvas. The waits without a timer and unconnected
elements come from the same checks that find the errors (task_kinds, path_check).
"""
from __future__ import annotations

from lxml import etree

from app.catalog.path_check import graph_problems
from app.catalog.task_kinds import ACTIVITIES, BPMN_NS, KindProblem, kind_problems

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
_CONTAINERS = frozenset({"subProcess", "transaction", "adHocSubProcess", "participant", "lane", "laneSet",
                         "process", "textAnnotation", "group"})


def diagram_warnings(root: etree._Element, process: etree._Element) -> list[KindProblem]:
    """Every warning of one executable process (located on its element)."""
    found = [p for p in kind_problems(process) + graph_problems(process) if p.warning]
    for node in process.iter():
        if isinstance(node.tag, str) and etree.QName(node).namespace == BPMN_NS \
                and etree.QName(node).localname in ACTIVITIES - {"userTask"} and not (node.get("name") or "").strip():
            found.append(KindProblem(node, "任务没有名称：请写上这一步做什么，办理记录和流程图上都会显示",
                                     warning=True))
    found.extend(_overlaps(root, process))
    return found


def _overlaps(root: etree._Element, process: etree._Element) -> list[KindProblem]:
    """Flow elements whose shapes cover each other (BPMNDI bounds), so one hides the other on the canvas."""
    nodes = {n.get("id"): n for n in process.iter() if isinstance(n.tag, str) and n.get("id")}
    boxes: list[tuple[str, float, float, float, float]] = []
    for shape in root.iter(f"{{{BPMNDI_NS}}}BPMNShape"):
        ref = shape.get("bpmnElement")
        node = nodes.get(ref)
        bounds = shape.find(f"{{{DC_NS}}}Bounds")
        if node is None or bounds is None or etree.QName(node).localname in _CONTAINERS \
                or etree.QName(node).localname == "boundaryEvent":
            continue
        try:
            x, y = float(bounds.get("x", "0")), float(bounds.get("y", "0"))
            w, h = float(bounds.get("width", "0")), float(bounds.get("height", "0"))
        except ValueError:
            continue
        boxes.append((str(ref), x, y, x + w, y + h))
    found, reported = [], set()
    for i, (a, ax1, ay1, ax2, ay2) in enumerate(boxes):
        for b, bx1, by1, bx2, by2 in boxes[i + 1:]:
            if min(ax2, bx2) > max(ax1, bx1) and min(ay2, by2) > max(ay1, by1) and b not in reported:
                reported.add(b)
                other = (nodes[a].get("name") or "").strip()
                found.append(KindProblem(nodes[b], f"与元素 {other + '（' + a + '）' if other else a} 重叠，"
                                                   "其中一个被遮住：请拖开", warning=True))
    return found
