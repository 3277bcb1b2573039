"""申请 in the portal: the form generated from the type's JSON Schema (the shared renderer), pre-filled from
the verified identity; then materials per checklist, each party's confirmation with the truthfulness
pledge, and submission. Every step saves: the draft is there to come back to."""
from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie_session
from werkzeug.wrappers import Response

from app.casefile import consent
from app.casefile.access import definition_of, get_case, is_party
from app.casefile.models import Case, Party
from app.cases import inquiry, intake, invitations, materials
from app.cases.signing import FACE_VALID_FOR, KIND_LABELS, parties_of
from app.cases.summary import case_summary
from app.catalog.definitions import BusinessTypeDef
from app.catalog.guide import service_guide
from app.catalog.service import current_version, version_definition
from app.db import utcnow
from app.errors import Conflict, PermissionDenied, RuleRefused, ValidationFailed
from app.form_render import posted_values
from app.identity.actor import Actor
from app.pages import login_required, page_actor, refused
from app.portal import bp
from app.portal.account import verified_required
from app.registry import queries
from app.registry.rules import blocking, unit_precheck
from app.vocabulary import EDITABLE_STATUSES, CaseStatus
from app.web import db_session, keep_writes_on_error, settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

PLEDGE = "本人承诺：所填信息和所提交的材料真实、合法、有效，如有虚假，愿承担相应法律责任。"


def _form_values(schema: dict[str, Any]) -> dict[str, Any]:
    return posted_values(schema, request.form)


def _schema(definition: BusinessTypeDef) -> dict[str, Any]:
    return definition.application_schema



def _navigation_origin(code: str) -> tuple[str, str] | None:
    """The national entrance's link navigation that brought the person here for this type (kept in the session
    by /federation/arrive): the draft takes it as its origin, so its progress goes back there (issue 20)."""
    origin = cookie_session.get("federation_origin")
    if not isinstance(origin, dict) or origin.get("type") != code:
        return None
    if not origin.get("platform") or not origin.get("ref"):
        return None
    return str(origin["platform"]), str(origin["ref"])


def create_draft(session: Session, actor: Actor, code: str,
                 values: dict[str, Any]) -> tuple[Case | None, dict[str, list[str]]]:
    """The draft, or the errors to show on the page (both the one-page form and the steps begin here)."""
    try:
        origin = _navigation_origin(code)
        case = intake.create_application(session, actor, code, values, origin=origin)
        if origin is not None:  # one navigation, one application
            cookie_session.pop("federation_origin", None)
        return case, {}
    except ValidationFailed as exc:
        return None, exc.errors or {"_form": [exc.message]}
    except PermissionDenied as exc:
        return None, {"_form": [exc.message]}

@bp.route("/apply/<code>", methods=["GET", "POST"])
@login_required
@verified_required
def apply(code: str) -> Any:
    session, actor = db_session(), page_actor()
    actor.require("application:create")
    definition = version_definition(current_version(session, code))
    if definition.applicant_mode == "嘱托":
        raise PermissionDenied("该业务由有权机关嘱托办理，不能网上申请", code="entrusted_type")
    if definition.applicant_mode == "内部":
        raise PermissionDenied("该事项由登记机构内部办理，不能网上申请", code="internal_type")
    schema = _schema(definition)
    errors: dict[str, list[str]] = {}
    values = intake.prefill_for(session, actor, schema)
    unit_code = (request.values.get("unit_code") or "").replace(" ", "").strip()
    if "unit_code" in schema.get("properties", {}) and request.method == "GET":
        if not unit_code:  # step 0: which unit? (own units offered) — checked before any typing
            own = queries.own_units(session, actor) if actor.has("unit:read_own") else []
            return render_template("portal/apply_unit.html", guide=service_guide(definition), own=own,
                                   results=[], unit_code="", errors={})
        unit, results = unit_precheck(session, definition, unit_code)
        if unit is None or blocking(results):
            refusals = {"unit_code": [f"{r.message}（{r.basis}）" for r in blocking(results)]}
            return render_template("portal/apply_unit.html", guide=service_guide(definition), own=[],
                                   results=blocking(results), unit_code=unit_code, errors=refusals), 422
        values = {**values, "unit_code": unit.unit_code, "location": unit.location, "use": unit.use}
        values = {k: v for k, v in values.items() if k in schema.get("properties", {})}
    if request.method == "POST":
        values = {**values, **_form_values(schema)}
        case, errors = create_draft(session, actor, code, values)
        if case is not None:
            flash("草稿已保存。请上传材料、确认后提交。", "success")
            return redirect(url_for("portal.edit_application", case_id=case.id))
    return render_template("portal/apply.html", guide=service_guide(definition), schema=schema, values=values,
                           errors=errors), (422 if errors else 200)


