"""Checks that a process.bpmn both parses in SpiffWorkflow and follows our conventions (processes/README.md).

Why beyond SpiffWorkflow's own validation: the engine and the inboxes rely on facts Spiff does not
enforce — lanes named by role codes, user tasks carrying ``formKey``/``stage``/``dueDays``, end events
named by outcome, only registered service operators, only safe expressions. A diagram that breaks
one of them would otherwise fail in the middle of a citizen's case; here it is refused at load time
with the file, element id and line an analyst needs to fix it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from app.catalog.path_check import graph_problems
from app.catalog.spiff_messages import spiff_message
from app.catalog.task_kinds import kind_problems
from app.errors import DefinitionError

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
FORM_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # a form file name: never a path
FLOW_NODES = frozenset({
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask",
    "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess", "startEvent", "endEvent",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway",
    "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway",
})


@dataclass(frozen=True)
class UserTaskDef:
    """A clerk's or applicant's step: who (lane role), which form, which stage, how many working days."""

    id: str
    name: str
    role: str
    stage: str
    form_key: str
    due_days: int | None


@dataclass(frozen=True)
class BpmnFacts:
    """What the loader needs from a diagram; ``process_id`` is None when it could not be determined."""

    process_id: str | None
    user_tasks: list[UserTaskDef]
    form_keys: list[str]


@dataclass(frozen=True)
class Vocabulary:
    """The dictionaries a diagram is checked against (roles.yaml, stages.yaml, connector registry)."""

    roles: frozenset[str]
    stages: tuple[str, ...]  # in timeline order (stages.yaml)
    outcomes: frozenset[str]
    operators: frozenset[str]


def check_bpmn(xml: bytes, *, file: str, code: str, forms_dir: Path,
               vocab: Vocabulary) -> tuple[BpmnFacts, list[DefinitionError]]:
    """Every problem of one diagram, plus the facts (process id, user tasks) when they could be read."""
    empty = BpmnFacts(None, [], [])
    try:
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return empty, [DefinitionError(f"BPMN 文件不是合法的 XML：{exc.msg}", file=file, line=exc.lineno)]
    errors = _spiff_problems(root, file)
    processes = [p for p in root.iterfind("bpmn:process", NS) if p.get("isExecutable") == "true"]
    if len(processes) != 1:
        errors.append(DefinitionError(
            f"应有且仅有一个可执行流程（isExecutable=\"true\"），实际为 {len(processes)} 个", file=file))
        return empty, errors
    process = processes[0]
    pid = process.get("id", "")
    if pid != code:
        errors.append(_at(process, file, f"流程 id “{pid}” 应与业务类型代码 “{code}” 一致"))
    lanes = _lanes(process, file, vocab, errors)
    refused = [_at(p.element, file, p.message) for p in kind_problems(process) + graph_problems(process)
               if not p.warning]
    if refused:  # Spiff's own complaint about an element already refused here (or unplaced) is noise
        located = {e.element for e in refused}
        errors = [e for e in errors if e.element is not None and e.element not in located]
    errors.extend(refused)
    tasks, form_keys = [], []
    for node in process.iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN_NS:
            continue
        kind = etree.QName(node).localname
        # Nodes inside a sub-process may sit outside lanes, but a user task never: its lane is its role.
        in_scope = node.getparent() is process or kind == "userTask"
        if kind in FLOW_NODES and in_scope and node.get("id") not in lanes:
            errors.append(_at(node, file, "节点未放入任何泳道（每个节点都必须属于一个角色泳道）"))
        if kind == "userTask":
            task = _user_task(node, lanes.get(node.get("id", ""), ""), file, forms_dir, vocab, errors)
            if task is not None:
                tasks.append(task)
                form_keys.append(task.form_key)
        elif kind == "endEvent" and in_scope and node.get("id") not in vocab.outcomes:  # a sub-process's
            # own end event only closes the sub-process; the case's outcome is the process's end event
            errors.append(_at(node, file, f"结束事件 id 应为已定义的办结结果之一：{_list(vocab.outcomes)}"))
        elif kind == "serviceTask":
            _service_task(node, file, vocab, errors)
    errors.extend(_expression_problems(xml, file))
    # Timeline order (stages.yaml), not drawing order: designers append new shapes at the end of the file.
    tasks.sort(key=lambda t: vocab.stages.index(t.stage))
    return BpmnFacts(pid, tasks, list(dict.fromkeys(form_keys))), errors


def bpmn_warnings(xml: bytes, *, file: str = "process.bpmn") -> list[DefinitionError]:
    """What the designer shows beside the errors without blocking publish (``diagram_lint``)."""
    from app.catalog.diagram_lint import diagram_warnings

    try:
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return []
    processes = [p for p in root.iterfind("bpmn:process", NS) if p.get("isExecutable") == "true"]
    return [_at(w.element, file, w.message) for p in processes[:1] for w in diagram_warnings(root, p)]


def _spiff_problems(root: etree._Element, file: str) -> list[DefinitionError]:
    """SpiffWorkflow's XSD validation and spec building, in Chinese, with element and line.

    The executable process is built exactly as ``flask defs load`` and the designer's publish build it
    (``app.engine.specs``: the spec, every sub-process spec, the serialized form the runtime loads), so a
    diagram that passes here cannot fail there."""
    from app.engine.specs import parse_bpmn, spec_from_json, spec_to_json

    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(root, filename=file)
        for pid in parser.get_process_ids():
            parser.get_spec(pid)
        executable = [pid for p in root.iterfind("bpmn:process", NS)
                      if p.get("isExecutable") == "true" and (pid := p.get("id")) is not None]
        for pid in executable:
            spec_from_json(spec_to_json(parse_bpmn(etree.tostring(root), pid, filename=file)))
    except ValidationException as exc:
        element = exc.id or _element_at(root, exc.line_number)
        line = exc.line_number or _line_of(root, element)
        english = str(exc.args[0]) if exc.args else ""
        return [DefinitionError(f"BPMN 校验失败：{spiff_message(english, element=element)}",
                                file=file, element=element, line=int(line) if line else None)]
    except (SpiffWorkflowException, LookupError, AttributeError, TypeError, ValueError) as exc:
        # Spiff raises plain errors on some broken references (a flow to a missing node …): report them.
        return [DefinitionError(f"BPMN 解析失败：{spiff_message(str(exc))}", file=file)]
    return []


def _lanes(process: etree._Element, file: str, vocab: Vocabulary,
           errors: list[DefinitionError]) -> dict[str, str]:
    """``{flow node id: role code}`` from the lane sets; reports lanes not named by a known role."""
    lanes: dict[str, str] = {}
    found = list(process.iter(f"{{{BPMN_NS}}}lane"))
    if not found:
        errors.append(_at(process, file, "流程缺少泳道（laneSet）：每个泳道的名称须为角色代码"))
    for lane in found:
        role = (lane.get("name") or "").strip()
        if role not in vocab.roles:
            errors.append(_at(lane, file, f"泳道名称 “{role}” 不是已知的角色代码（可用：{_list(vocab.roles)}）"))
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text:
                lanes[ref.text.strip()] = role
    return lanes


def _user_task(node: etree._Element, role: str, file: str, forms_dir: Path, vocab: Vocabulary,
               errors: list[DefinitionError]) -> UserTaskDef | None:
    props = {p.get("name"): (p.get("value") or "").strip() for p in node.iterfind(
        "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)}
    before = len(errors)
    name = (node.get("name") or "").strip()
    if not name:
        errors.append(_at(node, file, "用户任务缺少名称（name），待办列表需要显示"))
    form_key, stage, due = props.get("formKey", ""), props.get("stage", ""), props.get("dueDays")
    if not form_key:
        errors.append(_at(node, file, "用户任务缺少 formKey 属性（spiffworkflow:property name=\"formKey\"）"))
    elif not FORM_KEY_PATTERN.match(form_key):
        errors.append(_at(node, file, f"formKey “{form_key}” 只能包含小写字母、数字和下划线"))
    elif not (forms_dir / f"{form_key}.json").is_file():
        errors.append(_at(node, file, f"formKey “{form_key}” 没有对应的表单文件 forms/{form_key}.json"))
    if not stage:
        errors.append(_at(node, file, "用户任务缺少 stage 属性（spiffworkflow:property name=\"stage\"）"))
    elif stage not in vocab.stages:
        errors.append(_at(node, file, f"stage “{stage}” 不是已定义的阶段（可用：{_list(vocab.stages)}）"))
    if due is not None and not re.fullmatch(r"[1-9][0-9]{0,2}", due):
        errors.append(_at(node, file, f"dueDays “{due}” 应为正整数（工作日）"))
    if len(errors) > before:
        return None
    return UserTaskDef(id=node.get("id", ""), name=name, role=role, stage=stage, form_key=form_key,
                       due_days=int(due) if due else None)


def _service_task(node: etree._Element, file: str, vocab: Vocabulary, errors: list[DefinitionError]) -> None:
    operator = node.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
    if operator is None or not operator.get("id"):
        errors.append(_at(node, file, "服务任务缺少 spiffworkflow:serviceTaskOperator（操作 id）"))
    elif operator.get("id") not in vocab.operators:
        known = _list(vocab.operators) or "无"
        errors.append(_at(node, file, f"服务任务使用了未登记的操作 {operator.get('id')}（可用：{known}）",
                          line=operator.sourceline))


def _expression_problems(xml: bytes, file: str) -> list[DefinitionError]:
    # Imported lazily: the engine package owns the expression language and imports more than we need.
    from app.engine.bpmn_check import check_bpmn_expressions

    return [DefinitionError(f"表达式不安全或无法解析：{p.expression}（{p.reason}）", file=file,
                            element=p.element_id or None, line=p.line)
            for p in check_bpmn_expressions(xml, file)]


def _at(node: etree._Element, file: str, message: str, line: int | None = None) -> DefinitionError:
    return DefinitionError(message, file=file, element=node.get("id") or None, line=line or node.sourceline)


def _element_at(root: etree._Element, line: Any) -> str | None:
    """The id of the innermost element with an id around ``line`` (the schema validator names lines only)."""
    if not line:
        return None
    at = next((el for el in root.iter() if isinstance(el.tag, str) and el.sourceline == int(line)), None)
    while at is not None and not at.get("id"):
        at = at.getparent()
    return at.get("id") if at is not None else None


def _line_of(root: etree._Element, element_id: str | None) -> int | None:
    if not element_id:
        return None
    found = root.xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None


def _list(values: frozenset[str] | tuple[str, ...]) -> str:
    return "、".join(values if isinstance(values, tuple) else sorted(values))
