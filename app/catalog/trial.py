"""The designer's dry run and version comparison, in catalog terms (forms, versions, sample data).

Why a separate module from ``designer.py``: these two never write anything; they read a diagram and
answer a question about it ("which path would a case take?", "what changed between two versions?").
"""
from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lxml import etree

from app.catalog.designer import errors_only, refusal, validate
from app.engine.connectors import BPMN_NS, NSMAP
from app.engine.dry_run import dry_run
from app.errors import ValidationFailed

_LABELS = {"userTask": "用户任务", "serviceTask": "服务任务", "sequenceFlow": "连线", "exclusiveGateway": "排他网关",
           "parallelGateway": "并行网关", "startEvent": "开始事件", "endEvent": "结束事件", "lane": "泳道",
           "intermediateCatchEvent": "中间事件", "boundaryEvent": "边界事件", "scriptTask": "脚本任务"}

_ATTR_LABELS = {"name": "名称", "sourceRef": "起点", "targetRef": "终点", "default": "默认连线"}


def default_decision(root: Path, form_key: str) -> dict[str, Any]:
    """What a clerk who agrees with everything would submit: the first choice of each choice field."""
    path = root / "forms" / f"{form_key}.json"
    if not form_key or not path.is_file():
        return {}
    schema = json.loads(path.read_text(encoding="utf-8"))
    data: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if prop.get("oneOf"):
            data[name] = prop["oneOf"][0].get("const")
    if "opinion" in schema.get("properties", {}):
        data["opinion"] = "试运行：模拟意见"
    return data


def run_trial(root: Path, code: str, xml: str, data: dict[str, Any], decisions: dict[str, Any],
              answers: dict[str, Any], timeouts: list[str] | None = None, roles: Iterable[str] = ()) -> dict[str, Any]:
    """Validate, then run with simulated decisions (a dict per task, or a list consumed visit by visit;
    tasks left out decide with their form's first choice), simulated connector answers and the timer events
    to expire ("模拟超时": an escalation or a deadline shown as taken)."""
    problems = errors_only(validate(root, code, xml, roles))
    if problems:
        raise ValidationFailed("流程图未通过校验，请先修正错误再试运行", errors={"bpmn": refusal(problems)})

    def decide(task_id: str, form_key: str, visit: int) -> dict[str, Any] | None:
        given = decisions.get(task_id)
        base = default_decision(root, form_key)  # a choice given without an opinion still has one
        if isinstance(given, list):
            return {**base, **given[visit]} if visit < len(given) and isinstance(given[visit], dict) else None
        if isinstance(given, dict):
            return {**base, **given}
        return base

    timers = set(timer_events(xml))
    unknown = [t for t in timeouts or [] if t not in timers]
    if unknown:
        raise ValidationFailed("模拟超时的计时器不存在", errors={
            "timeouts": [f"流程中没有计时器事件 {'、'.join(unknown)}（可选：{'、'.join(sorted(timers)) or '无'}）"]})
    return dry_run(xml.encode("utf-8"), code, data, decide, answers, frozenset(timeouts or ())).as_dict()


def timer_events(xml: str) -> dict[str, str]:
    """Timer events of a diagram (id → name): what the analyst may choose to expire in a dry run."""
    found = _elements(xml)
    return {i: el.get("name") or i for i, el in found.items()
            if etree.QName(el).localname in ("boundaryEvent", "intermediateCatchEvent", "startEvent")
            and el.find("bpmn:timerEventDefinition", NSMAP) is not None}


def compare(xml_a: str, xml_b: str) -> dict[str, list[dict[str, Any]]]:
    """Element-level difference between two diagrams (layout ignored): added, removed, changed."""
    a, b = _elements(xml_a), _elements(xml_b)
    added = [_describe(b[i]) for i in b if i not in a]
    removed = [_describe(a[i]) for i in a if i not in b]
    changed = []
    for i in a.keys() & b.keys():
        what = _changes(a[i], b[i])
        if what:
            changed.append({**_describe(b[i]), "changes": what})
    changed.sort(key=lambda c: c["id"])
    return {"added": added, "removed": removed, "changed": changed}


def _elements(xml: str) -> dict[str, Any]:
    try:
        root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise ValidationFailed("流程图不是有效的 XML", errors={"bpmn": [f"流程图不是有效的 XML：{exc}"]}) from exc
    found: dict[str, Any] = {}
    for process in root.iterfind("bpmn:process", NSMAP):
        for el in process.iter():
            element_id = el.get("id")
            if isinstance(el.tag, str) and etree.QName(el).namespace == BPMN_NS and element_id:
                found[element_id] = el
    return found


def _describe(el: Any) -> dict[str, Any]:
    kind = etree.QName(el).localname
    return {"id": el.get("id"), "type": kind, "type_label": _LABELS.get(kind, kind), "name": el.get("name") or ""}


def _own_content(el: Any) -> bytes:
    """The element without the elements nested in it that have their own id (compared separately)."""
    clone = copy.deepcopy(el)
    for child in list(clone.iter())[1:]:
        if child.get("id") and etree.QName(child).namespace == BPMN_NS and child.getparent() is not None:
            child.getparent().remove(child)
    for attr in list(clone.attrib):
        del clone.attrib[attr]
    return etree.tostring(clone, method="c14n")


def _changes(old: Any, new: Any) -> list[str]:
    what = []
    if etree.QName(old).localname != etree.QName(new).localname:
        what.append("类型")
    for attr in sorted((set(old.attrib) | set(new.attrib)) - {"id"}):
        if old.get(attr) != new.get(attr):
            what.append(_ATTR_LABELS.get(attr, attr))
    if _own_content(old) != _own_content(new):
        what.append("属性/条件/内容")
    return what
