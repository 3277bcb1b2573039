"""Everything the case page shows, gathered from the use cases (never queried here directly): the case
summary (masked unless revealed), checklist, rule results, register page, timeline, the actor's open task
with its decisions and 常用意见, the stage screen (登簿 preview, 缮证 preview), notices and certificates."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.casefile import consent, progress
from app.casefile.access import definition_of
from app.casefile.models import Case, Task
from app.cases import inquiry, payments, receiving
from app.cases.consents import needed_consents
from app.cases.field_access import may_act
from app.cases.handling import eligible_assignees
from app.cases.inbox import completed_task_names, open_tasks_of, provisional_due
from app.cases.materials import checklist, required_codes
from app.cases.notices import notices_of_case
from app.cases.opinions import opinion_templates
from app.cases.reports import reports_of
from app.cases.sharing import snapshots
from app.cases.signing import KIND_LABELS
from app.cases.summary import show_case
from app.catalog.definitions import BusinessTypeDef
from app.catalog.diagram import diagram_svg, lane_names
from app.catalog.forms import pii_fields
from app.errors import DomainError
from app.identity.actor import Actor
from app.identity.directory import usernames
from app.registry.certificates import preview_content
from app.registry.delivery import DELIVERY_LABELS, certificates_of
from app.registry.plan_svg import plan_svg
from app.registry.preview import record_preview
from app.registry.queries import register_page
from app.right_types import NO_CERTIFICATE_RIGHTS, RIGHT_TYPES, entry_kind_name
from app.security.masking import mask_name, mask_phone
from app.vocabulary import CaseStatus, Stage

if TYPE_CHECKING:  # the session is handed in; the page composes use cases and never queries itself
    from sqlalchemy.orm import Session


def decision_options(schema: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(o["const"]), str(o.get("title", o["const"])))
            for o in schema.get("properties", {}).get("decision", {}).get("oneOf", [])]


def _fields(schema: dict[str, Any], form: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(name, title, value) of the filled fields in the form's own layout order."""
    props = schema.get("properties", {})
    order = (schema.get("x-ui") or {}).get("order") or list(props)
    names = [n for n in order if n in form] + [n for n in form if n not in order]
    return [(n, str(props.get(n, {}).get("title", n)), form[n]) for n in names]


