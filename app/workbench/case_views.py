"""Case view: everything for the decision on one screen; reveal personal data (permission, audited);
materials inline; notices as PDFs."""
from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from app.casefile.access import definition_of, get_case
from app.cases import inquiry
from app.cases.materials import material_for_viewing
from app.cases.notices import KINDS, render_notice
from app.errors import DomainError, NotFound
from app.form_render import posted_values
from app.pages import refused
from app.registry.certificates import issuing_config
from app.web import db_session, pdf_response
from app.workbench import bp
from app.workbench.case_context import case_context
from app.workbench.common import clerk, staff_required, storage


def render_case(case_id: str, *, unmask: bool = False, errors: dict[str, list[str]] | None = None,
                values: dict[str, Any] | None = None, status: int = 200) -> Any:
    session, actor = db_session(), clerk()
    case = get_case(session, actor, case_id)
    context = case_context(session, actor, case, unmask=unmask)
    return render_template("workbench/case.html", errors=errors or {}, values=values or {}, **context), status


@bp.get("/cases/<case_id>")
@staff_required
def case_page(case_id: str) -> Any:
    return render_case(case_id)


@bp.post("/cases/<case_id>/fields")
@staff_required
def correct_fields(case_id: str) -> Any:
    """更正申请信息: the fields the clerk's role may edit at this stage; the server refuses any other."""
    from app.cases.field_access import correct_fields as correct

    session, actor = db_session(), clerk()
    case = get_case(session, actor, case_id)
    definition = definition_of(session, case)
    changes = posted_values(definition.application_schema, request.form)
    try:
        correct(session, actor, case, changes)
    except DomainError as exc:
        return refused(exc, render_case, case_id, errors={**exc.errors, "_form": [exc.message]}, values=changes)
    flash("申请信息已更正", "success")
    return redirect(url_for("workbench.case_page", case_id=case_id) + "#application")


@bp.get("/cases/<case_id>/process.bpmn")
@staff_required
def case_process(case_id: str) -> Response:
    """The BPMN of the case's own process version, for the bpmn-js viewer on the case page."""
    from app.catalog.diagram import version_xml

    session = db_session()
    case = get_case(session, clerk(), case_id)
    response = Response(version_xml(session, case.process_version_id), mimetype="application/xml")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.post("/cases/<case_id>/reveal")
@staff_required
def reveal(case_id: str) -> Any:
    """显示完整个人信息: a POST (it leaves an audit entry), answered with the page shown unmasked."""
    return render_case(case_id, unmask=True)


@bp.get("/cases/<case_id>/verifications/<snapshot_id>.pdf")
@staff_required
def verification_pdf(case_id: str, snapshot_id: str) -> Response:
    from app.cases.sharing.snapshots import snapshot_pdf

    session = db_session()
    pdf = snapshot_pdf(session, get_case(session, clerk(), case_id), snapshot_id)
    return pdf_response(pdf, f"verification-{snapshot_id}.pdf")


@bp.get("/cases/<case_id>/materials/<material_id>")
@staff_required
def material(case_id: str, material_id: str) -> Response:
    session, actor = db_session(), clerk()
    item = material_for_viewing(session, actor, get_case(session, actor, case_id), material_id)
    response = Response(storage().get(item.storage_key, tenant_id=item.tenant_id), mimetype=item.content_type)
    response.headers["Content-Disposition"] = f"inline; filename={item.code}-{item.id[:8]}"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/cases/<case_id>/inquiry.pdf")
@staff_required
def inquiry_pdf(case_id: str) -> Response:
    """询问笔录 for printing and the file."""
    session = db_session()
    case = get_case(session, clerk(), case_id)
    return pdf_response(inquiry.inquiry_pdf(session, case, issuing_config().font), f"inquiry-{case.business_no}.pdf")


@bp.get("/cases/<case_id>/notices/<kind>.pdf")
@staff_required
def notice_pdf(case_id: str, kind: str) -> Response:
    if kind not in KINDS:
        raise NotFound("没有此类通知书", code="notice_not_found")
    session, actor = db_session(), clerk()
    case = get_case(session, actor, case_id)
    return pdf_response(render_notice(session, case, kind, issuing_config().font), f"{kind}-{case.business_no}.pdf")


@bp.get("/cases/<case_id>/reports/<code>.pdf")
@staff_required
def report_pdf(case_id: str, code: str) -> Response:
    """审批表 / 审核意见表 … from the type's report templates (printing is audited)."""
    from app.cases.reports import render_report

    session, actor = db_session(), clerk()
    case = get_case(session, actor, case_id)
    return pdf_response(render_report(session, actor, case, code, issuing_config().font),
                        f"{code}-{case.business_no}.pdf")
