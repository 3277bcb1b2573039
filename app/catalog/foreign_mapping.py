"""The mapping step of importing a foreign diagram: what each lane, task, end event, gateway flow and timer
of the picked pool becomes in our conventions, proposed from names and vendor hints, then chosen by the analyst.

Why proposals and not silent conversion: a lane called "Back office" or a flow called "OK?" means something
only the analyst knows. The proposal is a best guess the analyst can accept as it is (every fixture of the
OMG MIWG kind imports with the proposal alone), and every guess that could be wrong is flagged in Chinese.

A mapping is plain JSON (it round-trips through the page's form)::

    {"process": "<process id>", "default_role": "acceptor",
     "lanes": {"<lane id>": "<role code>"},
     "tasks": {"<id>": {"kind": "user", "stage": "审核", "form": "decision_review"}
               | {"kind": "service", "connector": "registry.record"}},
     "ends": {"<end event id>": "end_registered"},
     "flows": {"<flow id>": {"condition": "decision == \\"approve\\""} | {"default": true}},
     "timers": {"<timer event id>": "\\"P1D\\""}}
"""
from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from app.catalog.foreign_bpmn import BPMN_NS, NS, TASK_KINDS, ForeignDiagram, describe, refusals, wait_events
from app.engine.expressions import check_expression
from app.vocabulary import Stage

STAGE_FORMS: dict[str, str] = {Stage.ACCEPT: "decision_accept", Stage.REVIEW: "decision_review",
                               Stage.RECORD: "decision_record", Stage.CERTIFY: "decision_certify",
                               Stage.CORRECT: "correction", Stage.TAX: "decision_tax_wait"}
STAGE_ROLES: dict[str, str] = {Stage.ACCEPT: "acceptor", Stage.REVIEW: "reviewer", Stage.RECORD: "recorder",
                               Stage.CERTIFY: "certifier", Stage.CORRECT: "applicant", Stage.TAX: "reviewer"}
ROLE_STAGES = {role: stage for stage, role in reversed(STAGE_ROLES.items())}
_ROLE_WORDS = {  # stage words first: a "发证窗口" is the certifier's, not the intake window's
    "applicant": "申请人|客户|群众|办事人|citizen|customer|applicant|client|requester",
    "reviewer": "审核|审查|复核|审批|review|approv|check|examin|assess",
    "recorder": "登簿|登记簿|记载|record|registrar",
    "certifier": "缮证|发证|制证|证书|certif|issu|print",
    "team_leader": "负责人|科长|主任|领导|leader|head|chief|supervis|manager",
    "court": "法院|court",
    "acceptor": "受理|窗口|前台|收件|intake|front|reception|accept|clerk",
}
_STAGE_WORDS = ((Stage.CORRECT, "补正|补充|修改|correct|amend|rework|complete the"),
                (Stage.TAX, "完税|缴税|纳税|tax"),
                (Stage.ACCEPT, "受理|收件|接收|登记申请|intake|receiv|accept|register the|check (the )?application"),
                (Stage.RECORD, "登簿|记载|入簿|record|enter"),
                (Stage.CERTIFY, "缮证|发证|制证|证书|领证|certif|issu|print"),
                (Stage.REVIEW, "审核|审查|复核|审批|review|approv|check|verif|assess|evaluat|decid"))
_CONNECTOR_WORDS = (("registry.record", "登簿|记载登记簿|record"), ("certificates.issue", "证书|登记证明|certificate"),
                    ("identity.verify", "身份|identity"), ("marriage.verify", "婚姻|marriage"),
                    ("contract.verify", "合同|contract"), ("licence.verify", "营业执照|licen"),
                    ("tax.push_case", "税|tax"), ("results.announce", "结果|公告|announce|result"))
_OUTCOME_WORDS = (("end_withdrawn", "撤回|撤销申请|withdraw|cancel"),
                  ("end_rejected", "不予受理|拒绝受理|退件|驳回|reject|declin|not accepted"),
                  ("end_refused", "不予登记|不通过|拒绝|refus|denied|deny|fail"))