def _checklist(definition: BusinessTypeDef, case: Case, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of 申请材料: a required item waived by shared data says so (with the department), one a
    check will still decide is 待核验 — neither is 缺."""
    required = set(required_codes(definition, case.form_public))
    waived = {w["code"]: w for w in summary.get("materials_waived", [])}
    deferred = set(summary.get("materials_deferred", []))
    by_code: dict[str, list[Any]] = {}
    for m in case.materials:
        by_code.setdefault(m.code, []).append(m)
    return [{"code": item.code, "name": item.name, "required": item.code in required,
             "waived": waived.get(item.code), "deferred": item.code in deferred,
             "generated": bool(item.generated),  # the 申请书: made by the platform (系统生成), never uploaded
             "files": by_code.get(item.code, [])} for item in checklist(definition)]


def _actionable(session: Session, actor: Actor, case: Case) -> tuple[list[Task], Task | None]:
    open_tasks = open_tasks_of(session, case.id)
    definition = definition_of(session, case)
    mine = next((t for t in open_tasks if may_act(definition, actor, t)), None)
    return open_tasks, mine


def _stage_screen(session: Session, actor: Actor, case: Case, task: Task | None) -> dict[str, Any]:
    if task is None or task.assignee_id != actor.user_id:
        return {}
    try:
        if task.stage == Stage.RECORD:
            return {"record_preview": record_preview(session, actor, case)}
        if task.stage == Stage.CERTIFY:
            right_type = (definition_of(session, case).record or {}).get("right_type")
            if not right_type or right_type in NO_CERTIFICATE_RIGHTS:
                return {"certificate_note": "本业务不发放不动产权证书或登记证明"}
            kind, content = preview_content(session, case)
            return {"certificate_preview": {"kind": kind, "rows": content.rows, "notes": content.notes or [],
                                            "plan_page": content.plan_page, "plan": plan_svg(content.plan)}}
    except DomainError as exc:
        return {"stage_error": exc.message}
    return {}


def _delivery_choice(case: Case, unmask: bool) -> dict[str, Any] | None:
    if not case.delivery_method:
        return None
    address = receiving.address_of(case)
    if address and not unmask:
        address = {"recipient": mask_name(address["recipient"]), "phone": mask_phone(address["phone"]),
                   "address": address["address"]}
    return {"label": receiving.METHODS.get(case.delivery_method), "address": address}


def _correction_form(schema: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """更正申请信息: the fields the clerk's role may edit at this stage, as a form of the shared renderer
    (personal data is never put back into an input: such fields start empty, empty = unchanged)."""
    editable = set((summary.get("field_access") or {}).get("editable", []))
    if not editable:
        return {}
    props = schema.get("properties", {})
    order = [n for n in (schema.get("x-ui") or {}).get("order") or list(props) if n in editable]
    order += sorted(editable - set(order))
    secret = pii_fields(schema)
    return {"correction_schema": {"type": "object", "properties": {n: props[n] for n in order if n in props},
                                  "x-ui": {"order": order}},
            "correction_values": {n: summary["form"].get(n) for n in order if n not in secret}}


def _diagram(session: Session, case: Case, open_tasks: list[Task]) -> dict[str, Any]:
    """The process diagram (server SVG, the no-JS form) and the element ids the bpmn-js viewer marks."""
    current = frozenset(t.task_name for t in open_tasks)
    done = frozenset(completed_task_names(session, case.id)) - current
    return {"svg": diagram_svg(session, case.process_version_id, current=current, done=done),
            "current": sorted(current), "done": sorted(done),
            "lane_names": lane_names(session, case.process_version_id)}


def case_context(session: Session, actor: Actor, case: Case, *, unmask: bool = False) -> dict[str, Any]:
    definition = definition_of(session, case)
    summary = show_case(session, actor, case, unmask=unmask)
    schema = definition.application_schema
    open_tasks, task = _actionable(session, actor, case)
    register: dict[str, Any] | None = None
    register_error = None
    if case.unit_code and actor.has("unit:read"):
        try:
            register = register_page(session, actor, case.unit_code)
        except DomainError as exc:
            register_error = exc.message
    certificates = certificates_of(session, case.id)
    names = usernames(session, (t.assignee_id for t in open_tasks))
    context: dict[str, Any] = {
        "case": case, "summary": summary, "definition": definition,
        "fields": _fields(schema, summary["form"]),
        "checklist": _checklist(definition, case, summary), "register": register, "register_error": register_error,
        "timeline": progress.timeline(session, case), "open_tasks": open_tasks, "task": task, "names": names,
        "provisional_due": provisional_due(session, open_tasks),
        "notices": notices_of_case(session, case), "certificates": certificates,
        "reports": [(r["code"], r["title"]) for r in reports_of(definition)],
        "delivery_labels": DELIVERY_LABELS, "right_labels": RIGHT_TYPES, "entry_kind_name": entry_kind_name,
        "diagram": _diagram(session, case, open_tasks),
        "verifications": [snapshots.show(snap, unmask=unmask) for snap in snapshots.snapshots_of(session, case)],
        "waivers": {w["code"]: w for w in summary.get("materials_waived", [])},
        "inquiry": inquiry.record(definition, case), "inquiry_answered_at": case.inquiry_answered_at,
        "bill": payments.statement(session, case), "signature_kinds": KIND_LABELS,
        "delivery_choice": _delivery_choice(case, unmask),
        "consents": [n.as_dict() for n in needed_consents(session, case)],
        "may_record_consent": actor.has("consent:record") and case.status == CaseStatus.ACCEPTING,
        "changes_since_review": consent.changes_since_last_review(session, case),
    }
    if task is not None and task.assignee_id == actor.user_id:
        context.update(_correction_form(schema, summary))
    if task is not None:
        form = definition.forms.get(task.form_key, {})
        context["decisions"] = decision_options(form)
        context["templates"] = opinion_templates(session, task.stage)
        context["assignees"] = eligible_assignees(session, task) if actor.has("task:assign") else []
        context.update(_stage_screen(session, actor, case, task))
    return context
