"""Per-stage permissions of a business type (business.yaml ``stage_permissions``, issue 7): which roles may
act at a stage besides the lane's role, and which application fields each role sees or may correct there.

Why one module: the inbox checks (claim, complete), the case as every skin shows it (workbench page, REST
API) and the field correction all read the same rows, so a field hidden from a role is hidden everywhere and
a field a role may not edit is refused by the server, whatever the page offered.

Rules: the stage is that of the case's open tasks. Rows matching the stage and one of the actor's roles
apply; a field is hidden only if every matching row hides it, editable if any matching row allows it.
Without a matching row everything is shown read-only (the behaviour before stage permissions existed).
Applicants are not restricted: it is their own application.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile import consent, progress
from app.casefile.access import definition_of
from app.casefile.models import Case, Task
from app.catalog.definitions import BusinessTypeDef
from app.catalog.forms import pii_fields, validate_form_data
from app.errors import Conflict, PermissionDenied
from app.identity.actor import Actor
from app.registry.fees import fees_for_case
from app.security import audit
from app.vocabulary import EventKind, TaskStatus

READ_ONLY = "该字段在当前环节为只读，不能修改"


@dataclass(frozen=True)
class FieldAccess:
    stages: tuple[str, ...]
    hidden: frozenset[str]
    editable: frozenset[str]

    def as_dict(self) -> dict[str, Any]:
        return {"stages": list(self.stages), "hidden": sorted(self.hidden), "editable": sorted(self.editable)}


UNRESTRICTED = FieldAccess((), frozenset(), frozenset())


def _rows(definition: BusinessTypeDef, stages: set[str], roles: frozenset[str]) -> list[dict[str, Any]]:
    return [r for r in definition.stage_permissions or [] if r["stage"] in stages and r["role"] in roles]


def acting_roles(definition: BusinessTypeDef, stage: str, lane_role: str) -> frozenset[str]:
    """Roles that may claim and complete a task of ``stage``: the lane's role and those rows grant ``act``."""
    granted = {r["role"] for r in definition.stage_permissions or [] if r["stage"] == stage and r.get("act")}
    return frozenset(granted | {lane_role})


def may_act(definition: BusinessTypeDef, actor: Actor, task: Task) -> bool:
    return bool(acting_roles(definition, task.stage, task.role) & actor.roles)


def open_stages(session: Session, case: Case) -> tuple[str, ...]:
    stages = session.execute(select(Task.stage).where(Task.case_id == case.id,
                                                      Task.status == TaskStatus.OPEN)).scalars()
    return tuple(sorted(set(stages)))


def field_access(session: Session, actor: Actor, case: Case, definition: BusinessTypeDef | None = None,
                 stages: tuple[str, ...] | None = None) -> FieldAccess:
    """``stages``: the case's open stages (sorted) when the caller has just read them."""
    if actor.kind != "staff":
        return UNRESTRICTED
    definition = definition or definition_of(session, case)
    stages = open_stages(session, case) if stages is None else stages
    rows = _rows(definition, set(stages), actor.roles)
    if not rows:
        return FieldAccess(stages, frozenset(), frozenset())
    hidden = frozenset.intersection(*(frozenset(r.get("hidden", [])) for r in rows))
    editable = frozenset().union(*(r.get("editable", []) for r in rows)) - hidden
    return FieldAccess(stages, hidden, editable)


def restrict_summary(summary: dict[str, Any], definition: BusinessTypeDef, access: FieldAccess) -> dict[str, Any]:
    """The case summary without the hidden fields (and parties' names / ID numbers held in hidden fields)."""
    if access.hidden:
        summary["form"] = {k: v for k, v in summary["form"].items() if k not in access.hidden}
        by_role = {p.role: p for p in definition.parties}
        for party in summary["parties"]:
            role = by_role.get(party["role"])
            if role is not None and role.name_field in access.hidden:
                party["name"] = "（无权查看）"
            if role is not None and role.id_field in access.hidden:
                party["id_number"] = "（无权查看）"
    summary["field_access"] = access.as_dict()
    return summary


def correct_fields(session: Session, actor: Actor, case: Case, changes: dict[str, Any]) -> Case:
    """更正申请信息 at a stage: the assignee of the case's open task changes the fields their role may edit
    there; any other field is refused (403, per field). Fees follow the corrected values; the audit entry and
    the timeline name the fields, never their values (they may be personal data)."""
    actor.require("task:complete")
    definition = definition_of(session, case)
    access = field_access(session, actor, case, definition)
    task = session.execute(select(Task).where(Task.case_id == case.id, Task.status == TaskStatus.OPEN,
                                              Task.assignee_id == actor.user_id)).scalars().first()
    if task is None:
        raise Conflict("请先领取本案当前环节的任务，再更正申请信息", code="task_not_claimed")
    schema = definition.application_schema
    props = schema.get("properties", {})
    refused = {name: [READ_ONLY] for name in changes if name not in access.editable}
    if refused:
        refused_titles = "、".join(str(props.get(n, {}).get("title", n)) for n in refused)
        raise PermissionDenied(f"{READ_ONLY}：{refused_titles}", code="field_read_only", errors=refused)
    before = case.form_data
    changed = sorted(k for k, v in changes.items() if before.get(k) != v)
    if not changed:
        return case
    data = validate_form_data(schema, {**before, **changes})
    snapshot = consent.snapshot(case)
    secret = pii_fields(schema)
    case.form_data = data
    case.form_public = {k: v for k, v in data.items() if k not in secret}
    case.fee_items = fees_for_case(session, definition, case)
    titles = [str(props[k].get("title", k)) for k in props if k in changed]  # in the form's order
    progress.add_event(session, case, kind=EventKind.FIELDS_CORRECTED, actor=actor, stage=task.stage,
                       actor_role=task.role, message=f"{task.title}环节更正申请信息：{'、'.join(titles)}")
    audit.record(session, actor_id=actor.user_id, action="case.fields.correct", object_type="case",
                 object_id=case.id, tenant_id=case.tenant_id, after={"fields": changed, "stage": task.stage})
    # The parties signed the old values: their confirmations are void until they sign the corrected ones.
    consent.record_change(session, actor, case, snapshot, definition, source=f"{task.title}环节工作人员",
                          stage=task.stage, actor_role=task.role)
    return case