def _case_page(case: Case, *, errors: dict[str, list[str]] | None = None, status: int = 200,
               values: dict[str, Any] | None = None) -> Any:
    """The one-page view; ``values``: the form as posted, shown again after an error (nothing typed is lost)."""
    session, actor = db_session(), page_actor()
    definition = definition_of(session, case)
    may_edit = consent.may_edit(definition, actor, case)  # a co-applicant: read-only, counterpart masked
    summary = case_summary(session, case, unmasked=is_party(actor, case) and may_edit)
    have = {m["code"] for m in summary["materials"]}
    needed = set(materials.required_codes(definition, case.form_public))
    waived = {w["code"]: w for w in summary.get("materials_waived", [])}  # label (免提交（已由公安共享核验）), reason
    deferred = set(summary.get("materials_deferred", []))
    checklist = [{**asdict(item), "uploaded": item.code in have, "needed": item.code in needed,  # the page's rows
                  "waived": waived.get(item.code), "deferred": item.code in deferred}
                 for item in materials.checklist(definition)]
    mine = parties_of(actor, case)
    now = utcnow()
    signers = [{"role": _signature_key(case, p), "label": p.label,  # one's own name unmasked, others' as shown
                "name": p.name if p in mine else summary["parties"][i]["name"],
                "mine": p in mine,
                "face_ok": p.face_checked_at is not None and now - p.face_checked_at <= FACE_VALID_FOR,
                "signed": p.signed_at is not None, "kind": KIND_LABELS.get(p.signature_kind or ""),
                "image": p.signature_material_id is not None, "sha256": p.signature_sha256,
                "voided": p.confirmation_voided_at is not None}
               for i, p in enumerate(case.parties)]
    editable = case.status in EDITABLE_STATUSES
    schema = _schema(definition)
    shown = case.form_data if summary["masked"] is False else {**summary["form"], **_own_fields(definition, case, mine)}
    answers = [(prop.get("title", name), shown.get(name)) for name, prop in schema["properties"].items()
               if name in summary["form"] and summary["form"][name] not in (None, "")]
    return render_template("portal/edit_application.html", case=summary, schema=schema,
                           values=case.form_data if values is None else values, checklist=checklist,
                           errors=errors or {},
                           can_confirm=any(p.signed_at is None or p.confirmed_at is None for p in mine),
                           face_needed=any(not s["face_ok"] for s in signers if s["mine"] and not s["signed"]),
                           my_name=mine[0].name if mine else "", signers=signers, pledge=PLEDGE, answers=answers,
                           inquiry_lines=inquiry.record(definition, case),
                           inquiry_missing=inquiry.unanswered(definition, case),
                           contract=definition.contract,
                           editable=editable, may_edit=may_edit,
                           resign=consent.resign_notice(actor, case) if may_edit else None,
                           reconfirm=bool(mine) and not editable and consent.may_reconfirm(case, mine),
                           unsigned_changes=consent.changes_unsigned_by(session, case, mine),
                           invitable=invitations.invitable_parties(case, actor) if editable and mine else [],
                           invited=invitations.invitations_of(session, case) if mine else []), status


def _own_fields(definition: BusinessTypeDef, case: Case, mine: list[Party]) -> dict[str, Any]:
    """The fields that hold the reader's own name and ID number, whole: only his counterpart is masked."""
    own_values = {v for p in mine for v in (p.name, p.id_number) if v}
    fields = {f for role in definition.parties if any(p.role == role.role for p in mine)
              for f in (role.name_field, role.id_field)}
    return {f: case.form_data[f] for f in fields if case.form_data.get(f) in own_values}


