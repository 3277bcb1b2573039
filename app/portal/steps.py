"""申请, one thing per page (issue 17): 选择业务 → 不动产 → 各方 → 申请信息 → 材料 (one per page) → 合同 → 询问笔录 →
核对 → 人脸核验 → 签名 → 提交. A skin over the same use cases as the one-page form (intake, materials,
contract, inquiry, signing): each page is a plain form that posts, saves and redirects to the next page
(POST-redirect-GET), so it works without JavaScript and the answers are in the draft when one goes back.
The steps come from the type's definition (app/portal/step_plan.py); the pages' contents from
app/portal/step_pages.py."""
from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.casefile import consent
from app.casefile.access import definition_of
from app.casefile.models import Case
from app.cases import contract, inquiry, intake, materials, unit_change
from app.cases.signing import face_check
from app.catalog.definitions import BusinessTypeDef
from app.catalog.forms import validate_form_data
from app.catalog.service import current_version, version_definition
from app.errors import Conflict, NotFound, PermissionDenied, RuleRefused, ValidationFailed
from app.form_render import posted_values
from app.integrations.client import ServiceUnavailable
from app.pages import login_required, page_actor, refused
from app.portal import bp
from app.portal.account import verified_required
from app.portal.apply import _editable_case, create_draft
from app.portal.signing_views import signature_from_form
from app.portal.step_pages import case_steps, form_labels, frame, page_context
from app.portal.step_plan import UNIT_FIELD, following, has_unit_step, info_fields, party_fields, plan, sub_schema
from app.registry import queries
from app.registry.certificates import issuing_config
from app.registry.rules import blocking, unit_precheck
from app.vocabulary import EDITABLE_STATUSES, CaseStatus
from app.web import db_session, keep_writes_on_error, settings


def _applicable(code: str) -> BusinessTypeDef:
    definition = version_definition(current_version(db_session(), code))
    if definition.applicant_mode == "嘱托":
        raise PermissionDenied("该业务由有权机关嘱托办理，不能网上申请", code="entrusted_type")
    return definition


def page_errors(schema: dict[str, Any], values: dict[str, Any], fields: list[str]) -> dict[str, list[str]]:
    """The form's errors for the fields on this page only: later pages' fields may still be empty."""
    try:
        validate_form_data(schema, values)
    except ValidationFailed as exc:
        return {k: v for k, v in (exc.errors or {}).items() if k in fields}
    return {}


@bp.get("/apply/<code>/steps", defaults={"step": ""})
@bp.route("/apply/<code>/steps/<step>", methods=["GET", "POST"])
@login_required
@verified_required
def begin(code: str, step: str) -> Any:
    """The pages before there is a draft: 不动产 (checked against the register first) and 各方, whose
    save creates the draft. The chosen unit travels in the address (and a hidden field)."""
    session, actor = db_session(), page_actor()
    actor.require("application:create")
    definition = _applicable(code)
    with_unit = has_unit_step(definition)
    if step not in ("unit", "parties") or (step == "unit" and not with_unit):
        return redirect(url_for("portal.begin", code=code, step="unit" if with_unit else "parties"))
    schema = definition.application_schema
    values = intake.prefill_for(session, actor, schema)
    unit_code = (request.values.get(UNIT_FIELD) or "").replace(" ", "").strip()
    if with_unit:
        if not unit_code:
            if step == "parties":
                return redirect(url_for("portal.begin", code=code, step="unit"))
            own = queries.own_units(session, actor) if actor.has("unit:read_own") else []
            return _begin_page(definition, "unit", own=own, unit_code="", errors={})
        unit, results = unit_precheck(session, definition, unit_code)
        if unit is None or blocking(results):
            refusals = {UNIT_FIELD: [f"{r.message}（{r.basis}）" for r in blocking(results)]}
            return _begin_page(definition, "unit", own=[], unit_code=unit_code, errors=refusals), 422
        if step == "unit":
            return redirect(url_for("portal.begin", code=code, step="parties", unit_code=unit.unit_code))
        found = {UNIT_FIELD: unit.unit_code, "location": unit.location, "use": unit.use}
        values.update({k: v for k, v in found.items() if k in schema.get("properties", {})})
    fields = party_fields(definition)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {**values, **posted_values(schema, request.form, only=set(fields))}
        errors = page_errors(schema, values, fields)
        if not errors:
            case, errors = create_draft(session, actor, code, values)
            if case is not None:
                flash("草稿已保存，下次可从“我的申请”继续。", "success")
                return _to(case, following(case_steps(session, actor, case, definition), "parties").key)
    return _begin_page(definition, "parties", schema=sub_schema(schema, fields), values=values,
                       unit_code=unit_code, errors=errors, **form_labels(schema, fields)), (422 if errors else 200)


