"""Reading a BPMN diagram drawn in another modeler (Camunda, Signavio, Trisotech, bpmn.io, OMG MIWG files).

Why a reader of its own: a foreign file follows none of our conventions (no role lanes, no form keys, end
events with arbitrary ids, vendor extensions, several pools, conditions in JUEL or FEEL) but it is valid
BPMN 2.0. Before anything is mapped the file is read once here into facts the mapping step can offer to the
analyst — the pools, lanes, tasks, end events, gateway flows — and every construct the platform cannot run
at all is refused with its id and name, in Chinese.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}
MAX_FOREIGN_BYTES = 2 * 1024 * 1024

# Activities the mapping turns into a clerk's user task (stage + form) or a service task (connector).
TASK_KINDS = {"task": "任务", "userTask": "用户任务", "manualTask": "手工任务", "scriptTask": "脚本任务",
              "businessRuleTask": "业务规则任务", "sendTask": "发送任务", "receiveTask": "接收任务",
              "serviceTask": "服务任务", "callActivity": "调用活动"}
# Catch events nobody on the platform can deliver: mapped to a clerk's task that records their arrival.
WAIT_DEFINITIONS = ("messageEventDefinition", "signalEventDefinition", "conditionalEventDefinition")
UNSUPPORTED = {"complexGateway": "复杂网关", "adHocSubProcess": "自由子流程", "transaction": "事务子流程",
               "choreography": "编排", "choreographyTask": "编排任务", "subChoreography": "子编排",
               "conversation": "会话"}
REFUSED_BOUNDARY = {"messageEventDefinition": "消息", "signalEventDefinition": "信号",
                    "conditionalEventDefinition": "条件", "escalationEventDefinition": "升级",
                    "compensateEventDefinition": "补偿", "cancelEventDefinition": "取消"}
EXPORTERS = (("camunda", "Camunda Modeler"), ("zeebe", "Camunda Modeler"), ("signavio", "Signavio"),
             ("trisotech", "Trisotech"), ("bpmn.io", "bpmn.io"), ("bpmn-js", "bpmn.io"))


class ForeignDiagramError(ValueError):
    """The file cannot be imported at all; ``problems`` are Chinese, each naming the element."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


@dataclass
class Pool:
    """A process of the file, with the participant that shows it (when the file has a collaboration)."""

    process_id: str
    name: str
    participant_id: str | None
    nodes: int
    executable: bool


@dataclass
class ForeignDiagram:
    """The parsed file plus what the analyst is asked about."""

    root: etree._Element
    exporter: str
    pools: list[Pool] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)  # process id → what reading changed (folded …)

    def process(self, process_id: str) -> etree._Element:
        for p in self.root.iterfind("bpmn:process", NS):
            if p.get("id") == process_id:
                return p
        raise ForeignDiagramError([f"文件中没有编号为 {process_id} 的流程"])

    def pool(self, process_id: str | None) -> Pool:
        """The pool the analyst picked, or the one that can sensibly be meant when there is no choice yet."""
        if process_id:
            for pool in self.pools:
                if pool.process_id == process_id:
                    return pool
            raise ForeignDiagramError([f"文件中没有编号为 {process_id} 的流程（泳池）"])
        return sorted(self.pools, key=lambda p: (not p.executable, -p.nodes))[0]


def read_foreign(data: bytes, filename: str = "") -> ForeignDiagram:
    """Parse an uploaded file; refuse (ForeignDiagramError) what is not a BPMN 2.0 diagram we can map."""
    if not data or not data.strip():
        raise ForeignDiagramError(["上传的文件为空"])
    if len(data) > MAX_FOREIGN_BYTES:
        raise ForeignDiagramError(["文件过大（上限 2 MB）"])
    if filename and not filename.lower().endswith((".bpmn", ".xml", ".bpmn2")):
        raise ForeignDiagramError([f"文件 {filename} 不是 BPMN 文件（应为 .bpmn 或 .xml）"])
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    except etree.XMLSyntaxError as exc:
        raise ForeignDiagramError([f"文件不是合法的 XML（第 {exc.lineno} 行：{exc.msg}）"]) from exc
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise ForeignDiagramError(["文件不是 BPMN 2.0 流程图：根元素应为 BPMN 2.0 命名空间的 definitions"])
    diagram = ForeignDiagram(root=root, exporter=_exporter(root))
    from app.catalog.foreign_subprocess import inline_subprocesses  # it builds on this module

    names = {p.get("processRef"): (p.get("name") or "", p.get("id")) for p in root.iterfind(
        "bpmn:collaboration/bpmn:participant", NS) if p.get("processRef")}
    working = [p for p in root.iterfind("bpmn:process", NS) if any(_local(n) in _FLOW_NODE_TAGS for n in p)]
    if not working:  # only black-box pools' empty processes: nothing to run
        raise ForeignDiagramError(["文件中没有包含任何节点的流程（process），无法导入"])
    layout = _layout_problems(root)
    if layout:
        raise ForeignDiagramError(layout)
    for process in working:
        pid = process.get("id") or ""
        diagram.notes[pid] = inline_subprocesses(process)
        nodes = [n for n in process if _local(n) in _FLOW_NODE_TAGS]
        name, participant = names.get(pid, ("", None))
        diagram.pools.append(Pool(pid, name or process.get("name") or pid, participant, len(nodes),
                                  process.get("isExecutable") == "true"))
    return diagram


