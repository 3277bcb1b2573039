"""What each page of the step-by-step flow shows (app/portal/steps.py): the progress frame (第 n 步，共 m 步,
the back link) and the step's own content, read from the draft through the use cases' read functions."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import request, url_for

from app.casefile import consent
from app.casefile.models import Case
from app.cases import inquiry, intake, invitations, materials
from app.cases.sharing import exemptions
from app.cases.signing import FACE_VALID_FOR, parties_of
from app.catalog.definitions import BusinessTypeDef
from app.db import utcnow
from app.form_render import field_view
from app.identity.actor import Actor
from app.portal.apply import PLEDGE
from app.portal.step_plan import (
    UNIT_FIELD,
    CaseProgress,
    Step,
    contract_material,
    info_fields,
    party_fields,
    plan,
    position,
    preceding,
    sub_schema,
)
from app.registry import queries
from app.security.masking import mask_id_number, mask_name
from app.vocabulary import CaseStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def progress_of(session: Session, actor: Actor, case: Case, definition: BusinessTypeDef) -> CaseProgress:
    mine = parties_of(actor, case)
    now, digest = utcnow(), consent.content_digest(case)
    excused = {w["code"] for w in exemptions.waivers_of(session, case)}
    return CaseProgress(
        form=case.form_data, needed=materials.required_codes(definition, case.form_public),
        uploaded={m.code for m in case.materials},
        excused=excused | exemptions.deferred_codes(session, definition, case),
        inquiry_done=not inquiry.unanswered(definition, case),
        face_ok=bool(mine) and all(consent.is_current(p, digest) or (
            p.face_checked_at is not None and now - p.face_checked_at <= FACE_VALID_FOR) for p in mine),
        signed=bool(mine) and all(consent.is_current(p, digest) for p in mine))


def case_steps(session: Session, actor: Actor, case: Case, definition: BusinessTypeDef) -> list[Step]:
    return plan(definition, progress_of(session, actor, case, definition))


def step_url(case_id: str | None, code: str, key: str) -> str:
    if key == "business":
        return url_for("portal.guide", code=code)
    if case_id is None:
        return url_for("portal.begin", code=code, step=key)
    return url_for("portal.step", case_id=case_id, step=key)


def frame(steps: list[Step], key: str, back_url: str) -> dict[str, Any]:
    n = position(steps, key)
    return {"steps": steps, "step_no": n, "step_total": len(steps), "current": steps[n - 1], "back_url": back_url}


def _shown(definition: BusinessTypeDef, name: str, value: Any) -> str:
    """An answer as the applicant reads it: choice titles, 是/否, list rows joined."""
    prop = definition.application_schema.get("properties", {}).get(name, {})
    if value is True or value is False:
        return "是" if value else "否"
    if isinstance(value, list):
        return "；".join(" ".join(str(x) for x in v.values()) if isinstance(v, dict) else str(v) for v in value)
    titles = dict(field_view(name, prop, False).choices)
    return str(titles.get(value, value))


def _rows(definition: BusinessTypeDef, form: dict[str, Any], fields: list[str]) -> list[dict[str, Any]]:
    props = definition.application_schema.get("properties", {})
    return [{"label": props[f].get("title", f), "value": _shown(definition, f, form[f]), "anchor": f"f-{f}"}
            for f in fields if f in props and form.get(f) not in (None, "", [])]


def _check_sections(session: Session, case: Case, definition: BusinessTypeDef,
                    steps: list[Step]) -> list[dict[str, Any]]:
    """核对: every answer, each group with the step it is changed on."""
    form, keys = case.form_data, {s.key for s in steps}
    sections: list[dict[str, Any]] = []
    if "unit" in keys:
        rows = [{**r, "anchor": None} for r in _rows(definition, form, [UNIT_FIELD])]
        sections.append({"title": "不动产", "step": "unit", "rows": rows})  # changed as a whole on its page
    sections.append({"title": "各方", "step": "parties", "rows": _rows(definition, form, party_fields(definition))})
    if "info" in keys:
        sections.append({"title": "申请信息", "step": "info", "rows": _rows(definition, form, info_fields(definition))})
    waived = {w["code"]: w["reason"] for w in exemptions.waivers_of(session, case)}
    deferred = exemptions.deferred_codes(session, definition, case)
    counts: dict[str, int] = {}
    for m in case.materials:
        counts[m.code] = counts.get(m.code, 0) + 1
    rows = []
    for item in definition.materials:
        step = f"material-{item.code}" if f"material-{item.code}" in keys else (
            "contract" if item.code == contract_material(definition) else None)
        if item.generated:
            state = ("系统生成（生成中）" if case.application_form_due else "系统生成（已生成）" if item.code in counts
                     else "系统生成：各方签名后自动生成，无需上传")
        elif item.code in counts:
            state = f"已上传 {counts[item.code]} 份" if item.code != contract_material(definition) else "已网上生成"
        elif item.code in waived:
            state = f"免提交（{waived[item.code]}）"
        elif item.code in deferred and item.code in materials.required_codes(definition, case.form_public):
            state = "由部门共享核验，无需上传"
        elif step:
            state = "未上传"
        else:
            continue
        rows.append({"label": item.name, "value": state, "step": step})
    sections.append({"title": "材料", "step": None, "rows": rows})
    if definition.inquiry:
        sections.append({"title": "询问笔录", "step": "inquiry",
                         "rows": [{"label": line["q"], "value": line["answer"] or "未回答"}
                                  for line in inquiry.record(definition, case)]})
    return sections


def _parties(actor: Actor, case: Case) -> list[dict[str, Any]]:
    mine, digest = parties_of(actor, case), consent.content_digest(case)
    return [{"label": p.label, "mine": p in mine,
             "name": p.name if p in mine else mask_name(p.name or ""),
             "id_number": p.id_number if p in mine else mask_id_number(p.id_number or ""),
             "signed": consent.is_current(p, digest)} for p in case.parties]


def page_context(session: Session, actor: Actor, case: Case, definition: BusinessTypeDef, key: str, *,
                 values: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The template and its variables for step ``key`` of this draft; None when the type has no such step."""
    steps = case_steps(session, actor, case, definition)
    if key not in {s.key for s in steps} and not key.startswith("material-"):
        return None
    back = "check" if request.values.get("return_to") == "check" and key != "check" else preceding(steps, key).key
    context: dict[str, Any] = {
        **frame(steps, key, step_url(case.id, definition.code, back)), "name": definition.name,
        "code": definition.code, "case": {"id": case.id, "status": case.status}, "key": key,
        "step_url": lambda k: step_url(case.id, definition.code, k),
        "resign": consent.resign_notice(actor, case)}  # said before a save that voids others' signatures
    schema = definition.application_schema
    if key == "unit":  # the unit chosen, and another one to be chosen instead (app/cases/unit_change.py)
        own = [u for u in queries.own_units(session, actor) if u["unit_code"] != case.unit_code] if actor.has(
            "unit:read_own") and case.status == CaseStatus.DRAFT else []
        uploads = [{"name": m.name, "step": f"material-{m.code}"} for m in definition.materials
                   if m.code != contract_material(definition) and not m.generated
                   and any(u.code == m.code for u in case.materials)]
        return {**context, "template": "unit_chosen", "unit_code": case.unit_code, "own": own, "uploads": uploads,
                "changeable": case.status == CaseStatus.DRAFT,
                "location": case.form_data.get("location"), "typed": (values or {}).get(UNIT_FIELD, ""),
                "labels": {UNIT_FIELD: "不动产单元号"}, "links": {UNIT_FIELD: "#unit_code"}}
    if key in ("parties", "info"):
        fields = party_fields(definition) if key == "parties" else info_fields(definition)
        return {**context, **form_labels(schema, fields), "template": "form", "schema": sub_schema(schema, fields),
                "values": values if values is not None else case.form_data}
    if key.startswith("material-"):
        item = next((m for m in definition.materials if f"material-{m.code}" == key), None)
        if item is None:
            return None
        files = [{"id": m.id, "filename": m.filename, "size": m.size} for m in case.materials if m.code == item.code]
        return {**context, "template": "material", "item": item, "files": files,
                "labels": {"file": item.name}}
    if key == "contract":
        return {**context, "template": "contract", "title": (definition.contract or {}).get("title"),
                "generated": any(m.code == contract_material(definition) for m in case.materials),
                "labels": {"contract": "合同"}, "links": {"contract": "#attach-contract"}}
    if key == "inquiry":
        lines = inquiry.record(definition, case)
        if values is not None:
            lines = [{**line, "answer": values.get(line["code"], "")} for line in lines]
        return {**context, "template": "inquiry", "lines": lines,
                "labels": {line["code"]: f"问{n}" for n, line in enumerate(lines, start=1)},
                "links": {line["code"]: f"#q-{line['code']}" for line in lines}}
    mine = parties_of(actor, case)
    progress = progress_of(session, actor, case, definition)
    if key == "check":
        return {**context, "template": "check", "sections": _check_sections(session, case, definition, steps)}
    if key == "face":
        return {**context, "template": "face", "face_ok": progress.face_ok, "labels": {"face": "本人照片"},
                "links": {"face": "#face-photo"}}
    if key == "sign":
        kept = request.form if request.method == "POST" else {}
        return {**context, "template": "sign", "signed": progress.signed, "face_needed": not progress.face_ok,
                "pledge": PLEDGE, "my_name": mine[0].name if mine else "", "kept": kept,
                "labels": {"pledge": "真实性承诺", "signature": "签名", "typed_name": "签名"},
                "links": {"pledge": "#pledge", "signature": "#typed-name", "typed_name": "#typed-confirm"}}
    problems = intake.submission_problems(session, case)
    invitable = invitations.invitable_parties(case, actor)
    links = _problem_links(definition, case.id, steps, problems)
    if invitable:  # 待…确认申请并签名: the invitation form is on this page
        links["confirmations"] = "#invite-phone"
    return {**context, "template": "submit", "parties": _parties(actor, case), "problems": problems,
            "invitable": invitable, "invited": invitations.invitations_of(session, case), "invite_return_to": "steps",
            "labels": {"invite_phone": "对方手机号码", "invite_party_role": "邀请"},
            "links": {**links, "invite_phone": "#invite-phone", "invite_party_role": "#invite-role"}}


def form_labels(schema: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """The error summary's words and targets for a page of form fields (the renderer's ids are f-<name>)."""
    props = schema.get("properties", {})
    return {"labels": {f: props[f].get("title", f) for f in fields if f in props},
            "links": {f: f"#f-{f}" for f in fields}}


def _problem_links(definition: BusinessTypeDef, case_id: str, steps: list[Step],
                   problems: dict[str, list[str]]) -> dict[str, str | None]:
    """What is left before submission, each linked to the page where it is done."""
    parties = set(party_fields(definition))
    missing = next((s.key for s in steps if s.key.startswith("material-") and not s.done), None)
    links: dict[str, str | None] = {"confirmations": None, "_form": None,
                                    "materials": step_url(case_id, definition.code, missing) if missing else None,
                                    "inquiry": step_url(case_id, definition.code, "inquiry")}
    for key in problems:
        if key not in links and key in definition.application_schema.get("properties", {}):
            links[key] = step_url(case_id, definition.code, "parties" if key in parties else "info") + f"#f-{key}"
    return links