def _begin_page(definition: BusinessTypeDef, step: str, **context: Any) -> str:
    steps = plan(definition)
    back = (url_for("portal.begin", code=definition.code, step="unit") if step == "parties" and
            has_unit_step(definition) else url_for("portal.guide", code=definition.code))
    context.setdefault("labels", {UNIT_FIELD: "不动产单元号"})
    context.setdefault("links", {UNIT_FIELD: "#unit_code"})
    return render_template(f"portal/steps/{'form' if step == 'parties' else step}.html", **frame(steps, step, back),
                           name=definition.name, code=definition.code, case=None, key=step, action=request.path,
                           return_to="", **context)


def _to(case: Case, step: str) -> Response:
    return redirect(url_for("portal.step", case_id=case.id, step=step))


@bp.get("/my/applications/<case_id>/steps", defaults={"step": ""})
@bp.route("/my/applications/<case_id>/steps/<step>", methods=["GET", "POST"])
@login_required
def step(case_id: str, step: str) -> Any:
    """A page of the flow for a draft: shown on GET, saved on POST and then the next page. Without a step:
    the first page not done yet (coming back to a draft from 我的申请)."""
    case = _editable_case(case_id)
    if case.status not in EDITABLE_STATUSES:
        return redirect(url_for("portal.my_application", case_id=case_id))
    if not consent.may_edit(definition_of(db_session(), case), page_actor(), case):
        return redirect(url_for("portal.edit_application", case_id=case_id))  # a co-applicant: read-only, masked
    if not step:
        session = db_session()
        steps = case_steps(session, page_actor(), case, definition_of(session, case))
        return _to(case, next(s.key for s in steps if not s.done and s.key != "unit"))
    if request.method == "GET":
        return show(case, step)
    return _save(case, step)


def show(case: Case, step: str, *, errors: dict[str, list[str]] | None = None,
         values: dict[str, Any] | None = None, status: int = 200) -> Any:
    session, actor = db_session(), page_actor()
    definition = definition_of(session, case)
    context = page_context(session, actor, case, definition, step, values=values)
    if context is None:
        raise NotFound("没有这一步", code="step_not_found")
    return render_template(f"portal/steps/{context['template']}.html", **context, errors=errors or {},
                           action=request.path, return_to=request.values.get("return_to", "")), status


def _next(case: Case, step: str) -> Response:
    if request.form.get("return_to") == "check":
        return _to(case, "check")
    session = db_session()
    return _to(case, following(case_steps(session, page_actor(), case, definition_of(session, case)), step).key)


def _save(case: Case, step: str) -> Any:
    session, actor = db_session(), page_actor()
    definition = definition_of(session, case)
    storage = current_app.extensions["storage"]
    if step == "unit":
        return _change_unit(case, definition)
    if step == "check":
        return _next(case, step)
    if step in ("parties", "info"):
        return _save_fields(case, definition, step)
    if step.startswith("material-") and request.form.get("remove"):
        return _remove_material(case, step)
    if step.startswith("material-"):
        code = step.removeprefix("material-")
        upload = next((f for f in (request.files.get("file"), request.files.get("file_pick")) if f and f.filename),
                      None)
        try:
            if upload is None:
                raise ValidationFailed("请拍照或选择要上传的文件", field="file")
            content = upload.read(settings().max_upload_mb * 1024 * 1024 + 1)
            materials.add_material(session, storage, actor, case, definition, code=code, filename=upload.filename or "",
                                   content=content)
        except (ValidationFailed, Conflict) as exc:
            return refused(exc, show, case, step, errors={"file": [exc.message]}, status=422)
        flash("材料已上传。", "success")
        return _next(case, step)
    if step == "contract":
        try:
            contract.attach_filled_contract(session, storage, actor, case, issuing_config().font)
        except (ValidationFailed, Conflict, NotFound) as exc:
            return refused(exc, show, case, step, errors={"contract": [exc.message]}, status=422)
        flash("已按申请信息生成合同并作为材料提交。", "success")
        return _next(case, step)
    if step == "inquiry":
        given = {q["code"]: request.form.get(q["code"], "") for q in inquiry.questions(definition)}
        try:
            inquiry.answer(session, actor, case, given)
        except ValidationFailed as exc:
            return refused(exc, show, case, step, values=given, status=422)
        flash("询问笔录已保存。", "success")
        return _next(case, step)
    if step == "face":
        return _save_face(case)
    if step == "sign":
        return _save_signature(case)
    if step == "submit":
        return _submit(case)
    raise NotFound("没有这一步", code="step_not_found")


