"""Before submission in the portal: the 询问笔录 page, the 交易合同 (blank download, filled online and attached),
the face check and the signature that confirms the application (with the 真实性承诺). Thin skin over
app/cases (inquiry, contract, signing, intake)."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for

from app.casefile import consent
from app.casefile.access import definition_of, get_case, is_party
from app.cases import contract, inquiry, intake
from app.cases.signing import Signature, face_check, png_from_data_url, signature_image
from app.catalog.service import current_version, version_definition
from app.errors import Conflict, NotFound, ValidationFailed
from app.integrations.client import ServiceUnavailable
from app.pages import login_required, page_actor, refused
from app.portal import bp
from app.portal.apply import _case_page, _editable_case
from app.registry.certificates import issuing_config
from app.vocabulary import EDITABLE_STATUSES
from app.web import db_session, keep_writes_on_error, pdf_response


@bp.route("/my/applications/<case_id>/inquiry", methods=["GET", "POST"])
@login_required
def inquiry_page(case_id: str) -> Any:
    """询问笔录: every question on one page, answered with radio buttons or text; errors beside each."""
    session, actor = db_session(), page_actor()
    case = get_case(session, actor, case_id)
    definition = definition_of(session, case)
    errors: dict[str, list[str]] = {}
    given = case.inquiry_answers if case.inquiry_enc else {}
    if request.method == "POST":
        given = {q["code"]: request.form.get(q["code"], "") for q in inquiry.questions(definition)}
        try:
            inquiry.answer(session, actor, case, given)
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            flash("询问笔录已保存。", "success")
            return redirect(url_for("portal.edit_application", case_id=case_id) + "#inquiry")
    lines = [{**line, "answer": given.get(line["code"], "")} for line in inquiry.record(definition, case)]
    editable = case.status in EDITABLE_STATUSES and consent.may_edit(definition, actor, case)  # a co-applicant reads
    return render_template("portal/inquiry.html", case_id=case_id, name=definition.name, lines=lines,
                           errors=errors, editable=editable), (422 if errors else 200)


@bp.get("/my/applications/<case_id>/inquiry.pdf")
@login_required
def inquiry_pdf(case_id: str) -> Response:
    session = db_session()
    case = get_case(session, page_actor(), case_id)
    return pdf_response(inquiry.inquiry_pdf(session, case, issuing_config().font), f"inquiry-{case.id}.pdf")


@bp.get("/guide/<code>/contract.pdf")
def blank_contract(code: str) -> Response:
    page_actor(required=False)
    definition = version_definition(current_version(db_session(), code))
    return pdf_response(contract.blank_contract_pdf(definition, issuing_config().font), f"contract-{code}.pdf",
                        inline=False)


@bp.get("/my/applications/<case_id>/contract.pdf")
@login_required
def filled_contract(case_id: str) -> Response:
    session = db_session()
    case = get_case(session, page_actor(), case_id)
    return pdf_response(contract.filled_contract_pdf(session, case, issuing_config().font), f"contract-{case.id}.pdf",
                        inline=False)


@bp.post("/my/applications/<case_id>/contract")
@login_required
def attach_contract(case_id: str) -> Any:
    """网上填写合同: generated from the form and attached as the contract material."""
    session, actor = db_session(), page_actor()
    case = _editable_case(case_id)
    try:
        material = contract.attach_filled_contract(session, current_app.extensions["storage"], actor, case,
                                                   issuing_config().font)
    except (ValidationFailed, Conflict, NotFound) as exc:
        material_code = contract.template_of(definition_of(session, case))["material"]
        return refused(exc, _case_page, case, errors={f"material:{material_code}": [exc.message]}, status=422)
    flash("已按申请表生成合同并作为材料提交，可下载核对。", "success")
    return redirect(url_for("portal.edit_application", case_id=case_id) + f"#material-{material.code}")


@bp.post("/my/applications/<case_id>/face")
@login_required
def face(case_id: str) -> Any:
    """人脸核验: a photo from the camera (getUserMedia, or the phone's camera through the file input)."""
    session, actor = db_session(), page_actor()
    case = get_case(session, actor, case_id)
    photo = request.files.get("photo")
    content = photo.read(6 * 1024 * 1024) if photo is not None and photo.filename else b""
    keep_writes_on_error()  # a refused check keeps its audit entry and call log
    try:
        face_check(session, actor, case, content)
    except (ValidationFailed, ServiceUnavailable) as exc:
        return _case_page(case, errors={"face": [exc.message]}, status=exc.status)
    flash("人脸核验通过，请签名确认。", "success")
    return redirect(url_for("portal.edit_application", case_id=case_id) + "#sign")


def signature_from_form() -> tuple[Signature | None, dict[str, list[str]]]:
    """The 真实性承诺 and the signature (pad PNG, or the typed full name without JavaScript) as posted, or every
    error at once: the one-page form and the steps' 签名 page read them the same way."""
    errors: dict[str, list[str]] = {}
    if request.form.get("pledge") != "yes":
        errors["pledge"] = ["请阅读并勾选真实性承诺"]
    png = png_from_data_url(request.form.get("signature_png") or "")
    typed = (request.form.get("typed_name") or "").strip()
    if png is None and not typed:
        errors["signature"] = ["请在签名区手写签名，或输入本人姓名签名"]
    elif png is None and request.form.get("typed_confirm") != "yes":
        errors["typed_name"] = ["请勾选“以输入的姓名作为本人电子签名”"]
    if errors:
        return None, errors
    return Signature(png=png, typed_name=None if png else typed), {}


@bp.post("/my/applications/<case_id>/confirm")
@login_required
def confirm(case_id: str) -> Any:
    """真实性承诺 + 电子签名 (pad PNG, or the typed full name without JavaScript) = the party's confirmation."""
    session, actor = db_session(), page_actor()
    case = get_case(session, actor, case_id)
    signature, errors = signature_from_form()
    if signature is None:
        return _case_page(case, errors=errors, status=422)
    try:
        intake.confirm_application(session, actor, case, signature, storage=current_app.extensions["storage"],
                                   font_path=issuing_config().font)
    except (ValidationFailed, Conflict) as exc:
        return refused(exc, _case_page, case, field="signature")
    flash("您已签名确认申请。", "success")
    return redirect(url_for("portal.edit_application", case_id=case_id) + "#sign")


@bp.get("/my/applications/<case_id>/signatures/<role>.png")
@login_required
def signature_png(case_id: str, role: str) -> Response:
    session, actor = db_session(), page_actor()
    case = get_case(session, actor, case_id)
    party = next((p for p in case.parties if role in (p.role, f"{p.role}-{p.position}")), None)  # co-owner: -N
    image = signature_image(case, party, current_app.extensions["storage"]) if party and is_party(actor, case) else None
    if image is None:
        raise NotFound("没有该签名", code="signature_not_found")
    response = Response(image, mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-store"
    return response

