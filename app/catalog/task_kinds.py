"""What each BPMN element kind does on this platform — run with defined behaviour, or refused at check time.

Why: SpiffWorkflow parses far more than the platform can run. An abstract ``bpmn:task`` or a
``manualTask`` becomes a clerk task with no form; a ``callActivity`` needs a process nobody loaded; a wait
for a message or signal nothing sends holds a case forever. Every kind SpiffWorkflow can parse is listed
here with its verdict, so a diagram is either run as documented (processes/README.md) or refused with a
Chinese message on the element — never a 500 and never a stranded case.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from app.engine.message_catalogue import describe_known, is_deliverable

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_NS = {"bpmn": BPMN_NS}

# Kinds that run as documented: (Chinese label, what the platform does with it).
SUPPORTED = {
    "userTask": "用户任务：进入泳道角色的待办，按 formKey 表单办理",
    "serviceTask": "服务任务：调用已登记的操作（部门核验、登簿、发证等）",
    "scriptTask": "脚本任务：用安全表达式语言给流程数据赋值",
    "receiveTask": "接收任务：等待平台会发送的消息（见消息目录）",
    "subProcess": "内嵌子流程：其中的步骤按同样规则运行",
    "startEvent": "开始事件：申请提交时开始（仅限无类型开始事件）",
    "endEvent": "结束事件：以办结结果结束（无类型或终止结束事件）",
    "intermediateCatchEvent": "中间捕获事件：等待计时器或平台会发送的消息",
    "intermediateThrowEvent": "中间抛出事件：仅无类型（作标记）",
    "boundaryEvent": "边界事件：计时器或平台会发送的消息",
    "exclusiveGateway": "排他网关", "parallelGateway": "并行网关", "inclusiveGateway": "包容网关",
    "eventBasedGateway": "事件网关：等待其后的第一个事件",
}
REFUSED = {
    "task": "抽象任务没有执行内容，案件会停在一个没有表单的待办上：请改为用户任务（并选择表单）、服务任务或脚本任务",
    "manualTask": "手工任务在平台上没有表单，无法办理：请改为用户任务并选择表单",
    "businessRuleTask": "平台不执行 DMN 决策表：请改用脚本任务或网关条件",
    "sendTask": "发送任务没有接收方（平台不接收流程发出的消息）：请改用服务任务调用已登记的操作",
    "callActivity": "暂不支持调用活动（调用其他流程）：请把被调用的步骤画成内嵌子流程",
    "transaction": "暂不支持事务子流程（补偿与取消事件不会触发）：请改用内嵌子流程",
    "adHocSubProcess": "暂不支持自由子流程（需要人工选择步骤）：请改用内嵌子流程并用网关画出顺序",
    "complexGateway": "暂不支持复杂网关：请改用排他网关或包容网关",
}
ACTIVITIES = frozenset({"task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask",
                        "sendTask", "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"})
_EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"})
_DEFINITION_LABELS = {
    "signalEventDefinition": "信号", "conditionalEventDefinition": "条件", "errorEventDefinition": "错误",
    "escalationEventDefinition": "升级", "compensateEventDefinition": "补偿", "cancelEventDefinition": "取消",
    "messageEventDefinition": "消息", "timerEventDefinition": "计时器", "linkEventDefinition": "链接",
    "terminateEventDefinition": "终止",
}


@dataclass(frozen=True)
class KindProblem:
    """One element the platform cannot run (``warning``: it runs, but the analyst should look)."""

    element: etree._Element
    message: str
    warning: bool = False


def kind_problems(process: etree._Element) -> list[KindProblem]:
    """Every refused element kind, event type and wait nothing can end in one executable process."""
    found: list[KindProblem] = []
    definitions = process.getroottree().getroot()
    for node in _bpmn_children(process):
        kind = etree.QName(node).localname
        if kind in REFUSED:
            found.append(KindProblem(node, REFUSED[kind]))
        elif kind == "subProcess" and node.get("triggeredByEvent") == "true":
            found.append(KindProblem(node, "暂不支持事件子流程：请把它画成边界事件后的分支"))
        if kind in ACTIVITIES and _loop_marker(node) is not None:
            found.append(KindProblem(node, "暂不支持循环或多实例标记：请用网关画出循环（循环须经过用户任务或计时器）"))
        if kind in _EVENTS:
            found.extend(_event_problems(node, kind, definitions))
        elif kind == "receiveTask":
            found.extend(_message_wait(node, node.get("messageRef"), definitions))
    for container in [process, *process.iter(f"{{{BPMN_NS}}}subProcess")]:
        starts = [n for n in container if isinstance(n.tag, str) and etree.QName(n).localname == "startEvent"]
        if container.get("triggeredByEvent") != "true" and len(starts) != 1:
            where = "流程" if container is process else "子流程"
            found.append(KindProblem(container, f"{where}应有且仅有一个开始事件，实际为 {len(starts)} 个"))
    return found


def _bpmn_children(process: etree._Element) -> Iterator[etree._Element]:
    for node in process.iter():
        if isinstance(node.tag, str) and etree.QName(node).namespace == BPMN_NS:
            yield node


def _loop_marker(node: etree._Element) -> etree._Element | None:
    for tag in ("standardLoopCharacteristics", "multiInstanceLoopCharacteristics"):
        found = node.find(f"bpmn:{tag}", _NS)
        if found is not None:
            return found
    return None


def _event_definitions(node: etree._Element) -> list[etree._Element]:
    return [c for c in node if isinstance(c.tag, str) and etree.QName(c).localname.endswith("EventDefinition")]


def _event_problems(node: etree._Element, kind: str, definitions: etree._Element) -> list[KindProblem]:
    defs = _event_definitions(node)
    if len(defs) > 1:
        return [KindProblem(node, "暂不支持多重事件（一个事件上有多个触发条件）：请拆成事件网关后的多个事件")]
    if not defs:
        return []  # none events: start, end, marker throw
    definition = defs[0]
    what = etree.QName(definition).localname
    label = _DEFINITION_LABELS.get(what, what)
    if kind == "startEvent":
        parent = node.getparent()
        in_event_subprocess = parent is not None and parent.get("triggeredByEvent") == "true"
        return [] if in_event_subprocess else [KindProblem(
            node, f"案件在申请提交时开始，{label}开始事件不会被触发：请改为无类型开始事件")]
    if kind == "endEvent":
        if what == "terminateEventDefinition":
            return []
        return [KindProblem(node, f"平台不处理{label}结束事件（没有接收方）：请改为无类型或终止结束事件")]
    if what == "linkEventDefinition":  # SpiffWorkflow 3.2 drops the link: the throw would end the path
        return [KindProblem(node, "流程引擎不支持链接事件（流程会在这里停住）：请直接画连线")]
    if kind == "intermediateThrowEvent":
        return [KindProblem(node, f"平台不处理{label}抛出事件（没有接收方）：请删除或改用服务任务")]
    # intermediateCatchEvent / boundaryEvent: a wait — accepted only when something can end it
    if what == "timerEventDefinition":
        return []
    if what == "messageEventDefinition":
        return _message_wait(node, definition.get("messageRef"), definitions)
    reason = {
        "signalEventDefinition": "平台不会发送信号",
        "conditionalEventDefinition": "条件只在流程推进时才会被重新计算，等待期间没有任何事情会让它成立",
        "errorEventDefinition": "平台的服务任务出错时不会抛出 BPMN 错误（案件转为等待核验）",
        "escalationEventDefinition": "平台不会抛出升级事件",
        "compensateEventDefinition": "平台不执行补偿",
        "cancelEventDefinition": "平台不执行事务取消",
    }.get(what, "平台不会触发此事件")
    return [KindProblem(node, f"{label}事件永远不会被触发（{reason}），案件会一直等待：请改用计时器或消息目录中的消息")]


def _message_wait(node: etree._Element, ref: str | None, definitions: etree._Element) -> list[KindProblem]:
    message = next((m for m in definitions.iterfind("bpmn:message", _NS) if m.get("id") == ref), None) \
        if ref else None
    name = message.get("name") if message is not None else None
    if not name:
        return [KindProblem(node, f"等待的消息未指定（messageRef）：可用的消息有 {describe_known()}")]
    if not is_deliverable(name):
        return [KindProblem(node, f"等待的消息“{name}”没有任何平台集成会发送，案件会一直等待"
                                  f"（可用：{describe_known()}）")]
    if not _has_timer_alternative(node):
        return [KindProblem(node, f"等待消息“{name}”没有计时器：建议加一个边界计时器或在事件网关后加计时器，"
                                  "以免对方一直不发送时案件停滞", warning=True)]
    return []


def _has_timer_alternative(node: etree._Element) -> bool:
    """A timer boundary on the waiting task, or a timer beside the wait after an event-based gateway."""
    process = node.getparent()
    node_id = node.get("id")
    if node.tag == f"{{{BPMN_NS}}}boundaryEvent":
        return True  # the host task goes on by itself; the message only diverts it
    if process is None:  # a diagram's root is no wait
        return False
    for boundary in process.iterfind("bpmn:boundaryEvent", _NS):
        if boundary.get("attachedToRef") == node_id and boundary.find("bpmn:timerEventDefinition", _NS) is not None:
            return True
    flows = list(process.iterfind("bpmn:sequenceFlow", _NS))
    sources = {f.get("sourceRef") for f in flows if f.get("targetRef") == node_id}
    by_id = {n.get("id"): n for n in process if isinstance(n.tag, str)}
    for source in sources:
        gateway = by_id.get(source)
        if gateway is None or etree.QName(gateway).localname != "eventBasedGateway":
            continue
        siblings = [by_id.get(f.get("targetRef")) for f in flows if f.get("sourceRef") == source]
        if any(s is not None and s.find("bpmn:timerEventDefinition", _NS) is not None for s in siblings):
            return True
    return False
