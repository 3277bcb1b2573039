"""The applicant's step-by-step flow (GOV.UK / 浙里办 pattern: one thing per page), planned from the type's
definition: which steps a type has and in what order. Types are data, so no step is written per type — a
type without a contract or an inquiry simply has no such step, and the materials are one step each.

The fields of the application form are split between the steps by the form's own ``x-ui`` groups: the
groups that hold a party's name or ID number are 各方, the rest is 申请信息; ``unit_code`` is chosen on its
own page (checked against the register before anything is typed)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.catalog.definitions import BusinessTypeDef
from app.form_render import form_layout

UNIT_FIELD = "unit_code"


@dataclass(frozen=True)
class Step:
    """One page of the flow. ``key`` is its address (``material-<code>`` for a material)."""

    key: str
    title: str
    done: bool = False


@dataclass(frozen=True)
class CaseProgress:
    """What the draft already holds, as far as the plan needs it."""

    form: dict[str, Any]
    needed: list[str]  # required materials (their conditions over the form decided)
    uploaded: set[str]
    excused: set[str]  # waived by shared data, or left to a check at submission
    inquiry_done: bool
    face_ok: bool  # every party the applicant is has a fresh face check (or has signed)
    signed: bool  # every party the applicant is has signed the current content


def has_unit_step(definition: BusinessTypeDef) -> bool:
    return UNIT_FIELD in definition.application_schema.get("properties", {})


def party_fields(definition: BusinessTypeDef) -> list[str]:
    """The form's fields shown on 各方: every field of a group that names a party (name, ID number, further
    members or their share); without groups, just those fields."""
    named = {f for role in definition.parties
             for f in (role.name_field, role.id_field, role.members_field, role.share_field) if f}
    fields: list[str] = []
    for group in form_layout(definition.application_schema):
        names = [f.name for f in group.fields]
        if group.title and named & set(names):
            fields += [n for n in names if n != UNIT_FIELD]
        else:
            fields += [n for n in names if n in named]
    return fields


def info_fields(definition: BusinessTypeDef) -> list[str]:
    """The form's remaining fields (申请信息), in display order."""
    taken = set(party_fields(definition)) | {UNIT_FIELD}
    return [f.name for g in form_layout(definition.application_schema) for f in g.fields if f.name not in taken]


def contract_material(definition: BusinessTypeDef) -> str | None:
    """The material the online contract becomes (its own step, not an upload)."""
    return (definition.contract or {}).get("material")


def material_steps(definition: BusinessTypeDef, progress: CaseProgress | None) -> list[Step]:
    """One page per material to upload: the required ones not excused by shared data, and any uploaded;
    never one the platform generates (``generated``)."""
    contract = contract_material(definition)
    needed = set(progress.needed) if progress else {m.code for m in definition.materials
                                                    if m.required and not m.condition}
    uploaded = progress.uploaded if progress else set()
    excused = progress.excused if progress else {m.code for m in definition.materials if m.exemptible_by
                                                 and m.exemptible_by != "none"}
    return [Step(f"material-{m.code}", m.name, m.code in uploaded) for m in definition.materials
            if m.code != contract and not m.generated  # the 申请书 is made at signing, never a page to upload
            and ((m.code in needed and m.code not in excused) or m.code in uploaded)]


def plan(definition: BusinessTypeDef, progress: CaseProgress | None = None) -> list[Step]:
    """The steps of the flow for this type (and this draft, once there is one), in order."""
    started = progress is not None
    steps = [Step("business", "选择业务", True)]
    if has_unit_step(definition):
        steps.append(Step("unit", "不动产", started))
    steps.append(Step("parties", "各方", started))
    if info_fields(definition):
        steps.append(Step("info", "申请信息", started and _filled(definition, progress, info_fields(definition))))
    steps += material_steps(definition, progress)
    code = contract_material(definition)
    if code:
        steps.append(Step("contract", "合同", bool(progress and code in progress.uploaded)))
    if definition.inquiry:
        steps.append(Step("inquiry", "询问笔录", bool(progress and progress.inquiry_done)))
    steps += [Step("check", "核对"), Step("face", "人脸核验", bool(progress and progress.face_ok)),
              Step("sign", "签名", bool(progress and progress.signed)), Step("submit", "提交")]
    return steps


def _filled(definition: BusinessTypeDef, progress: CaseProgress | None, fields: list[str]) -> bool:
    required = set(definition.application_schema.get("required", []))
    form = progress.form if progress else {}
    return all(form.get(f) not in (None, "") for f in fields if f in required)


def position(steps: list[Step], key: str) -> int:
    """1-based number of the step ``key`` (a material step not in the plan any more counts as the first
    material's place)."""
    for n, step in enumerate(steps, start=1):
        if step.key == key:
            return n
    return next((n for n, s in enumerate(steps, start=1) if s.key.startswith("material-")), 1)


def following(steps: list[Step], key: str) -> Step:
    """The step after ``key`` (the last one stays last)."""
    n = position(steps, key)
    return steps[min(n, len(steps) - 1)]


def preceding(steps: list[Step], key: str) -> Step:
    n = position(steps, key)
    return steps[max(n - 2, 0)]


def sub_schema(schema: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """The application schema cut down to one page's fields (same titles, groups and order), for the one
    form renderer."""
    props = schema.get("properties", {})
    ui = schema.get("x-ui") or {}
    groups = [{**g, "fields": [f for f in g.get("fields", []) if f in fields]} for g in ui.get("groups", [])]
    return {"type": "object", "properties": {f: props[f] for f in fields if f in props},
            "required": [f for f in schema.get("required", []) if f in fields],
            "x-ui": {"order": [f for f in ui.get("order", fields) if f in fields],
                     "groups": [g for g in groups if g["fields"]]}}