def refusals(process: etree._Element) -> list[str]:
    """Constructs of the picked process the platform cannot run and the mapping cannot turn into something
    that runs, each with its id and name."""
    from app.catalog.foreign_subprocess import inlining_problem

    found = []
    for el in process.iter():
        kind = _local(el)
        if kind == "subProcess":  # what is left after reading could not be folded into the process
            found.append(f"不支持的元素：{inlining_problem(el) or '嵌套的子流程'} {describe(el)}——"
                         "请在原建模工具中把其内容画入主流程")
        elif kind in UNSUPPORTED:
            found.append(f"不支持的元素：{UNSUPPORTED[kind]} {describe(el)}")
        elif kind == "boundaryEvent":
            for d, label in REFUSED_BOUNDARY.items():
                if el.find(f"bpmn:{d}", NS) is not None:
                    found.append(f"不支持的元素：{label}边界事件 {describe(el)}——平台无法投递或触发它，"
                                 "请在原建模工具中删除或改为计时器边界事件")
        elif kind == "eventBasedGateway":
            waits = [t for t in _targets(process, el) if any(t.find(f"bpmn:{d}", NS) is not None
                                                               for d in WAIT_DEFINITIONS) or _local(t) == "receiveTask"]
            if waits:
                found.append(f"不支持的元素：基于事件的网关 {describe(el)} 之后的消息/信号事件"
                             f"（{'、'.join(describe(w) for w in waits)}）无人投递，请改为排他网关或计时器")
        elif kind == "startEvent" and el.getparent() is process \
                and el.find("bpmn:timerEventDefinition", NS) is not None:
            found.append(f"不支持的元素：定时开始事件 {describe(el)}——案件由申请提交开始，请改为普通开始事件")
    starts = [s for s in process.iterfind("bpmn:startEvent", NS)]
    if len(starts) != 1:
        found.append(f"流程应有且仅有一个开始事件，实际为 {len(starts)} 个"
                     + (f"（{'、'.join(describe(s) for s in starts)}）" if starts else ""))
    return found


def describe(el: etree._Element) -> str:
    """``id（name）`` as the analyst sees it in the modeler."""
    name = (el.get("name") or "").strip()
    return f"{el.get('id')}（{name}）" if name else str(el.get("id"))


def wait_events(process: etree._Element) -> list[etree._Element]:
    """Intermediate catch events waiting for a message, signal or condition (turned into a clerk's task)."""
    return [e for e in process.iter(f"{{{BPMN_NS}}}intermediateCatchEvent")
            if any(e.find(f"bpmn:{d}", NS) is not None for d in WAIT_DEFINITIONS)]


def _layout_problems(root: etree._Element) -> list[str]:
    """The drawing (DI) is kept and later moved around: every position must be a number."""
    if root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS) is None:
        return ["文件没有布局信息（BPMNDiagram），无法在设计器中显示：请在建模工具中重新导出（含图形）"]
    found = []
    for el in root.iter(f"{{{DC_NS}}}Bounds", f"{{{DI_NS}}}waypoint"):
        keys = ("x", "y", "width", "height") if etree.QName(el).localname == "Bounds" else ("x", "y")
        try:
            [num(el, k) for k in keys]
        except (TypeError, ValueError):
            owner = el.getparent()
            owner = owner.getparent() if owner is not None and owner.get("bpmnElement") is None else owner
            shown = owner.get("bpmnElement") if owner is not None else ""
            found.append(f"布局信息（DI）第 {el.sourceline} 行不完整：{shown} 的 {etree.QName(el).localname}"
                         f" 缺少数值 {'、'.join(keys)}")
    return found[:20]


def _targets(process: etree._Element, node: etree._Element) -> list[etree._Element]:
    by_id = {el.get("id"): el for el in process.iter() if el.get("id")}
    return [by_id[f.get("targetRef")] for f in process.iter(f"{{{BPMN_NS}}}sequenceFlow")
            if f.get("sourceRef") == node.get("id") and f.get("targetRef") in by_id]


def _exporter(root: etree._Element) -> str:
    text = f"{root.get('exporter') or ''} {' '.join(str(v) for v in root.nsmap.values())}".lower()
    for key, label in EXPORTERS:
        if key in text:
            version = root.get("exporterVersion")
            return f"{label} {version}" if version and label == "Camunda Modeler" else label
    return root.get("exporter") or "未注明"


def num(el: etree._Element, attr: str) -> float:
    """A coordinate or size of the drawing (DI) as a number: ``_layout_problems`` refuses a file that lacks one,
    so the rewrite can rely on them."""
    value = el.get(attr)
    if value is None:
        raise ValueError(f"line {el.sourceline}: {etree.QName(el).localname} has no {attr}")
    return float(value)


def tag_of(el: etree._Element) -> str:
    """The element's tag (``{namespace}name``); "" for a comment or a processing instruction."""
    return el.tag if isinstance(el.tag, str) else ""


def detach(el: etree._Element) -> None:
    """Take ``el`` out of the tree (the root stays: it has no parent)."""
    parent = el.getparent()
    if parent is not None:
        parent.remove(el)


def _local(el: etree._Element) -> str:
    if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN_NS:
        return ""
    return etree.QName(el).localname


_FLOW_NODE_TAGS = frozenset({
    *TASK_KINDS, "subProcess", "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway",
    "complexGateway", "transaction", "adHocSubProcess"})
