"""Applying the analyst's mapping to a foreign diagram: the result is a diagram in our conventions
(processes/README.md), checked by the designer's own validation and kept as the type's draft.

Why a rewrite and not a copy with attributes added: the engine reads lanes as roles, user tasks' spiffworkflow
properties, end event ids as outcomes and conditions in its safe language; a vendor's data associations,
multi-instance settings or message events would either be dropped silently by the parser or fail in a real
case. So the picked pool is rewritten element by element, everything the engine would misread is removed
(each removal reported in ``notes``) and the layout (DI) is kept for what remains.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from app.catalog.foreign_bpmn import (
    BPMN_NS,
    BPMNDI_NS,
    DC_NS,
    DI_NS,
    NS,
    SPIFF_NS,
    XSI_NS,
    ForeignDiagram,
    ForeignDiagramError,
    describe,
    detach,
    refusals,
    tag_of,
)
from app.catalog.foreign_events import definition_label, drop_error_paths, join_links, map_events
from app.catalog.foreign_layout import (
    canonical,
    coord,
    extent,
    lane_around,
    lane_shape,
    redirect_edges,
    remove_with_di,
    resize_shape,
)
from app.catalog.foreign_mapping import mappable_tasks

KEEP_NS = frozenset({BPMN_NS, BPMNDI_NS, DC_NS, DI_NS, SPIFF_NS})
# Inside a task: what only a vendor's engine reads (inputs, loops, performers) and our engine would misread.
_DROPPED_CHILDREN = ("ioSpecification", "dataInputAssociation", "dataOutputAssociation", "property",
                     "multiInstanceLoopCharacteristics", "standardLoopCharacteristics", "potentialOwner",
                     "humanPerformer", "performer", "resourceRole", "rendering")
_DROPPED_ELEMENTS = ("dataStoreReference", "dataStore", "dataInput", "dataOutput", "inputSet", "outputSet")
_END_KEPT = ("terminateEventDefinition",)
_TASK_SIZE = (100.0, 80.0)


@dataclass
class Converted:
    """The diagram in our conventions, what was changed on the way, and the problems the mapping left."""

    xml: str
    notes: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)  # {element, message} as the designer shows them

    def problem(self, el: etree._Element, message: str) -> None:
        self.problems.append({"element": el.get("id"), "message": message})


def convert(diagram: ForeignDiagram, mapping: dict[str, Any], code: str, type_name: str) -> Converted:
    """Apply ``mapping`` (see app/catalog/foreign_mapping.py) to the pool it names; refuse what cannot run."""
    root = copy.deepcopy(diagram.root)
    work = ForeignDiagram(root=root, exporter=diagram.exporter, pools=diagram.pools)
    pool = work.pool(mapping.get("process"))
    process = work.process(pool.process_id)
    refused = refusals(process)
    if refused:
        raise ForeignDiagramError(refused)
    out = Converted(xml="")
    if diagram.exporter:
        out.notes.append(f"来源：{diagram.exporter}")
    out.notes.extend(diagram.notes.get(pool.process_id, []))
    _keep_only_pool(root, process, pool.participant_id, out)
    _strip_vendor(root, out)
    _drop_engine_specific(process, out)
    drop_error_paths(process, out)
    _map_tasks(process, mapping.get("tasks") or {}, out)
    join_links(process, out)
    map_events(process, out)
    _map_ends(process, mapping.get("ends") or {}, out)
    _map_flows(process, mapping.get("flows") or {}, out)
    _map_timers(process, mapping.get("timers") or {}, out)
    process.set("id", code)
    process.set("isExecutable", "true")
    process.set("name", type_name)
    _ensure_collaboration(root, process, pool.participant_id, code, type_name)
    _map_lanes(process, mapping, code, out)
    _remove_dangling(root)
    root.set("targetNamespace", f"http://bdcdj.example/bpmn/{code}")  # as the shipped diagrams
    root.attrib.pop(f"{{{XSI_NS}}}schemaLocation", None)
    root.set("exporter", "bdcdj foreign import")
    root.set("exporterVersion", "1.0")
    out.xml = canonical(root)
    return out


def _keep_only_pool(root: etree._Element, process: etree._Element, participant: str | None, out: Converted) -> None:
    for other in root.iterfind("bpmn:process", NS):
        if other is not process:
            root.remove(other)
    for collab in root.iterfind("bpmn:collaboration", NS):
        others = [p for p in collab.iterfind("bpmn:participant", NS) if p.get("id") != participant]
        flows = collab.findall("bpmn:messageFlow", NS)
        for el in others + flows:
            collab.remove(el)
        if others or flows:
            out.notes.append(f"只导入所选泳池；已移除其他泳池 {len(others)} 个、消息流 {len(flows)} 条")


def _strip_vendor(root: etree._Element, out: Converted) -> None:
    """Vendor attributes and extension elements (camunda:, zeebe:, signavio:, trisotech:, colours …)."""
    removed: set[str] = set()
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            if isinstance(el, etree._Comment | etree._ProcessingInstruction):
                detach(el)
            continue
        ns = etree.QName(el).namespace
        if ns not in KEEP_NS:
            removed.add(_prefix(root, ns))
            detach(el)
            continue
        for attr in list(el.attrib):
            attr_ns = etree.QName(attr).namespace
            if attr_ns and attr_ns != XSI_NS:
                removed.add(_prefix(root, attr_ns))
                del el.attrib[attr]
    for ext in list(root.iter(f"{{{BPMN_NS}}}extensionElements", f"{{{DI_NS}}}extension")):
        if len(ext) == 0:
            detach(ext)
    if removed:
        out.notes.append(f"已移除建模工具的扩展属性和元素（{'、'.join(sorted(removed))}）")


def _drop_engine_specific(process: etree._Element, out: Converted) -> None:
    dropped = 0
    for el in list(process.iter()):
        if isinstance(el.tag, str) and etree.QName(el).localname in _DROPPED_CHILDREN + _DROPPED_ELEMENTS \
                and etree.QName(el).namespace == BPMN_NS:
            detach(el)
            dropped += 1
    if dropped:
        out.notes.append(f"已移除 {dropped} 个只对原引擎有意义的设置（数据输入输出、数据存储、多实例、执行人等）")


def _map_tasks(process: etree._Element, tasks: dict[str, Any], out: Converted) -> None:
    for el in mappable_tasks(process):
        choice = tasks.get(el.get("id") or "")
        if not isinstance(choice, dict) or choice.get("kind") not in ("user", "service"):
            out.problem(el, f"{describe(el)} 未选择映射方式（用户任务或服务任务）")
            continue
        was_event = etree.QName(el).localname.endswith("Event")
        el.tag = f"{{{BPMN_NS}}}{'userTask' if choice['kind'] == 'user' else 'serviceTask'}"
        for attr in ("implementation", "calledElement", "instantiate", "messageRef", "operationRef", "scriptFormat"):
            el.attrib.pop(attr, None)
        for child in list(el):
            if etree.QName(child).localname in ("extensionElements", "script") \
                    or tag_of(child).endswith("EventDefinition"):
                el.remove(child)
        ext = etree.Element(f"{{{BPMN_NS}}}extensionElements")
        el.insert(_after_documentation(el), ext)
        if choice["kind"] == "user":
            if not (el.get("name") or "").strip():
                el.set("name", str(choice.get("stage") or "办理"))
                out.notes.append(f"任务 {el.get('id')} 无名称，已以阶段名“{el.get('name')}”命名")
            props = etree.SubElement(ext, f"{{{SPIFF_NS}}}properties")
            for key, value in (("formKey", choice.get("form")), ("stage", choice.get("stage")),
                               ("dueDays", choice.get("due_days"))):
                if value not in (None, ""):
                    etree.SubElement(props, f"{{{SPIFF_NS}}}property", name=key, value=str(value))
        else:
            operator = etree.SubElement(ext, f"{{{SPIFF_NS}}}serviceTaskOperator",
                                        id=str(choice.get("connector") or ""), resultVariable=f"{el.get('id')}_result")
            etree.SubElement(operator, f"{{{SPIFF_NS}}}parameters")
        if was_event:
            resize_shape(el.getroottree().getroot(), el.get("id"), _TASK_SIZE)




def _map_ends(process: etree._Element, ends: dict[str, str], out: Converted) -> None:
    renames: dict[str, str] = {}
    first: dict[str, str] = {}  # outcome → original id of the end event that keeps it
    root = process.getroottree().getroot()
    for el, old in [(e, e.get("id") or "") for e in process.iterfind("bpmn:endEvent", NS)]:
        outcome = ends.get(old)
        if not outcome:
            out.problem(el, f"结束事件 {describe(el)} 未选择办结结果")
            continue
        for d in [c for c in el if tag_of(c).endswith("EventDefinition") and etree.QName(c).localname not in _END_KEPT]:
            el.remove(d)
            out.notes.append(f"结束事件 {describe(el)} 的{definition_label(d)}定义已移除")
        if outcome in first:  # a second end with the same outcome: its flows go to the first
            renames[old] = outcome
            redirect_edges(root, old, first[outcome])
            remove_with_di(el)
            out.notes.append(f"结束事件 {describe(el)} 与另一个同为“{outcome}”的结束事件合并")
            continue
        for other in root.xpath("//*[@id=$id]", id=outcome):
            if other is not el:  # an unrelated element already carries the outcome's id
                renames[outcome] = f"{outcome}_orig"
                other.set("id", f"{outcome}_orig")
        renames[old], first[outcome] = outcome, old
        el.set("id", outcome)
    _rename_refs(process.getroottree().getroot(), renames)
    target = {v for v in renames.values()}
    for end in process.iterfind("bpmn:endEvent", NS):
        if end.get("id") in target:
            incoming = [f.get("id") for f in process.iterfind("bpmn:sequenceFlow", NS)
                        if f.get("targetRef") == end.get("id")]
            for child in end.findall("bpmn:incoming", NS):
                end.remove(child)
            for i, fid in enumerate(incoming):
                ref = etree.Element(f"{{{BPMN_NS}}}incoming")
                ref.text = fid
                end.insert(_after_documentation(end) + i, ref)


def _map_flows(process: etree._Element, flows: dict[str, Any], out: Converted) -> None:
    by_id = {el.get("id"): el for el in process.iter() if el.get("id")}
    defaults: set[str] = set()  # flows the analyst made default
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        source = by_id.get(flow.get("sourceRef"))
        old = flow.find("bpmn:conditionExpression", NS)
        if old is not None:
            flow.remove(old)
        if source is not None and etree.QName(source).localname == "parallelGateway":
            continue
        choice = flows.get(flow.get("id") or "")
        if not isinstance(choice, dict):
            if old is not None or (source is not None and _diverging_choice(process, source)):
                out.problem(flow, f"连线 {describe(flow)} 缺少条件或默认连线设置")
            continue
        if choice.get("default") and source is not None:
            if source.get("default") in defaults:
                out.problem(flow, f"网关 {describe(source)} 只能有一条默认连线（另一条是 {source.get('default')}）")
            source.set("default", flow.get("id") or "")
            defaults.add(flow.get("id") or "")
        elif str(choice.get("condition") or "").strip():
            cond = etree.SubElement(flow, f"{{{BPMN_NS}}}conditionExpression")
            cond.set(f"{{{XSI_NS}}}type", "bpmn:tFormalExpression")
            cond.text = str(choice["condition"]).strip()
        else:
            out.problem(flow, f"连线 {describe(flow)} 的条件为空")
    for gateway in process.iter():  # a default the file had but the analyst turned into a condition goes
        default = gateway.get("default")
        if default and (default not in by_id or (default in flows and default not in defaults)):
            del gateway.attrib["default"]


def _map_timers(process: etree._Element, timers: dict[str, str], out: Converted) -> None:
    for definition in process.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        event = definition.getparent()
        if event is None:  # a definition always sits in its event
            continue
        expression = str(timers.get(event.get("id") or "") or "").strip()
        spec = next((c for c in definition if isinstance(c.tag, str)), None)
        if not expression or spec is None:
            out.problem(event, f"计时器事件 {describe(event)} 缺少计时表达式")
            continue
        spec.text = expression
        spec.set(f"{{{XSI_NS}}}type", "bpmn:tFormalExpression")


def _map_lanes(process: etree._Element, mapping: dict[str, Any], code: str, out: Converted) -> None:
    lanes = list(process.iter(f"{{{BPMN_NS}}}lane"))
    default_role = str(mapping.get("default_role") or "")
    chosen = mapping.get("lanes") or {}
    if not lanes:
        lane_set = etree.Element(f"{{{BPMN_NS}}}laneSet", id=f"laneset_{code}")
        process.insert(_after_documentation(process), lane_set)
        lane_id = f"lane_{default_role or 'role'}"
        lane = etree.SubElement(lane_set, f"{{{BPMN_NS}}}lane", id=lane_id, name=default_role)
        lanes = [lane]
        lane_shape(process.getroottree().getroot(), lane_id)
        out.notes.append(f"原图没有泳道：已新建泳道“{default_role}”并放入全部节点")
        chosen = {lane_id: default_role}
    for lane in lanes:
        role = str(chosen.get(lane.get("id")) or "")
        if not role:
            out.problem(lane, f"泳道 {describe(lane)} 未选择角色")
        lane.set("name", role)
    placed = {r.text.strip() for r in process.iter(f"{{{BPMN_NS}}}flowNodeRef") if r.text}
    leaves = [lane for lane in lanes if lane.find("bpmn:childLaneSet", NS) is None]
    for node in process:
        if etree.QName(node).localname in _FLOW_NODES and node.get("id") not in placed:
            around = lane_around(process.getroottree().getroot(), node.get("id"), leaves)
            lane = around if around is not None else leaves[0]
            ref = etree.Element(f"{{{BPMN_NS}}}flowNodeRef")
            ref.text = node.get("id")
            children = lane.findall("bpmn:flowNodeRef", NS)
            lane.insert(lane.index(children[-1]) + 1 if children else len(lane), ref)


def _ensure_collaboration(root: etree._Element, process: etree._Element, participant: str | None,
                          code: str, type_name: str) -> None:
    collab = root.find("bpmn:collaboration", NS)
    if collab is not None and participant:
        for p in collab.iterfind("bpmn:participant", NS):
            p.set("processRef", code)
            p.set("name", type_name)
        return
    if collab is None:
        collab = etree.Element(f"{{{BPMN_NS}}}collaboration", id=f"collab_{code}")
        root.insert(root.index(process), collab)
    pid = f"participant_{code}"
    etree.SubElement(collab, f"{{{BPMN_NS}}}participant", id=pid, name=type_name, processRef=code)
    plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    if plane is None:
        return
    plane.set("bpmnElement", collab.get("id") or "")
    x1, y1, x2, y2 = extent(plane)
    shape = etree.Element(f"{{{BPMNDI_NS}}}BPMNShape", id=f"{pid}_di", bpmnElement=pid, isHorizontal="true")
    etree.SubElement(shape, f"{{{DC_NS}}}Bounds", x=coord(x1 - 70), y=coord(y1 - 40), width=coord(x2 - x1 + 110),
                     height=coord(y2 - y1 + 80))
    plane.insert(0, shape)




def _remove_dangling(root: etree._Element) -> None:
    """Associations, DI shapes and edges whose element is gone (other pools, merged ends, data stores)."""
    ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    for el in list(root.iter(f"{{{BPMN_NS}}}association", f"{{{BPMN_NS}}}sequenceFlow")):
        if el.get("sourceRef") not in ids or el.get("targetRef") not in ids:
            detach(el)
    for di in list(root.iter(f"{{{BPMNDI_NS}}}BPMNShape", f"{{{BPMNDI_NS}}}BPMNEdge")):
        if di.get("bpmnElement") not in ids:
            detach(di)
    ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    for ref in list(root.iter(f"{{{BPMN_NS}}}incoming", f"{{{BPMN_NS}}}outgoing", f"{{{BPMN_NS}}}flowNodeRef")):
        if (ref.text or "").strip() not in ids:
            detach(ref)
    seen: set[str] = set()  # a merged end event was in two lanes: it stays in the first
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        if lane.find("bpmn:childLaneSet", NS) is not None:
            continue
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            if (ref.text or "").strip() in seen:
                lane.remove(ref)
            seen.add((ref.text or "").strip())


def _rename_refs(root: etree._Element, renames: dict[str, str]) -> None:
    if not renames:
        return
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("sourceRef", "targetRef", "bpmnElement", "default", "attachedToRef"):
            old = el.get(attr)
            if old is not None and old in renames:
                el.set(attr, renames[old])
        ref = (el.text or "").strip()
        if etree.QName(el).localname in ("incoming", "outgoing", "flowNodeRef") and ref in renames:
            el.text = renames[ref]












def _diverging_choice(process: etree._Element, source: etree._Element) -> bool:
    if etree.QName(source).localname not in ("exclusiveGateway", "inclusiveGateway"):
        return False
    return sum(1 for f in process.iter(f"{{{BPMN_NS}}}sequenceFlow") if f.get("sourceRef") == source.get("id")) > 1


def _after_documentation(el: etree._Element) -> int:
    return sum(1 for c in el if isinstance(c.tag, str) and etree.QName(c).localname in ("documentation",
                                                                                          "extensionElements"))




def _prefix(root: etree._Element, ns: str | None) -> str:
    return next((p for p, u in root.nsmap.items() if u == ns and p), ns or "")




_FLOW_NODES = frozenset({
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask",
    "callActivity", "subProcess", "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway"})
