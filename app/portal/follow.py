"""After submission in the portal: 告知文书 downloads, 缴费 (fees and taxes itemised, pay on the gateway's
page, 电子票据), 领证方式 (postal address or the hall) and the courier's tracking. Thin skin over app/cases."""
from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, request, url_for

from app.casefile.access import get_case
from app.cases import notices, payments, receiving
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.integrations.client import ServiceUnavailable
from app.pages import login_required, page_actor, refused
from app.portal import bp, case_page
from app.registry.certificates import issuing_config
from app.web import db_session, pdf_response


@bp.get("/my/applications/<case_id>/notices/<kind>.pdf")
@login_required
def notice_pdf(case_id: str, kind: str) -> Response:
    """受理通知书 / 不予受理告知书 / 补正材料通知书, as the workbench issued them."""
    if kind not in notices.KINDS:
        raise NotFound("没有此类通知书", code="notice_not_found")
    session = db_session()
    case = get_case(session, page_actor(), case_id)
    return pdf_response(notices.render_notice(session, case, kind, issuing_config().font),
                        f"{kind}-{case.business_no}.pdf", inline=False)


@bp.post("/my/applications/<case_id>/pay")
@login_required
def pay(case_id: str) -> Any:
    """Open the order and send the browser to the payment gateway's cashier page."""
    session, actor = db_session(), page_actor()
    case = get_case(session, actor, case_id)
    back = payments.platform_url(url_for("portal.paid", case_id=case_id))
    try:
        pay_url = payments.start_payment(session, actor, case, return_url=back)
    except (Conflict, ServiceUnavailable) as exc:  # not a party: refused (403), like every other write
        flash(exc.message, "error")
        return redirect(url_for("portal.my_application", case_id=case_id) + "#payment")
    return redirect(pay_url, code=303)


@bp.get("/my/applications/<case_id>/paid")
@login_required
def paid(case_id: str) -> Any:
    """Where the gateway sends the browser back: the callback has normally arrived already."""
    session = db_session()
    case = get_case(session, page_actor(), case_id)
    if payments.paid_payment(session, case) is not None:
        flash("缴费成功，可下载电子票据。", "success")
    else:
        flash("正在确认支付结果，请稍后刷新本页。", "info")
    return redirect(url_for("portal.my_application", case_id=case_id) + "#payment")


@bp.get("/my/applications/<case_id>/receipt.pdf")
@login_required
def receipt(case_id: str) -> Response:
    session = db_session()
    case = get_case(session, page_actor(), case_id)
    return pdf_response(payments.receipt_pdf(session, case, issuing_config().font), f"receipt-{case.business_no}.pdf",
                        inline=False)


@bp.post("/my/applications/<case_id>/delivery")
@login_required
def choose_delivery(case_id: str) -> Any:
    session, actor = db_session(), page_actor()
    case = get_case(session, actor, case_id)
    form = {k: request.form.get(k, "") for k in ("recipient", "phone", "address")}
    try:
        receiving.choose_delivery(session, actor, case, method=request.form.get("method", ""), **form)
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        return refused(exc, case_page, case_id, field="method", values=form)
    flash(f"领证方式：{receiving.METHODS[case.delivery_method or '']}。", "success")
    return redirect(url_for("portal.my_application", case_id=case_id) + "#delivery")
