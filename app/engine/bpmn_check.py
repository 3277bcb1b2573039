"""Static check of every expression and script in a BPMN diagram, run when a definition is loaded.

Walks the diagram XML for each place SpiffWorkflow 3.2 hands text to the script engine and runs it through
the safe language's whitelist (``app.engine.expressions``); timer texts are also parsed as Spiff would.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition as _Timer

from app.engine.connectors import NSMAP, SPIFF_NS
from app.engine.expressions import Problem, _compile
from app.errors import DefinitionError


@dataclass(frozen=True)
class ExpressionProblem:
    """One refused expression in a diagram, located well enough for an analyst to fix it."""

    file: str
    element_id: str
    line: int | None
    expression: str
    reason: str

    def as_error(self) -> DefinitionError:
        """The same problem as the typed error skins already know how to render."""
        return DefinitionError(self.reason, file=self.file, element=self.element_id or None, line=self.line)


_B, _S = "bpmn:", "spiffworkflow:"
_TEXT_SOURCES = (  # (xpath, kind) — every place SpiffWorkflow 3.2 hands text to the script engine
    (f".//{_B}sequenceFlow/{_B}conditionExpression", "eval"), (f".//{_B}scriptTask/{_B}script", "exec"),
    (f".//{_B}timerEventDefinition/{_B}timeDate", "timeDate"),
    (f".//{_B}timerEventDefinition/{_B}timeDuration", "timeDuration"),
    (f".//{_B}timerEventDefinition/{_B}timeCycle", "timeCycle"),
    (f".//{_B}extensionElements/{_S}preScript", "exec"), (f".//{_B}extensionElements/{_S}postScript", "exec"),
    (f".//{_S}messagePayload", "eval"), (f".//{_S}payloadExpression", "eval"),
    (f".//{_S}processVariableCorrelation/{_S}expression", "eval"),
    (f".//{_B}correlationPropertyRetrievalExpression/*", "eval"),
    (f".//{_B}conditionalEventDefinition/{_B}condition", "eval"),
    (f".//{_B}standardLoopCharacteristics/{_B}loopCondition", "eval"),
    (f".//{_B}multiInstanceLoopCharacteristics/{_B}loopCardinality", "eval"),
    (f".//{_B}multiInstanceLoopCharacteristics/{_B}completionCondition", "eval"),
    (f".//{_B}adHocSubProcess/{_B}completionCondition", "eval"),
)


def _parse_duration(value: str) -> Any:
    if not value.upper().startswith("P"):  # Spiff's own parser strips the P, so check it here
        raise ValueError(value)
    return _Timer.parse_iso_duration(value)


def _parse_date(value: str) -> Any:
    if not isinstance(_Timer.parse_time_or_duration(value), datetime):  # what Spiff does at runtime
        raise TypeError(value)


_TIMER_PARSERS: dict[str, Callable[[str], Any]] = {
    "timeDate": _parse_date, "timeCycle": _Timer.parse_iso_recurring_interval, "timeDuration": _parse_duration}
_TIMER_EXAMPLES = {"timeDate": '"2026-01-05T09:00:00+08:00"', "timeCycle": '"R3/PT1H"',
                   "timeDuration": '"P3D"、"PT2H"'}
_BARE_ISO = re.compile(r"^(R\d*|P(\d|T\d))")  # P3D, PT2H, R3 … written without quotes parse as names


def _owner_id(element: Any) -> str:
    """Id of the diagram element an analyst would click (flow, task, event), not of wrapper nodes."""
    for anc in element.iterancestors():
        name = etree.QName(anc)
        if name.namespace == SPIFF_NS or name.localname == "extensionElements" \
                or name.localname.endswith(("EventDefinition", "LoopCharacteristics", "RetrievalExpression")):
            continue
        if anc.get("id"):
            return str(anc.get("id"))
    return ""


def _timer_problem(body: ast.expr, kind: str) -> Problem | None:
    """Spiff evaluates timer text as an expression, so ``P3D`` must be written ``"P3D"``."""
    if isinstance(body, ast.Name) and _BARE_ISO.match(body.id):
        return f"计时器表达式是字符串，需要加引号，例如 \"{body.id}\"", 1
    if isinstance(body, ast.Constant) and isinstance(body.value, str):
        try:
            _TIMER_PARSERS[kind](body.value)
        except Exception:  # noqa: BLE001 — Spiff's parsers raise bare Exception/ValueError/AttributeError
            return f"计时器格式无效：{body.value}（示例：{_TIMER_EXAMPLES[kind]}）", 1
    return None


def check_bpmn_expressions(xml: bytes, filename: str = "process.bpmn") -> list[ExpressionProblem]:
    """Every expression/script in a diagram that the safe engine would refuse, with element and line.

    Run at load/publish so a bad diagram never reaches a case. Operator existence is not checked
    here (see ``connectors.service_operators_in``).
    """
    try:
        data = xml.encode("utf-8") if isinstance(xml, str) else xml
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as err:
        return [ExpressionProblem(filename, "", err.lineno, "", f"XML 格式错误：{err.msg}")]
    found: list[ExpressionProblem] = []
    items = [(el, el.text or "", kind, el.sourceline) for xpath, kind in _TEXT_SOURCES
             for el in root.iterfind(xpath, NSMAP)]
    items += [(p, p.get("value", ""), "eval", p.sourceline)
              for p in root.iterfind(f".//{_S}serviceTaskOperator//{_S}parameter[@value]", NSMAP)]
    for el, text, kind, line in items:
        tree, problem = _compile(text, "exec" if kind == "exec" else "eval")
        if isinstance(tree, ast.Expression) and kind in _TIMER_PARSERS:  # a tree only when there is no problem
            problem = _timer_problem(tree.body, kind)
        if problem is not None:
            where = (line + problem[1] - 1) if line else None
            found.append(ExpressionProblem(filename, _owner_id(el), where, text.strip(), problem[0]))
    return sorted(found, key=lambda p: (p.line or 0, p.element_id))