def _signature_key(case: Case, party: Party) -> str:
    """Names the party's signature image: the role, or ``role-position`` for a co-owner from the register
    (who follows the party the form names for the role)."""
    first = next(p for p in case.parties if p.role == party.role)
    return party.role if party is first else f"{party.role}-{party.position}"


def _editable_case(case_id: str) -> Case:
    """A case the actor may change here: the portal is the parties' own skin. Office staff who may read the
    case see this page too, but change a case through the workbench (window intake) or the API, never by
    editing an applicant's draft here."""
    actor = page_actor()
    case = get_case(db_session(), actor, case_id)
    if not is_party(actor, case):
        raise PermissionDenied("您不是本申请的当事人，不能修改或提交", code="not_a_party")
    return case


@bp.get("/my/applications/<case_id>/edit")
@login_required
def edit_application(case_id: str) -> Any:
    return _case_page(get_case(db_session(), page_actor(), case_id))


@bp.post("/my/applications/<case_id>/form")
@login_required
def save_form(case_id: str) -> Any:
    session, actor = db_session(), page_actor()
    case = _editable_case(case_id)
    signed = sum(p.signed_at is not None for p in case.parties)
    posted = _form_values(_schema(definition_of(session, case)))
    typed = {**case.form_data, **posted}
    try:
        intake.update_application(session, actor, case, posted)
    except (ValidationFailed, Conflict) as exc:
        return refused(exc, _case_page, case, status=422, values=typed)
    resigned = signed and not any(p.signed_at for p in case.parties)
    flash("已保存。申请内容已变更，各方须重新签名确认。" if resigned else "已保存。", "success")
    return redirect(url_for("portal.edit_application", case_id=case_id))


@bp.post("/my/applications/<case_id>/materials")
@login_required
def upload(case_id: str) -> Any:
    session, actor = db_session(), page_actor()
    case = _editable_case(case_id)
    upload_file = request.files.get("file")
    try:
        if upload_file is None or not upload_file.filename:
            raise ValidationFailed("请选择要上传的文件", field="file")
        content = upload_file.read(settings().max_upload_mb * 1024 * 1024 + 1)
        materials.add_material(session, current_app.extensions["storage"], actor, case, definition_of(session, case),
                               code=request.form.get("code", ""), filename=upload_file.filename, content=content)
    except (ValidationFailed, Conflict) as exc:
        code = request.form.get("code", "")
        return refused(exc, _case_page, case, errors={f"material:{code}": [exc.message]}, status=422)
    flash("材料已上传。", "success")
    return redirect(url_for("portal.edit_application", case_id=case_id) + "#materials")


@bp.post("/my/applications/<case_id>/materials/<material_id>/delete")
@login_required
def delete_material(case_id: str, material_id: str) -> Response:
    session, actor = db_session(), page_actor()
    materials.remove_material(session, current_app.extensions["storage"], actor, _editable_case(case_id), material_id)
    flash("材料已删除。", "info")
    return redirect(url_for("portal.edit_application", case_id=case_id) + "#materials")


@bp.post("/my/applications/<case_id>/submit")
@login_required
def submit(case_id: str) -> Any:
    session, actor = db_session(), page_actor()
    case = _editable_case(case_id)
    correcting = case.status == CaseStatus.CORRECTING
    try:
        intake.submit_application(session, actor, case, require_inquiry=True)
    except RuleRefused as exc:
        keep_writes_on_error()  # the refusal (rule results, audit entry) stays on the draft
        return _case_page(case, errors=exc.errors or {"_form": [exc.message]}, status=422)
    except (ValidationFailed, Conflict) as exc:
        return refused(exc, _case_page, case, status=422)
    if correcting:
        flash(f"补正材料已提交，登记机构将继续办理，业务号 {case.business_no}。", "success")
    else:
        flash(f"申请已提交，业务号 {case.business_no}。", "success")
    return redirect(url_for("portal.my_application", case_id=case_id))
