"""Deciding a task (受理 / 审核 / 登簿 / 缮证) and 发证 (print, mailed or collected)."""
from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, request, url_for

from app.casefile.access import get_case
from app.casefile.status import status_label
from app.cases import handling, receiving
from app.cases.inbox import open_tasks_of
from app.errors import DomainError, PermissionDenied, ValidationFailed
from app.pages import refused
from app.registry import delivery
from app.registry.certificates import certificate_for_download, preview_pdf
from app.vocabulary import Stage
from app.web import db_session, pdf_response
from app.workbench import bp
from app.workbench.case_views import render_case
from app.workbench.common import clerk, flash_error, inbox_url, staff_required, storage


def _lines(name: str) -> list[str]:
    return [line.strip() for line in (request.form.get(name) or "").splitlines() if line.strip()]


@bp.post("/tasks/<task_id>/complete")
@staff_required
def complete(task_id: str) -> Any:
    session, actor = db_session(), clerk()
    task = handling.task_to_complete(session, actor, task_id)
    decision = request.form.get("decision") or ""
    opinion = (request.form.get("opinion") or "").strip() or (request.form.get("opinion_template") or "").strip()
    values = {"decision": decision, "opinion": opinion, "correction_items": request.form.get("correction_items", ""),
              "reject_reasons": request.form.get("reject_reasons", "")}
    data: dict[str, Any] = {}
    if decision == "correct":
        data["correction_items"] = _lines("correction_items")
    if decision == "reject":
        data["reject_reasons"] = _lines("reject_reasons")
    try:
        case = handling.complete_task(session, actor, task, decision=decision, opinion=opinion, data=data,
                                      confirmed_record=bool(request.form.get("confirm_record")), storage=storage())
    except ValidationFailed as exc:
        return refused(exc, render_case, task.case_id, values=values, status=422)
    except DomainError as exc:
        return refused(exc, render_case, task.case_id, values=values, errors={"_form": [exc.message]})
    flash(f"已办理：{case.business_no} {task.title}，案件状态：{status_label(case.status)}", "success")
    return redirect(inbox_url())


@bp.get("/certificates/<certificate_id>.pdf")
@staff_required
def certificate_pdf(certificate_id: str) -> Response:
    """The signed certificate, inline, for printing (打印)."""
    cert = certificate_for_download(db_session(), clerk(), certificate_id)
    assert cert.storage_key is not None
    return pdf_response(storage().get(cert.storage_key, tenant_id=cert.tenant_id), f"certificate-{cert.id}.pdf")


@bp.get("/cases/<case_id>/certificate-preview.pdf")
@staff_required
def certificate_preview(case_id: str) -> Response:
    """缮证: the certificate as it will be printed (附记 and 附图 pages included), for the certifier to check before
    he confirms — shown to whom the 缮证 task is assigned, as the stage screen is."""
    session, actor = db_session(), clerk()
    case = get_case(session, actor, case_id)
    if not any(t.stage == Stage.CERTIFY and t.assignee_id == actor.user_id for t in open_tasks_of(session, case.id)):
        raise PermissionDenied("证书预览仅供本案缮证的办理人员查看", code="not_the_certifier")
    return pdf_response(preview_pdf(session, case), f"certificate-preview-{case.business_no}.pdf")


@bp.post("/cases/<case_id>/certificates/<certificate_id>/deliver")
@staff_required
def deliver(case_id: str, certificate_id: str) -> Any:
    session, actor = db_session(), clerk()
    case = get_case(session, actor, case_id)
    cert = delivery.certificate_of_case(session, case.id, certificate_id)
    method = request.form.get("method") or ""
    try:
        receiving.deliver_certificate(session, actor, case, cert, method=method,
                                      tracking_no=request.form.get("tracking_no"))
    except ValidationFailed as exc:
        return refused(exc, render_case, case_id, errors={f"deliver_{cert.id}": [exc.message]}, status=422,
                       values={"tracking_no": request.form.get("tracking_no", "")})
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(f"证书 {cert.number} {delivery.DELIVERY_LABELS[method]}", "success")
    return redirect(url_for("workbench.case_page", case_id=case_id))