_DECISION_WORDS = (("reject", "不予|不通过|拒绝|驳回|否|^no\\b|^n$|reject|declin|invalid|denied|not ok|不符合"),
                   ("correct", "补正|补充|修改|缺|correct|incomplete|missing|rework"),
                   ("approve", "通过|同意|是|符合|齐全|予以|^yes|^y$|ok|approv|accept|valid|complete|pass"))
_DECISION_TEST = re.compile(r"""decision == (["'])(\w+)\1""")
_ISO_TIMER = re.compile(r"^(R\d*/)?(P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?|"
                        r"\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)$")
DECISION_NAMES = frozenset({"decision", "opinion", "correction_items", "reject_reasons"})


@dataclass
class Row:
    """One line of the mapping form: the foreign element and what it is proposed to become."""

    id: str
    name: str
    kind: str  # Chinese label of the foreign element kind
    note: str = ""  # why the proposal needs the analyst's eye (empty: a confident match)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Proposal:
    """What the mapping form shows and the mapping it starts from."""

    pool: str
    lanes: list[Row]
    tasks: list[Row]
    ends: list[Row]
    flows: list[Row]
    timers: list[Row]
    mapping: dict[str, Any]
    refusals: list[str] = field(default_factory=list)  # what cannot run: applying the mapping is refused


def propose(diagram: ForeignDiagram, process_id: str | None, palette: dict[str, Any],
            known_names: Iterable[str] = (), choices: Mapping[str, list[str]] | None = None) -> Proposal:
    """The proposal for one pool. ``palette``: designer.palette_vocabulary (roles with Chinese names, stages,
    forms, connectors, outcomes); ``known_names``: data a condition may read (the target type's form fields);
    ``choices``: form key → its decisions (``decision_choices``), so every decision has a way out of a gateway."""
    pool = diagram.pool(process_id)
    process = diagram.process(pool.process_id)
    roles = {r["code"]: r["name"] for r in palette["roles"]}
    forms = {f["key"] for f in palette["forms"]}
    names = DECISION_NAMES | set(known_names)
    tasks, task_map = _tasks(process, palette, forms)
    lanes, lane_map, default_role = _lanes(process, roles, task_map)
    ends, end_map = _ends(process, palette["outcomes"])
    flows, flow_map = _flows(process, names, task_map, choices or {})
    timers, timer_map = _timers(process)
    mapping = {"process": pool.process_id, "default_role": default_role, "lanes": lane_map, "tasks": task_map,
               "ends": end_map, "flows": flow_map, "timers": timer_map}
    return Proposal(pool.process_id, lanes, tasks, ends, flows, timers, mapping, refusals(process))


def mappable_tasks(process: etree._Element) -> list[etree._Element]:
    """Activities and undeliverable waits, in document order (what ``tasks`` of a mapping covers)."""
    waits = set(wait_events(process))
    return [el for el in process.iter() if isinstance(el.tag, str) and (
        (etree.QName(el).namespace == BPMN_NS and etree.QName(el).localname in TASK_KINDS) or el in waits)]


def _tasks(process: etree._Element, palette: dict[str, Any], forms: set[str]) -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    mapping: dict[str, Any] = {}
    for el in mappable_tasks(process):
        el_id = el.get("id") or ""
        kind = etree.QName(el).localname
        label = TASK_KINDS.get(kind, "等待消息的事件")
        text = f"{el.get('name') or ''} {_vendor_hints(el)}"
        connector = _match(text, _CONNECTOR_WORDS) if kind in ("serviceTask", "sendTask", "scriptTask",
                                                                 "businessRuleTask") else None
        if connector and connector in palette["connectors"]:
            mapping[el_id] = {"kind": "service", "connector": connector}
            rows.append(Row(el_id, el.get("name") or "", label, "按名称推测的接口，请确认"))
            continue
        stage = _match(text, _STAGE_WORDS)
        note = "" if stage else "未能从名称判断阶段，暂按“审核”，请确认"
        if kind in ("serviceTask", "sendTask", "scriptTask", "businessRuleTask", "callActivity", "receiveTask") \
                or label == "等待消息的事件":
            note = f"原为{label}，平台无对应接口，改为人工办理的用户任务，请确认" + ("" if stage else "及阶段")
        stage = str(stage or Stage.REVIEW)  # a plain str in the mapping (it is stored and shown as data)
        form = STAGE_FORMS[stage] if STAGE_FORMS[stage] in forms else sorted(forms)[0]
        mapping[el_id] = {"kind": "user", "stage": stage, "form": form}
        rows.append(Row(el_id, el.get("name") or "", label, note))
    return rows, mapping


