"""线下一窗受理 (window intake): a clerk enters a walk-in applicant's application, uploads the scanned
materials and submits; the case then runs the same process as an online one (channel ``window``).

An appointment check-in code field is on the first page: the booking (app/cases/appointments.py) gives the
business type and the booking applicant's verified identity, and is marked checked in."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from app.casefile.access import definition_of, get_case
from app.cases import intake, materials
from app.catalog.service import current_version, list_business_types, version_definition
from app.errors import Conflict, DomainError, ValidationFailed
from app.form_render import posted_values
from app.pages import refused
from app.vocabulary import CaseStatus, Channel
from app.web import db_session, settings
from app.workbench import bp
from app.workbench.common import clerk, staff_required, storage


def _render_new(business_type: str | None, *, errors: dict[str, list[str]] | None = None,
                values: dict[str, Any] | None = None, status: int = 200) -> Any:
    session = db_session()
    types = [(bt.code, bt.name) for bt, _ in list_business_types(session)]
    schema = None
    if business_type:
        definition = version_definition(current_version(session, business_type))
        schema = definition.application_schema
    return render_template("workbench/window_new.html", types=types, business_type=business_type, schema=schema,
                           errors=errors or {}, values=values or {}), status


@bp.get("/window")
@staff_required
def window_new() -> Any:
    clerk().require("case:window_intake")
    return _render_new(request.args.get("business_type") or None)


@bp.post("/window")
@staff_required
def window_create() -> Any:
    session, actor = db_session(), clerk()
    business_type = request.form.get("business_type") or None
    code = (request.form.get("appointment_code") or "").strip() or None
    form: dict[str, Any] = {}
    if business_type:
        definition = version_definition(current_version(session, business_type))
        form = posted_values(definition.application_schema, request.form)
    try:
        case = intake.create_window_application(session, actor, business_type, form, appointment_code=code)
    except ValidationFailed as exc:
        return refused(exc, _render_new, business_type, values=dict(request.form), status=422)
    flash("已创建窗口申请草稿，请扫描上传申请材料", "success")
    return redirect(url_for("workbench.window_case", case_id=case.id))


def _render_case(case_id: str, *, errors: dict[str, list[str]] | None = None, status: int = 200) -> Any:
    session, actor = db_session(), clerk()
    case = get_case(session, actor, case_id)
    if case.channel != Channel.WINDOW:
        raise Conflict("该申请不是窗口受理的申请", code="not_window_case")
    definition = definition_of(session, case)
    names = {m.code: m.name for m in materials.checklist(definition)}
    problems = intake.submission_problems(session, case) if case.status == CaseStatus.DRAFT else {}
    problems.pop("confirmations", None)  # the clerk confirms on everyone's behalf when submitting
    return render_template("workbench/window_case.html", case=case, definition=definition,
                           checklist=materials.checklist(definition), names=names,
                           required=set(materials.required_codes(definition, case.form_public)),
                           uploaded={m.code for m in case.materials}, problems=problems,
                           errors=errors or {}), status


@bp.get("/window/<case_id>")
@staff_required
def window_case(case_id: str) -> Any:
    return _render_case(case_id)


@bp.post("/window/<case_id>/materials")
@staff_required
def window_upload(case_id: str) -> Any:
    session, actor = db_session(), clerk()
    actor.require("case:window_intake")
    case = get_case(session, actor, case_id)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed("请选择扫描件文件", field="file")
        content = upload.read(settings().max_upload_mb * 1024 * 1024 + 1)
        materials.add_material(session, storage(), actor, case, definition_of(session, case),
                               code=request.form.get("code", ""), filename=upload.filename, content=content)
    except ValidationFailed as exc:
        return refused(exc, _render_case, case_id, errors={f"file_{request.form.get('code', '')}": [exc.message]},
                       status=422)
    flash("材料已上传", "success")
    return redirect(url_for("workbench.window_case", case_id=case_id))


@bp.post("/window/<case_id>/submit")
@staff_required
def window_submit(case_id: str) -> Any:
    session, actor = db_session(), clerk()
    case = get_case(session, actor, case_id)
    try:
        intake.submit_window_application(session, actor, case)
    except DomainError as exc:
        return refused(exc, _render_case, case_id, errors={"_form": [exc.message]})
    flash(f"已提交，业务号 {case.business_no}，已进入受理环节", "success")
    return redirect(url_for("workbench.case_page", case_id=case.id))
