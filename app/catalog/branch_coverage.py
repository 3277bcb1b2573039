"""The path check at publish: dry runs driven by sample data from the forms take every gateway branch.

Why: a condition can be well-formed and still never hold (``decision == "aprove"``), or hold only for data no
form can produce; a script can pass the whitelist and still fail on real data; a diagram can stop in a state
with no open task and nothing to wait for. Reading the graph cannot tell, running it can. So the designer
runs the diagram with the real engine (``app.engine.dry_run``, nothing saved, no department called) once
with every form's first choices, then once per other choice of each choice field (clerk forms and the
application form) and once per timer expiring, and reports each branch no run took, each run that failed,
and each run that stranded. Conditions that call registered functions (``tax_paid()``) depend on a
department's state, not on form data, and are left to the dry run the analyst drives.
"""
from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from app.catalog.sample_data import choices, sample_data, sample_value
from app.engine.connectors import NSMAP
from app.engine.dry_run import DryRunResult, dry_run
from app.engine.specs import parse_bpmn

MAX_RUNS = 80  # a bound on the work one validation does (each run is a few ms)
_BRANCHING = ("exclusiveGateway", "inclusiveGateway", "eventBasedGateway")


@dataclass(frozen=True)
class PathProblem:
    element: str | None
    message: str


def _offered(prop: dict[str, Any]) -> list[Any]:
    """The values a form field offers (its enum / oneOf consts, both booleans); empty for free input."""
    if prop.get("type") == "boolean":
        return [True, False]
    return [c["value"] for c in choices(prop)]


def path_problems(root: Path, code: str, xml: bytes) -> list[PathProblem]:
    """Branches no sample data takes, runs that fail and runs that strand, each on its element."""
    tree = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    forms = _task_forms(root, tree)
    application = _application_form(root, code)
    base = sample_data(application, public_only=True)  # the process sees form_public
    specs = parse_bpmn(xml, code)
    taken: set[str] = set()
    found: dict[tuple[str | None, str], PathProblem] = {}
    for data, decide, timeouts in _variants(tree, forms, application, base):
        result = dry_run(xml, code, data, decide, {}, timeouts, specs)
        taken.update(result.flows)
        for problem in _run_problems(result):
            found.setdefault((problem.element, problem.message), problem)
    for flow, text in _branches(tree):
        if flow not in taken:
            hint = f"（条件：{text}）" if text else ""
            found.setdefault((flow, "untaken"), PathProblem(
                flow, f"按各表单可选的数据试运行，没有任何一次走到这条分支{hint}：请检查条件或删除这条连线"))
    return list(found.values())


def _run_problems(result: DryRunResult) -> list[PathProblem]:
    last = result.steps[-1].element if result.steps else None
    if result.failed:
        return [PathProblem(last, f"用示例数据试运行时出错，真实案件也会在此失败：{result.stopped}")]
    if result.stranded:
        return [PathProblem(last, "用示例数据试运行时，流程在此之后停住：没有待办任务，也没有等待的计时器或消息")]
    return []


def _variants(tree: etree._Element, forms: dict[str, dict[str, Any]], application: dict[str, Any],
              base: dict[str, Any]) -> Iterator[tuple[dict[str, Any], Any, frozenset[str]]]:
    """Sample data, decision rule and timers to expire of each exploring run (the first is the plain run)."""
    def decide_with(task: str | None, field: str | None, value: Any) -> Any:
        def decide(task_id: str, form_key: str, visit: int) -> dict[str, Any] | None:
            answer = sample_data(forms.get(task_id, {}))
            if task_id == task and visit == 0 and field is not None:
                answer[field] = value
            return answer
        return decide

    runs = [(base, decide_with(None, None, None))]
    for task_id, schema in forms.items():
        for field, prop in (schema.get("properties") or {}).items():
            first = sample_value(prop, field)
            runs += [(base, decide_with(task_id, field, v)) for v in _offered(prop) if v != first]
    for field, prop in (application.get("properties") or {}).items():
        if field in base:  # personal fields never reach the process
            runs += [({**base, field: v}, decide_with(None, None, None)) for v in _offered(prop) if v != base[field]]
    # A step behind a timer (an escalation) is reached only when the timer expires: every choice again with it.
    timers = [frozenset[str]()] + [frozenset({event.get("id", "")})
                                   for t in tree.iterfind(".//bpmn:timerEventDefinition", NSMAP)
                                   if (event := t.getparent()) is not None]
    count = 0
    for timeouts in timers:
        for data, decide in runs:
            if count == MAX_RUNS:
                return
            count += 1
            yield data, decide, timeouts


def _task_forms(root: Path, tree: etree._Element) -> dict[str, dict[str, Any]]:
    forms: dict[str, dict[str, Any]] = {}
    for task in tree.iterfind(".//bpmn:userTask", NSMAP):
        key = next((p.get("value") for p in task.iterfind(".//spiffworkflow:property", NSMAP)
                    if p.get("name") == "formKey"), None)
        forms[task.get("id", "")] = _read_form(root, key)
    return forms


def _application_form(root: Path, code: str) -> dict[str, Any]:
    path = root / "processes" / code / "business.yaml"
    try:
        business = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    return _read_form(root, business.get("application_form"))


def _read_form(root: Path, key: str | None) -> dict[str, Any]:
    if not key:
        return {}
    try:
        schema = json.loads((root / "forms" / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return schema if isinstance(schema, dict) else {}


def _branches(tree: etree._Element) -> Iterator[tuple[str, str]]:
    """Outgoing flows of branching gateways, with their condition; those that ask a department are skipped."""
    by_id = {el.get("id"): el for el in tree.iter() if isinstance(el.tag, str) and el.get("id")}
    for flow in tree.iterfind(".//bpmn:sequenceFlow", NSMAP):
        source = by_id.get(flow.get("sourceRef"))
        if source is None or etree.QName(source).localname not in _BRANCHING:
            continue
        condition = flow.find("bpmn:conditionExpression", NSMAP)
        text = (condition.text or "").strip() if condition is not None else ""
        if text and _calls_function(text):
            continue
        yield flow.get("id", ""), text


def _calls_function(text: str) -> bool:
    try:
        return any(isinstance(n, ast.Call) for n in ast.walk(ast.parse(text, mode="eval")))
    except SyntaxError:
        return False
