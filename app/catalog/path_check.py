"""The graph of a diagram: every path from the start reaches an end, nothing dangles, no loop runs by itself.

Why: SpiffWorkflow runs whatever it is given. A task with no outgoing flow ends the case with no outcome; a
branch that can never reach an end event strands the case; a loop made only of scripts, service tasks and
gateways spins until Spiff gives up (~500 rounds) and leaves the case at "submitted" with no task. Each
container (the process, each embedded sub-process) is checked on its own: a loop must pass through a user
task or a wait (timer, message), so that every round is one step a person or a department takes.
"""
from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from app.catalog.task_kinds import BPMN_NS, KindProblem

_NS = {"bpmn": BPMN_NS}
_NOT_NODES = frozenset({"sequenceFlow", "laneSet", "lane", "flowNodeRef", "incoming", "outgoing", "textAnnotation",
                        "association", "dataObject", "dataObjectReference", "dataStoreReference", "documentation",
                        "extensionElements", "ioSpecification", "property", "dataInputAssociation",
                        "dataOutputAssociation", "group", "category"})
_WAITS = frozenset({"userTask", "manualTask", "receiveTask", "intermediateCatchEvent"})


def graph_problems(process: etree._Element) -> list[KindProblem]:
    """Dead ends, unreachable elements (a warning) and loops without a person or a wait, per container."""
    found: list[KindProblem] = []
    for container in [process, *process.iter(f"{{{BPMN_NS}}}subProcess")]:
        found.extend(_container_problems(container))
    return found


def _container_problems(container: etree._Element) -> list[KindProblem]:
    nodes = {node_id: n for n in container if isinstance(n.tag, str) and etree.QName(n).namespace == BPMN_NS
             and etree.QName(n).localname not in _NOT_NODES and (node_id := n.get("id"))}
    succ: dict[str, set[str]] = {i: set() for i in nodes}
    incoming: set[str] = set()
    for flow in container.iterfind("bpmn:sequenceFlow", _NS):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in nodes and target in nodes:
            succ[source].add(target)
            incoming.add(target)
    for node_id, node in nodes.items():
        host = node.get("attachedToRef")
        if _kind(node) == "boundaryEvent" and host in nodes:
            succ[host].add(node_id)
            incoming.add(node_id)
    starts = [i for i, n in nodes.items() if _kind(n) == "startEvent"]
    ends = {i for i, n in nodes.items() if _kind(n) == "endEvent"}
    reachable = _closure(starts, succ)
    pred: dict[str, set[str]] = {i: set() for i in nodes}
    for source, targets in succ.items():
        for target in targets:
            pred[target].add(source)
    finishing = _closure(ends, pred)
    found: list[KindProblem] = []
    for node_id, node in nodes.items():
        kind = _kind(node)
        dangling = not succ[node_id] and kind != "endEvent"
        if node_id not in reachable:
            if node_id not in incoming and kind not in ("startEvent",):
                found.append(KindProblem(node, "未连接：没有连线进入此元素，流程永远不会到达这里", warning=True))
            elif node_id in incoming:
                found.append(KindProblem(node, "从开始事件出发到不了此元素", warning=True))
            continue
        if dangling:
            found.append(KindProblem(node, "流程走到这里就停止了：没有离开的连线（每条路径都必须到达结束事件）"))
        elif node_id not in finishing:
            found.append(KindProblem(node, "从这里出发到达不了任何结束事件，案件会停在途中"))
    found.extend(_busy_loops(nodes, succ))
    return found


def _kind(node: etree._Element) -> str:
    return etree.QName(node).localname


def _closure(seeds: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen, stack = set(seeds), list(seeds)
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _waits(node: etree._Element) -> bool:
    kind = _kind(node)
    if kind in _WAITS:
        return True
    if kind == "boundaryEvent":
        return node.find("bpmn:timerEventDefinition", _NS) is not None \
            or node.find("bpmn:messageEventDefinition", _NS) is not None
    if kind == "subProcess":  # a sub-process with a person or a wait inside stops each round
        return any(_kind(n) in _WAITS for n in node.iter() if isinstance(n.tag, str))
    return False


def _busy_loops(nodes: dict[str, etree._Element], succ: dict[str, set[str]]) -> list[KindProblem]:
    """Cycles through automatic elements only (Tarjan's strongly connected components)."""
    auto = {i for i, n in nodes.items() if not _waits(n)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(root: str) -> None:  # iterative, so a long diagram cannot hit the recursion limit
        work = [(root, iter(sorted(succ[root] & auto)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(succ[child] & auto))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)

    for node_id in sorted(auto):
        if node_id not in index:
            visit(node_id)
    found = []
    order = list(nodes)
    for component in components:
        if len(component) == 1 and component[0] not in succ[component[0]]:
            continue
        component.sort(key=order.index)
        at = next((i for i in component if "Gateway" in _kind(nodes[i])), component[0])
        names = "、".join(_label(nodes[i]) for i in component)
        found.append(KindProblem(nodes[at], f"循环只经过自动执行的元素（{names}），会不停空转："
                                            "循环必须经过用户任务或计时器"))
    return found


def _label(node: etree._Element) -> str:
    name = (node.get("name") or "").strip()
    return f"{name}（{node.get('id')}）" if name else str(node.get("id"))