def _change_unit(case: Case, definition: BusinessTypeDef) -> Any:
    """不动产 once there is a draft: another unit (one of the applicant's own, or typed) replaces the chosen
    one; what that changed is said at once (app/cases/unit_change.py)."""
    typed = (request.form.get("pick") or request.form.get(UNIT_FIELD) or "").replace(" ", "").strip()
    if not typed:
        return _next(case, "unit")
    try:
        change = unit_change.change_unit(db_session(), current_app.extensions["storage"], page_actor(), case,
                                         definition, typed)
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        return refused(exc, show, case, "unit", field=UNIT_FIELD, values={UNIT_FIELD: typed})
    if not change.changed:
        return _next(case, "unit")
    flash(_unit_change_message(change), "success")
    if request.form.get("return_to") == "check":
        return _to(case, "check")
    return _to(case, "unit")


def _unit_change_message(change: unit_change.UnitChange) -> str:
    said = [f"已更换为 {change.location or change.unit_code}（{change.unit_code}），已核对登记簿。"]
    if change.refilled:
        said.append(f"{'、'.join(change.refilled)}已按登记簿更新。")
    if change.emptied:
        said.append(f"{'、'.join(change.emptied)}属原不动产，已清空，请在申请信息中重新填写。")
    if change.contract_removed:
        said.append("按原不动产生成的合同已删除，请重新生成。")
    if change.kept_uploads:
        said.append(f"已上传的材料仍保留（{'、'.join(change.kept_uploads)}）；属于原不动产的（如不动产权证书），"
                    "请到该材料页删除后重新上传。")
    said.append("各方的其他填写内容不变。")
    return "".join(said)


def _remove_material(case: Case, step: str) -> Any:
    """删除 on a material's page (without JavaScript: a plain post), to upload a better scan instead."""
    code, material_id = step.removeprefix("material-"), request.form.get("remove", "")
    try:
        if not any(m.id == material_id and m.code == code for m in case.materials):
            raise ValidationFailed("材料不存在或已删除", field="file")
        materials.remove_material(db_session(), current_app.extensions["storage"], page_actor(), case, material_id)
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        return refused(exc, show, case, step, errors={"file": [exc.message]}, status=422)
    flash("材料已删除，可重新上传。", "info")
    back = "check" if request.form.get("return_to") == "check" else None
    return redirect(url_for("portal.step", case_id=case.id, step=step, return_to=back))


def _save_fields(case: Case, definition: BusinessTypeDef, step: str) -> Any:
    session, actor = db_session(), page_actor()
    schema = definition.application_schema
    fields = party_fields(definition) if step == "parties" else info_fields(definition)
    posted = posted_values(schema, request.form, only=set(fields))
    posted = {**{f: None for f in fields}, **posted}  # a field emptied on this page is emptied in the draft
    merged = {k: v for k, v in {**case.form_data, **posted}.items() if v is not None}
    errors = page_errors(schema, merged, fields)
    if errors:
        return show(case, step, errors=errors, values=merged, status=422)
    signed = sum(p.signed_at is not None for p in case.parties)
    try:
        intake.update_application(session, actor, case, posted)
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        return refused(exc, show, case, step, values=merged, status=422)
    if signed and not any(p.signed_at for p in case.parties):
        flash("已保存。申请内容已变更，各方须重新签名确认。", "warning")
    return _next(case, step)


def _save_face(case: Case) -> Any:
    photo = request.files.get("photo")
    content = photo.read(6 * 1024 * 1024) if photo is not None and photo.filename else b""
    keep_writes_on_error()  # a refused check keeps its audit entry and call log
    try:
        face_check(db_session(), page_actor(), case, content)
    except (ValidationFailed, ServiceUnavailable) as exc:
        return show(case, "face", errors={"face": [exc.message]}, status=exc.status)
    flash("人脸核验通过。", "success")
    return _next(case, "face")


def _save_signature(case: Case) -> Any:
    """As the one-page form's confirm, but each error on this page with what was drawn or typed kept (the
    template puts the posted drawing back into its hidden field and the pad redraws it)."""
    signature, errors = signature_from_form()
    if signature is None:
        return show(case, "sign", errors=errors, status=422)
    try:
        intake.confirm_application(db_session(), page_actor(), case, signature,
                                   storage=current_app.extensions["storage"], font_path=issuing_config().font)
    except (ValidationFailed, Conflict) as exc:
        return refused(exc, show, case, "sign", field="signature")
    flash("您已签名确认申请。", "success")
    return _next(case, "sign")


def _submit(case: Case) -> Any:
    session, actor = db_session(), page_actor()
    correcting = case.status == CaseStatus.CORRECTING
    try:
        intake.submit_application(session, actor, case, require_inquiry=True)
    except RuleRefused as exc:
        keep_writes_on_error()  # the refusal (rule results, audit entry) stays on the draft
        return show(case, "submit", errors=exc.errors or {"_form": [exc.message]}, status=422)
    except (ValidationFailed, Conflict) as exc:
        return refused(exc, show, case, "submit", status=422)
    flash(f"补正材料已提交，业务号 {case.business_no}。" if correcting else f"申请已提交，业务号 {case.business_no}。",
          "success")
    return redirect(url_for("portal.my_application", case_id=case.id))