def _lanes(process: etree._Element, roles: dict[str, str],
           tasks: dict[str, Any]) -> tuple[list[Row], dict[str, str], str]:
    rows: list[Row] = []
    mapping: dict[str, str] = {}
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        lane_id = lane.get("id") or ""
        refs = [r.text.strip() for r in lane.iterfind("bpmn:flowNodeRef", NS) if r.text]
        hints = " ".join(_vendor_hints(el) for el in process.iter() if el.get("id") in refs)
        role, note = _role_for(f"{lane.get('name') or ''} {hints}", roles)
        if role is None:  # the stage of the lane's first clerk task says whose work it is
            stages = [tasks[r]["stage"] for r in refs if tasks.get(r, {}).get("kind") == "user"]
            role = STAGE_ROLES.get(stages[0], "acceptor") if stages else "acceptor"
            note = "名称与角色均不相近，按泳道中任务的阶段推测，请确认"
        mapping[lane_id] = role
        rows.append(Row(lane_id, lane.get("name") or "", "泳道", note))
    first = next(iter(mapping.values()), None)
    return rows, mapping, first or "acceptor"


def _role_for(text: str, roles: dict[str, str]) -> tuple[str | None, str]:
    """A role by its Chinese name (similarity) or by the words of its work; None when nothing is close."""
    name = text.strip()
    if not name:
        return None, ""
    for code, cn in roles.items():
        if cn and (cn in name or name.split()[0] in cn):
            return code, ""
    by_words = _match(name, tuple((code, words) for code, words in _ROLE_WORDS.items() if code in roles))
    if by_words:
        return by_words, ""
    scored = sorted(((difflib.SequenceMatcher(None, name, cn).ratio(), code) for code, cn in roles.items()),
                    reverse=True)
    if scored and scored[0][0] >= 0.4:
        return scored[0][1], f"按名称相似度推测为“{roles[scored[0][1]]}”，请确认"
    return None, ""


def _ends(process: etree._Element, outcomes: list[str]) -> tuple[list[Row], dict[str, str]]:
    rows: list[Row] = []
    mapping: dict[str, str] = {}
    for el in process.iterfind("bpmn:endEvent", NS):
        el_id = el.get("id") or ""
        outcome = _match(el.get("name") or el.get("id") or "", _OUTCOME_WORDS) or "end_registered"
        mapping[el_id] = outcome if outcome in outcomes else sorted(outcomes)[0]
        note = "" if el.get("name") else "结束事件无名称，暂按“已办结”，请确认"
        rows.append(Row(el_id, el.get("name") or "", "结束事件", note))
    return rows, mapping


def _flows(process: etree._Element, names: AbstractSet[str], tasks: dict[str, Any],
           choices: Mapping[str, list[str]]) -> tuple[list[Row], dict[str, Any]]:
    """Flows leaving a diverging exclusive or inclusive gateway, and any other flow carrying a condition."""
    by_id = {el.get("id"): el for el in process.iter() if el.get("id")}
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        outgoing.setdefault(flow.get("sourceRef") or "", []).append(flow)
    rows: list[Row] = []
    mapping: dict[str, Any] = {}
    for source_id, flows in outgoing.items():
        source = by_id.get(source_id)
        gateway = source is not None and etree.QName(source).localname in ("exclusiveGateway", "inclusiveGateway")
        chosen = [f for f in flows
                  if (gateway and len(flows) > 1) or f.find("bpmn:conditionExpression", NS) is not None]
        if not chosen:
            continue
        proposed = _gateway_proposal(chosen, by_id, source, names)
        if gateway and source is not None:
            _cover_every_choice(proposed, _decision_values(process, source, by_id, tasks, choices))
        for flow in chosen:
            fid = flow.get("id") or ""
            mapping[fid], note = proposed[fid]
            original = flow.findtext("bpmn:conditionExpression", namespaces=NS) or ""
            rows.append(Row(fid, flow.get("name") or "", "连线", note,
                            {"source": describe(source) if source is not None else source_id,
                             "target": describe(by_id[flow.get("targetRef")]) if flow.get("targetRef") in by_id
                             else flow.get("targetRef"), "original": original.strip()}))
    return rows, mapping


