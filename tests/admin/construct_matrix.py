# ruff: noqa: E501 — each construct is one line of BPMN text, easier to read unbroken
"""Single BPMN constructs inserted into the shipped transfer_resale diagram, for the acceptance matrix.

Each construct goes between 推送税务事项 (service_push_tax) and 受理 (task_accept) — the flow
``flow_tax_pushed`` is pointed at the construct's entry and a new flow leads from its exit to 受理 — or, for
the few that cannot sit on a path (a start event's trigger, a boundary event), is written into the diagram
directly. ``RUNS`` must publish and carry a real case to 已办结; ``REFUSED`` must be refused with a Chinese
message on the element named.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BPMN = (ROOT / "processes" / "transfer_resale" / "process.bpmn").read_text(encoding="utf-8")
XSI = 'xsi:type="bpmn:tFormalExpression"'


def insert(fragment: str, entry: str, exit_: str, lane_refs: tuple[str, ...] = (), definitions: str = "",
           exit_target: str = "task_accept") -> str:
    """The shipped diagram with ``fragment`` on the path into 受理 (ids listed in ``lane_refs`` go into the
    acceptor's lane; the fragment's own ids are prefixed m_)."""
    xml = BPMN.replace('<bpmn:sequenceFlow id="flow_tax_pushed" sourceRef="service_push_tax" targetRef="task_accept" />',
                       f'<bpmn:sequenceFlow id="flow_tax_pushed" sourceRef="service_push_tax" targetRef="{entry}" />')
    exit_flow = f'<bpmn:sequenceFlow id="m_out" sourceRef="{exit_}" targetRef="{exit_target}" />' if exit_ else ""
    xml = xml.replace("</bpmn:process>", f"{fragment}{exit_flow}</bpmn:process>", 1)
    refs = "".join(f"<bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>" for r in lane_refs)
    xml = xml.replace('<bpmn:lane id="lane_acceptor" name="acceptor">', f'<bpmn:lane id="lane_acceptor" name="acceptor">{refs}', 1)
    if definitions:
        xml = xml.replace('<bpmn:message id="message_tax_paid" name="tax_paid" />',
                          f'<bpmn:message id="message_tax_paid" name="tax_paid" />{definitions}', 1)
    assert xml != BPMN
    return xml


def single(element: str) -> str:
    """A construct of one element ``m_x`` on the path."""
    return insert(element, "m_x", "m_x", ("m_x",))


def _flow(i: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{i}" sourceRef="{source}" targetRef="{target}" />'
    return (f'<bpmn:sequenceFlow id="{i}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression {XSI}>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>')


def _script(i: str, body: str, name: str = "计算") -> str:
    return f'<bpmn:scriptTask id="{i}" name="{name}"><bpmn:script>{body}</bpmn:script></bpmn:scriptTask>'


def _split_join(kind: str, c1: str | None, c2: str | None) -> str:
    return insert(f'<bpmn:{kind} id="m_x" name="分支" />{_script("m_a", "m_a_done = 1")}{_script("m_b", "m_b_done = 1")}'
                  f'<bpmn:{kind} id="m_j" name="汇合" />' + _flow("m_f1", "m_x", "m_a", c1) + _flow("m_f2", "m_x", "m_b", c2)
                  + _flow("m_f3", "m_a", "m_j") + _flow("m_f4", "m_b", "m_j"), "m_x", "m_j", ("m_x", "m_a", "m_b", "m_j"))


RUNS: dict[str, Callable[[], str]] = {
    "scriptTask": lambda: single(_script("m_x", "m_total = 1 + 1")),
    "intermediateThrowEvent (none)": lambda: single('<bpmn:intermediateThrowEvent id="m_x" name="已推送" />'),
    "parallelGateway": lambda: _split_join("parallelGateway", None, None),
    "inclusiveGateway": lambda: _split_join("inclusiveGateway", "True", "1 == 1"),
    "subProcess (embedded)": lambda: insert(
        '<bpmn:subProcess id="m_x" name="内部核对"><bpmn:startEvent id="m_s" />'
        f'{_script("m_t", "m_checked = True", "核对")}<bpmn:endEvent id="m_e" />'
        + _flow("m_f1", "m_s", "m_t") + _flow("m_f2", "m_t", "m_e") + "</bpmn:subProcess>", "m_x", "m_x", ("m_x",)),
}

_COURT = '<bpmn:message id="m_msg" name="court_document" /><bpmn:signal id="m_sig" name="s" />' \
         '<bpmn:escalation id="m_esc" name="e" escalationCode="E1" /><bpmn:error id="m_err" name="err" errorCode="E" />'


def _boundary(definition: str) -> str:
    return insert('<bpmn:intermediateThrowEvent id="m_y" name="标记" />'
                  f'<bpmn:boundaryEvent id="m_x" name="边界" attachedToRef="task_accept">{definition}</bpmn:boundaryEvent>'
                  + _flow("m_f1", "m_x", "end_rejected"), "m_y", "m_y", ("m_x", "m_y"), _COURT)


def _catch(definition: str) -> str:
    return insert(f'<bpmn:intermediateCatchEvent id="m_x" name="等待">{definition}</bpmn:intermediateCatchEvent>',
                  "m_x", "m_x", ("m_x",), _COURT)


def _throw(definition: str) -> str:
    return insert(f'<bpmn:intermediateThrowEvent id="m_x" name="发出">{definition}</bpmn:intermediateThrowEvent>',
                  "m_x", "m_x", ("m_x",), _COURT)


def _start(definition: str) -> str:
    return BPMN.replace('<bpmn:outgoing>flow_submit</bpmn:outgoing>',
                        f'<bpmn:outgoing>flow_submit</bpmn:outgoing>{definition}', 1).replace(
        '<bpmn:message id="message_tax_paid" name="tax_paid" />', f'<bpmn:message id="message_tax_paid" name="tax_paid" />{_COURT}')


_TIMER = f'<bpmn:timerEventDefinition id="m_td"><bpmn:timeDuration {XSI}>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>'

# construct → (diagram, the element ids one of which the refusal must name)
REFUSED: dict[str, tuple[Callable[[], str], set[str]]] = {
    "task (abstract)": (lambda: single('<bpmn:task id="m_x" name="核对" />'), {"m_x"}),
    "manualTask": (lambda: single('<bpmn:manualTask id="m_x" name="线下核对" />'), {"m_x"}),
    "businessRuleTask": (lambda: single('<bpmn:businessRuleTask id="m_x" name="规则" />'), {"m_x"}),
    "sendTask": (lambda: single('<bpmn:sendTask id="m_x" name="通知" />'), {"m_x"}),
    "callActivity": (lambda: single('<bpmn:callActivity id="m_x" name="调用" calledElement="nowhere" />'), {"m_x"}),
    "transaction": (lambda: insert('<bpmn:transaction id="m_x" name="事务"><bpmn:startEvent id="m_s" /><bpmn:endEvent id="m_e" />'
                                   + _flow("m_f1", "m_s", "m_e") + "</bpmn:transaction>", "m_x", "m_x", ("m_x",)), {"m_x"}),
    "adHocSubProcess": (lambda: insert(f'<bpmn:adHocSubProcess id="m_x" name="自由">{_script("m_t", "a = 1")}'
                                       '</bpmn:adHocSubProcess>', "m_x", "m_x", ("m_x",)), {"m_x"}),
    "complexGateway": (lambda: single('<bpmn:complexGateway id="m_x" name="复杂" />'), {"m_x"}),
    "eventSubProcess": (lambda: insert(
        '<bpmn:intermediateThrowEvent id="m_y" name="标记" /><bpmn:subProcess id="m_x" name="事件子流程" triggeredByEvent="true">'
        f'<bpmn:startEvent id="m_s">{_TIMER}</bpmn:startEvent>{_script("m_t", "a = 1")}<bpmn:endEvent id="m_e" />'
        + _flow("m_f1", "m_s", "m_t") + _flow("m_f2", "m_t", "m_e") + "</bpmn:subProcess>", "m_y", "m_y", ("m_y", "m_x")), {"m_x"}),
    "receiveTask (message nothing sends)": (lambda: insert('<bpmn:receiveTask id="m_x" name="等法院文书" messageRef="m_msg" />',
                                                           "m_x", "m_x", ("m_x",), _COURT), {"m_x"}),
    "message catch (nothing sends)": (lambda: _catch('<bpmn:messageEventDefinition id="m_d" messageRef="m_msg" />'), {"m_x"}),
    "signal catch": (lambda: _catch('<bpmn:signalEventDefinition id="m_d" signalRef="m_sig" />'), {"m_x"}),
    "conditional catch": (lambda: _catch(f'<bpmn:conditionalEventDefinition id="m_d"><bpmn:condition {XSI}>'
                                         'decision == &quot;x&quot;</bpmn:condition></bpmn:conditionalEventDefinition>'), {"m_x"}),
    "link throw → link catch": (lambda: insert(
        '<bpmn:intermediateThrowEvent id="m_x" name="转到受理"><bpmn:linkEventDefinition id="m_l1" name="to_accept" />'
        '</bpmn:intermediateThrowEvent><bpmn:intermediateCatchEvent id="m_c" name="转到受理">'
        '<bpmn:linkEventDefinition id="m_l2" name="to_accept" /></bpmn:intermediateCatchEvent>',
        "m_x", "m_c", ("m_x", "m_c")), {"m_x", "m_c"}),
    "link catch without throw": (lambda: insert(
        '<bpmn:intermediateThrowEvent id="m_y" name="标记" /><bpmn:intermediateCatchEvent id="m_x" name="无来源">'
        '<bpmn:linkEventDefinition id="m_l" name="nowhere" /></bpmn:intermediateCatchEvent>' + _flow("m_f1", "m_x", "task_accept"),
        "m_y", "m_y", ("m_y", "m_x")), {"m_x"}),
    "message throw": (lambda: _throw('<bpmn:messageEventDefinition id="m_d" messageRef="m_msg" />'), {"m_x"}),
    "signal throw": (lambda: _throw('<bpmn:signalEventDefinition id="m_d" signalRef="m_sig" />'), {"m_x"}),
    "escalation throw": (lambda: _throw('<bpmn:escalationEventDefinition id="m_d" escalationRef="m_esc" />'), {"m_x"}),
    "compensation throw": (lambda: _throw('<bpmn:compensateEventDefinition id="m_d" />'), {"m_x"}),
    "timer start": (lambda: _start(_TIMER), {"start"}),
    "message start": (lambda: _start('<bpmn:messageEventDefinition id="m_d" messageRef="message_tax_paid" />'), {"start"}),
    "error boundary": (lambda: _boundary('<bpmn:errorEventDefinition id="m_d" errorRef="m_err" />'), {"m_x"}),
    "signal boundary": (lambda: _boundary('<bpmn:signalEventDefinition id="m_d" signalRef="m_sig" />'), {"m_x"}),
    "multi-instance": (lambda: single(
        '<bpmn:scriptTask id="m_x" name="多实例"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>3'
        '</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics><bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>'), {"m_x"}),
    "script loop through a gateway": (lambda: insert(
        f'<bpmn:exclusiveGateway id="m_x" name="汇合" />{_script("m_a", "m_n = 1")}<bpmn:exclusiveGateway id="m_g" name="再来" default="m_f3" />'
        + _flow("m_f1", "m_x", "m_a") + _flow("m_f2", "m_a", "m_g") + _flow("m_back", "m_g", "m_x", "m_n &lt; 1000")
        + _flow("m_f3", "m_g", "m_e"), "m_x", "", ("m_x", "m_a", "m_g", "m_e"),
    ).replace("</bpmn:process>", '<bpmn:intermediateThrowEvent id="m_e" name="出口" />'
              '<bpmn:sequenceFlow id="m_out" sourceRef="m_e" targetRef="task_accept" /></bpmn:process>'), {"m_x", "m_g"}),
    "'%9s' % decision": (lambda: single(_script("m_x", "m_label = '%9s' % decision")), {"m_x"}),
    "complex result": (lambda: single(_script("m_x", "m_root = (-1) ** 0.5")), {"m_x"}),
    "branch no data takes": (lambda: insert(
        f'<bpmn:exclusiveGateway id="m_x" name="判断" default="m_f2" />{_script("m_a", "a = 1")}'
        + _flow("m_f1", "m_x", "m_a", "1 == 2") + _flow("m_f2", "m_x", "m_j") + _flow("m_f3", "m_a", "m_j")
        + '<bpmn:exclusiveGateway id="m_j" name="汇合" />', "m_x", "m_j", ("m_x", "m_a", "m_j")), {"m_f1"}),
    "dead end": (lambda: insert('<bpmn:parallelGateway id="m_x" name="分" />' + _script("m_a", "a = 1", "无去处")
                                + _flow("m_f1", "m_x", "m_a"), "m_x", "m_x", ("m_x", "m_a")), {"m_a"}),
}
