"""Embedded sub-processes of a foreign diagram are folded into their parent process before mapping.

Why fold them: our conventions say an end event is an outcome and a user task's lane is its role; inside a
sub-process an end event only closes the sub-process and lanes do not reach. A plain embedded sub-process
(one start, ends, no boundary events, no loop) means the same as its content drawn in line, so its content
moves up: flows into the sub-process go to the node after its start, flows into its ends go where the
sub-process led. Anything else stays and is refused with its id and name (``inlining_problem``).
"""
from __future__ import annotations

from lxml import etree

from app.catalog.foreign_bpmn import BPMN_NS, BPMNDI_NS, DC_NS, DI_NS, NS, describe, detach, num
from app.catalog.foreign_layout import coord, redirect_edges, shape_bounds

_KEPT_ON_SUB = ("incoming", "outgoing", "extensionElements", "documentation", "laneSet", "ioSpecification")


def inline_subprocesses(process: etree._Element) -> list[str]:
    """Fold every plain embedded sub-process (innermost first); notes for the analyst."""
    notes: list[str] = []
    while True:
        sub = next((s for s in process.iter(f"{{{BPMN_NS}}}subProcess")
                    if s.find(".//bpmn:subProcess", NS) is None and inlining_problem(s) is None), None)
        if sub is None:
            return notes
        moved_di = _inline(sub)
        notes.append(f"子流程 {describe(sub)} 已并入主流程" + ("，其内容画在原子流程的位置，右侧的节点随之右移"
                                                           if moved_di else ""))


def inlining_problem(sub: etree._Element) -> str | None:
    """Why a sub-process cannot be folded into its parent (None: it can)."""
    parent = _parent(sub)
    if sub.get("triggeredByEvent") == "true":
        return "事件子流程"
    if sub.find("bpmn:multiInstanceLoopCharacteristics", NS) is not None or \
            sub.find("bpmn:standardLoopCharacteristics", NS) is not None:
        return "循环或多实例子流程"
    if any(b.get("attachedToRef") == sub.get("id") for b in parent.iterfind("bpmn:boundaryEvent", NS)):
        return "带边界事件的子流程"
    starts = sub.findall("bpmn:startEvent", NS)
    if len(starts) != 1 or any(isinstance(c.tag, str) and c.tag.endswith("EventDefinition") for c in starts[0]):
        return "子流程应有且仅有一个普通开始事件"
    if len(_flows(sub, source=starts[0].get("id"))) != 1 or len(_flows(parent, source=sub.get("id"))) > 1:
        return "子流程的开始事件和子流程本身各应只有一条流出连线"
    return None


def _inline(sub: etree._Element) -> bool:
    parent, root = _parent(sub), sub.getroottree().getroot()
    moved = _move_di_up(root, sub)
    start = sub.findall("bpmn:startEvent", NS)[0]  # exactly one (inlining_problem)
    first_flow = _flows(sub, source=start.get("id"))[0]
    first = first_flow.get("targetRef") or ""
    redirect_edges(root, sub.get("id") or "", first)
    for f in _flows(parent, target=sub.get("id")):
        f.set("targetRef", first)
    after = next(iter(_flows(parent, source=sub.get("id"))), None)
    for end in sub.findall("bpmn:endEvent", NS):
        if after is None:
            continue  # the sub-process ended its branch: its ends become the process's own
        redirect_edges(root, end.get("id") or "", after.get("targetRef") or "")
        for g in _flows(sub, target=end.get("id")):
            g.set("targetRef", after.get("targetRef") or "")
        _drop(root, end)
    if after is not None:
        _drop(root, after)
    _drop(root, first_flow)
    _drop(root, start)
    lane_refs = [r for r in root.iter(f"{{{BPMN_NS}}}flowNodeRef") if (r.text or "").strip() == sub.get("id")]
    index = parent.index(sub)
    for child in [c for c in sub if isinstance(c.tag, str) and etree.QName(c).localname not in _KEPT_ON_SUB]:
        parent.insert(index, child)
        index += 1
        kind = etree.QName(child).localname
        for ref in lane_refs if kind not in ("sequenceFlow", "association", "textAnnotation") else []:
            new = etree.Element(f"{{{BPMN_NS}}}flowNodeRef")
            new.text = child.get("id")
            ref.addnext(new)
    _drop(root, sub)
    return moved


def _move_di_up(root: etree._Element, sub: etree._Element) -> bool:
    """A collapsed sub-process draws its content on a plane of its own: move it where the sub-process was
    drawn and push what lies to the right of it further right (pools and lanes widen), so nothing overlaps."""
    planes = [p for p in root.iter(f"{{{BPMNDI_NS}}}BPMNPlane") if p.get("bpmnElement") == sub.get("id")]
    main = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    box = shape_bounds(root, sub.get("id"))
    if not planes or main is None or not box:
        return False
    bx, by = num(box[0], "x"), num(box[0], "y")
    bw, bh = num(box[0], "width"), num(box[0], "height")
    inner = list(planes[0].iter(f"{{{DC_NS}}}Bounds", f"{{{DI_NS}}}waypoint"))
    xs = [num(b, "x") for b in inner] + [num(b, "x") + float(b.get("width") or 0) for b in inner]
    ys = [num(b, "y") for b in inner] + [num(b, "y") + float(b.get("height") or 0) for b in inner]
    if not xs:
        return False
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    room = max(0.0, width - bw)
    containers = {s.get("bpmnElement") for s in main.iter(f"{{{BPMNDI_NS}}}BPMNShape")
                  if s.get("isHorizontal") == "true"}  # pools and lanes
    for el in main.iter(f"{{{DC_NS}}}Bounds", f"{{{DI_NS}}}waypoint"):
        owner = _parent(el)
        if owner.get("bpmnElement") in containers:
            if num(el, "x") + num(el, "width") > bx:
                el.set("width", coord(num(el, "width") + room))
        elif num(el, "x") >= bx + bw:
            el.set("x", coord(num(el, "x") + room))
    dx, dy = bx - min(xs), by + bh / 2 - height / 2 - min(ys)
    for el in inner:
        el.set("x", coord(num(el, "x") + dx))
        el.set("y", coord(num(el, "y") + dy))
    for el in list(planes[0]):
        main.append(el)
    detach(_parent(planes[0]))  # the sub-process's own BPMNDiagram
    return True


def _flows(scope: etree._Element, *, source: str | None = None, target: str | None = None) -> list[etree._Element]:
    return [f for f in scope.iterfind("bpmn:sequenceFlow", NS)
            if (source is None or f.get("sourceRef") == source) and (target is None or f.get("targetRef") == target)]


def _drop(root: etree._Element, el: etree._Element) -> None:
    element_id = el.get("id")
    if element_id is not None:
        for di in root.xpath("//bpmndi:BPMNShape[@bpmnElement=$id] | //bpmndi:BPMNEdge[@bpmnElement=$id]",
                             namespaces=NS, id=element_id):
            detach(di)
    detach(el)


def _parent(el: etree._Element) -> etree._Element:
    """The parent of an element inside the definitions (a sub-process, a flow node, a drawn shape)."""
    parent = el.getparent()
    if parent is None:
        raise ValueError(f"line {el.sourceline}: {etree.QName(el).localname} has no parent")
    return parent