def _gateway_proposal(chosen: list[etree._Element], by_id: dict[str | None, etree._Element],
                      source: etree._Element | None, names: AbstractSet[str]) -> dict[str, tuple[dict[str, Any], str]]:
    """flow id → (its mapping, note): the original condition when ours, else from the name or the target."""
    proposals = {f.get("id") or "": _condition_for(f, names) for f in chosen}
    default = source.get("default") if source is not None else None
    unresolved = [i for i, (c, _) in proposals.items() if c is None and i != default]
    if default is None and len(unresolved) == 1 and len(chosen) > 1:
        default = unresolved[0]
    order = ("reject", "correct", "approve") if default else ("approve", "reject", "correct")
    fallback = iter(f'decision == "{d}"' for d in order)
    out: dict[str, tuple[dict[str, Any], str]] = {}
    for flow in chosen:
        fid = flow.get("id") or ""
        condition, note = proposals[fid]
        if fid == default:
            out[fid] = ({"default": True}, "" if condition is None else note)
            continue
        by_target = _decision_by_target(by_id.get(flow.get("targetRef")))
        if condition is None and by_target:
            condition = f'decision == "{by_target}"'
            note = (f"{note}，" if note else "") + "已按连线指向的节点推测条件，请确认"
        elif condition is None:
            condition = next(fallback, 'decision == "approve"')
            note = (f"{note}，" if note else "") + "无法从连线名称推测，已按顺序暂定，请在条件中确认"
        out[fid] = ({"condition": condition}, note)
    return out


def _cover_every_choice(proposed: dict[str, tuple[dict[str, Any], str]], values: list[str]) -> None:
    """A gateway without a default must take a flow for every decision the clerk's form allows (a case with
    none stops); when the proposed conditions leave some out, the refusing flow (else the last) becomes the
    default flow."""
    if not values or any(m.get("default") for m, _ in proposed.values()):
        return
    tested = {fid: _DECISION_TEST.fullmatch(str(m.get("condition", ""))) for fid, (m, _) in proposed.items()}
    if not all(tested.values()):
        return  # conditions on other data: the analyst's to complete
    covered = {t.group(2) for t in tested.values() if t}
    missing = [v for v in values if v not in covered]
    if not missing:
        return
    pick = next((fid for fid, t in tested.items() if t and t.group(2) == "reject"), list(proposed)[-1])
    note = (f"作为默认连线，也涵盖未单独连线的办理结果（{'、'.join(missing)}），否则案件会停在网关，请确认")
    proposed[pick] = ({"default": True}, note)


def _decision_values(process: etree._Element, gateway: etree._Element, by_id: dict[str | None, etree._Element],
                     tasks: dict[str, Any], choices: Mapping[str, list[str]]) -> list[str]:
    """The decisions of the nearest clerk's task before the gateway (its form's ``decision`` choices)."""
    incoming: dict[str, list[str]] = {}
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        incoming.setdefault(flow.get("targetRef") or "", []).append(flow.get("sourceRef") or "")
    seen, queue = set(), list(incoming.get(gateway.get("id") or "", []))
    while queue:
        node = queue.pop(0)
        if node in seen:
            continue
        seen.add(node)
        task = tasks.get(node)
        if task and task.get("kind") == "user":
            return list(choices.get(str(task.get("form")), []))
        if node in by_id:  # through gateways, events and connectors to the clerk who decided
            queue.extend(incoming.get(node, []))
    return []


def decision_choices(forms_dir: Path) -> dict[str, list[str]]:
    """form key → the values of its ``decision`` field (what a clerk can decide on that form)."""
    found = {}
    for path in sorted(forms_dir.glob("*.json")):
        try:
            field = json.loads(path.read_text(encoding="utf-8")).get("properties", {}).get("decision", {})
        except (ValueError, UnicodeDecodeError, AttributeError):
            continue
        values = [c.get("const") for c in field.get("oneOf", []) if isinstance(c, dict)] or field.get("enum", [])
        if values:
            found[path.stem] = [str(v) for v in values]
    return found


def _condition_for(flow: etree._Element, names: AbstractSet[str]) -> tuple[str | None, str]:
    original = (flow.findtext("bpmn:conditionExpression", namespaces=NS) or "").strip()
    if original:
        translated = translate_condition(original)
        if translated and check_expression(translated) is None and _names_in(translated) <= names:
            return translated, "" if translated == original else f"原条件“{original}”已转换，请确认"
    foreign = f"原条件“{original}”不是平台的表达式语言" if original else ""
    decision = _match(flow.get("name") or "", _DECISION_WORDS)
    if decision:
        return f'decision == "{decision}"', f"{foreign}，已按连线名称推测条件，请确认" if foreign else ""
    return None, foreign


def _decision_by_target(target: etree._Element | None) -> str | None:
    """A flow into a refusal end event means "reject", into a correction step "correct"."""
    if target is None:
        return None
    name = target.get("name") or ""
    if etree.QName(target).localname == "endEvent":
        return "reject" if _match(name, _OUTCOME_WORDS) else None
    return "correct" if _match(name, _STAGE_WORDS) == Stage.CORRECT else None


def translate_condition(text: str) -> str | None:
    """JUEL ``${a > 1 && b}`` / FEEL ``= a > 1 and b`` to our Python-like language, None when not simple."""
    t = text.strip()
    m = re.fullmatch(r"[$#]\{(.*)\}", t, re.S)
    if m:
        t = m.group(1).strip()
    elif t.startswith("="):
        t = t[1:].strip()
    t = t.replace("&&", " and ").replace("||", " or ").replace("!==", "!=").replace("===", "==")
    t = re.sub(r"!(?!=)", " not ", t)
    t = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", re.sub(r"\bnull\b", "None", t)))
    t = re.sub(r"(?<![<>!=])=(?!=)", "==", t)  # FEEL equality
    t = " ".join(t.split())
    return t or None


def timer_expression(text: str) -> str | None:
    """An ISO 8601 duration, cycle or date as our engine's timer expression (a quoted string)."""
    t = text.strip().strip('"').strip("'")
    if _ISO_TIMER.match(t):
        return f'"{t}"'
    quoted = re.search(r'"([^"]+)"', text)  # FEEL duration("PT48H"), date and time("…")
    return timer_expression(quoted.group(1)) if quoted and quoted.group(1) != text.strip() else None


def _timers(process: etree._Element) -> tuple[list[Row], dict[str, str]]:
    rows: list[Row] = []
    mapping: dict[str, str] = {}
    for definition in process.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        event = definition.getparent()
        if event is None:  # a definition always sits in its event
            continue
        event_id = event.get("id") or ""
        spec = next((c for c in definition if isinstance(c.tag, str)), None)
        original = (spec.text or "").strip() if spec is not None else ""
        expression = timer_expression(original)
        note = "" if expression else f"原计时表达式“{original}”无法识别，暂按 1 天（\"P1D\"），请确认"
        mapping[event_id] = expression or '"P1D"'
        rows.append(Row(event_id, event.get("name") or "", "计时器事件", note,
                        {"original": original, "what": etree.QName(spec).localname if spec is not None else ""}))
    return rows, mapping


def _names_in(expression: str) -> set[str]:
    import ast

    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return {"?"}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in ("True", "False", "None")}


def _match(text: str, table: Iterable[tuple[str, str]]) -> str | None:
    low = text.lower()
    for value, words in table:
        if re.search(words, low):
            return value
    return None


def _vendor_hints(el: etree._Element) -> str:
    """Assignee / candidate groups a modeler recorded (Camunda attributes, Zeebe assignment)."""
    hints = [v for k, v in el.attrib.items() if k.endswith(("}candidateGroups", "}assignee", "}candidateUsers"))]
    hints += [v for a in el.iter() if isinstance(a.tag, str) and a.tag.endswith("assignmentDefinition")
              for k, v in a.attrib.items() if k in ("candidateGroups", "assignee")]
    return " ".join(hints)
