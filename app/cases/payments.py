"""缴费: the fees of a submitted application (and the taxes where they are collected together, 统缴),
itemised, paid on the payment gateway's cashier page, confirmed by the gateway's signed callback, with an
electronic receipt (电子票据).

Flow: the applicant starts a payment → an order is opened with the payment adapter → the browser goes to
the gateway's page (``pay_url``) → the gateway calls ``POST /api/v1/callbacks/payment`` (HMAC over
``"<X-Timestamp>.<raw body>"``, verified by ``check_callback_signature`` with PAYMENT_CALLBACK_SECRET: the
gateway's own secret, not 税务's) and sends the browser back to ``return_url``. ``record_payment`` locks the
case row first (as the 完税 callback does) and is idempotent.

Taxes: 税务 computes and collects them itself (app/cases/sharing/tax.py); once its callback has arrived the
amounts and the 电子税票 are shown beside the fees, otherwise the taxes are shown as "待税务部门核定".
Delivery of the paper certificate waits for payment (``require_paid``, called by 发证) for online cases;
window cases pay at the window.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile import progress
from app.casefile.access import definition_of, is_party
from app.casefile.models import Case, Payment
from app.cases.documents import Document, render_document
from app.cases.sharing.snapshots import context_of
from app.clock import CHINA
from app.db import utcnow
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.identity.actor import SYSTEM, Actor
from app.integrations.adapters import services
from app.integrations.verification_models import TaxCase
from app.registry.certificate_content import office_name
from app.registry.fees import fee_total_yuan
from app.security import audit
from app.vocabulary import EDITABLE_STATUSES, CaseStatus, Channel, EventKind, PaymentStatus, TaxStatus

NOT_PAYABLE = EDITABLE_STATUSES | {CaseStatus.REJECTED, CaseStatus.REFUSED, CaseStatus.WITHDRAWN}
TAX_LABELS = {"契税": "契税", "增值税": "增值税", "个人所得税": "个人所得税"}


@dataclass
class PaymentConfig:
    notify_url: str = "http://127.0.0.1:5000/api/v1/callbacks/payment"
    secret: str = ""  # the gateway's own callback secret (PAYMENT_CALLBACK_SECRET), never 税务's
    platform_url: str = "http://127.0.0.1:5000"  # PUBLIC_BASE_URL: the only origin the gateway may send back to


def payment_config() -> PaymentConfig:
    """This app's gateway settings (``app.extensions["payments"]``, set by ``app.cases.init_app``)."""
    config: PaymentConfig = current_app.extensions["payments"]
    return config


def check_callback_signature(timestamp: str, given: str, body: bytes) -> None:
    """The gateway's notification signed with the gateway's secret (same format as 税务's callback)."""
    from app.cases.sharing.tax import check_signature

    check_signature(timestamp, given, body, secret=payment_config().secret)


def fee_due_yuan(case: Case) -> int:
    return fee_total_yuan(case.fee_items or [])


def paid_payment(session: Session, case: Case) -> Payment | None:
    return session.execute(select(Payment).where(Payment.case_id == case.id, Payment.status == PaymentStatus.PAID)
                           .order_by(Payment.paid_at.desc())).scalars().first()


def is_settled(session: Session, case: Case) -> bool:
    """Nothing to pay, or paid."""
    return fee_due_yuan(case) == 0 or paid_payment(session, case) is not None


def require_paid(session: Session, case: Case) -> None:
    """发证 waits for payment: an online case with fees due cannot be handed its paper certificate."""
    if case.channel == Channel.ONLINE and not is_settled(session, case):
        raise Conflict(f"申请人尚未缴纳登记费（{fee_due_yuan(case)} 元），缴费后方可发证", code="fees_unpaid")


def taxes_of(session: Session, case: Case) -> dict[str, Any] | None:
    """The tax known from 税务 (None when the type pushes no tax case)."""
    tax = session.execute(select(TaxCase).where(TaxCase.case_id == case.id)).scalar_one_or_none()
    if tax is None:
        return None
    items = [{"name": TAX_LABELS.get(i.get("tax_type"), i.get("tax_type")), "amount_yuan": _yuan(i.get("amount")),
              "exempt": bool(i.get("exempt"))} for i in (tax.result or {}).get("items") or []]
    return {"status": tax.status, "paid": tax.status == TaxStatus.PAID, "total_yuan": _yuan(tax.total_yuan),
            "voucher_no": tax.voucher_no, "lines": items}


def _yuan(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def statement(session: Session, case: Case) -> dict[str, Any]:
    """What the payment page shows: fee items, total, taxes, the payment and whether one can pay now."""
    paid = paid_payment(session, case)
    due = fee_due_yuan(case)
    return {"fee_items": case.fee_items or [], "fee_total_yuan": due, "taxes": taxes_of(session, case),
            "paid": paid is not None, "paid_at": paid.paid_at if paid else None,
            "receipt_no": paid.receipt_no if paid else None, "payment_id": paid.id if paid else None,
            "payable": due > 0 and paid is None and case.status not in NOT_PAYABLE and bool(case.business_no)}


def platform_url(path: str) -> str:
    """``path`` on the platform's public origin (never the request's Host header, which a client chooses)."""
    return payment_config().platform_url.rstrip("/") + path


def check_return_url(return_url: str) -> None:
    """The gateway sends the paying browser to ``return_url``: only the platform's own origin, or anyone could
    use the payment page as a trusted-looking redirect to a phishing site."""
    if not return_url:
        return
    wanted, given = urlsplit(payment_config().platform_url), urlsplit(return_url)
    if (given.scheme.lower(), given.netloc.lower()) != (wanted.scheme.lower(), wanted.netloc.lower()):
        raise ValidationFailed(f"支付完成后的返回地址只能是本平台地址（{wanted.scheme}://{wanted.netloc}）",
                               field="return_url", code="return_url_foreign")


def start_payment(session: Session, actor: Actor, case: Case, *, return_url: str) -> str:
    """Open (or reuse) the order for the fees due and return the gateway's cashier URL."""
    if not is_party(actor, case):
        raise PermissionDenied("只有申请人可以缴费", code="not_a_party")
    check_return_url(return_url)
    if case.status in NOT_PAYABLE or not case.business_no:
        raise Conflict("申请提交并受理后方可缴费", code="not_payable")
    due = fee_due_yuan(case)
    if due == 0:
        raise Conflict("本申请无需缴费", code="nothing_to_pay")
    if paid_payment(session, case) is not None:
        raise Conflict("已缴费，无需重复缴纳", code="already_paid")
    payment = session.execute(select(Payment).where(Payment.case_id == case.id, Payment.status == PaymentStatus.PENDING)
                              ).scalars().first()
    if payment is None or Decimal(payment.amount_yuan) != due:
        count = len(session.execute(select(Payment.id).where(Payment.case_id == case.id)).all())
        payment = Payment(case_id=case.id, tenant_id=case.tenant_id, order_no=f"JF{case.business_no}{count + 1:02d}",
                          amount_yuan=f"{due}.00", items=list(case.fee_items or []), created_by=actor.user_id)
        payment.ensure_id()
        session.add(payment)
        session.flush()
    reply = services.create_payment(session, context_of(case, actor.user_id), payment.order_no, payment.amount_yuan,
                                    payment_config().notify_url, return_url=return_url,
                                    subject=f"{definition_of(session, case).name} 业务号 {case.business_no}")
    audit.record(session, actor_id=actor.user_id, action="payment.start", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after={"order_no": payment.order_no, "amount": payment.amount_yuan})
    return str(reply["pay_url"])


def record_payment(session: Session, result: dict[str, Any], *, actor: Actor = SYSTEM) -> dict[str, Any]:
    """Apply the gateway's callback (idempotent): the order paid, a receipt number, a timeline event."""
    order_no = str(result.get("order_no") or "")
    payment = session.execute(select(Payment).where(Payment.order_no == order_no)
                              .execution_options(all_tenants=True)).scalar_one_or_none()
    if payment is None:
        raise NotFound("没有该缴费订单", code="order_not_found")
    # The case row first, like 完税 and step completions, then the order, so a concurrent duplicate waits.
    case = session.execute(select(Case).where(Case.id == payment.case_id).with_for_update()
                           .execution_options(all_tenants=True, populate_existing=True)).scalar_one()
    payment = session.execute(select(Payment).where(Payment.id == payment.id).with_for_update()
                              .execution_options(all_tenants=True, populate_existing=True)).scalar_one()
    if payment.status == PaymentStatus.PAID:
        return {"order_no": order_no, "status": PaymentStatus.PAID, "duplicate": True}
    if result.get("status") != "已支付":
        return {"order_no": order_no, "status": payment.status, "duplicate": False}
    if Decimal(str(result.get("amount") or "0")) != Decimal(payment.amount_yuan):
        raise ValidationFailed("回调金额与订单金额不一致", field="amount")
    payment.status, payment.paid_at = PaymentStatus.PAID, utcnow()
    payment.receipt_no = f"PJ{payment.paid_at.astimezone(CHINA):%Y%m%d}{order_no[-8:]}"
    progress.add_event(session, case, kind=EventKind.PAID, actor=None,
                       message=f"已缴纳登记费 {payment.amount_yuan} 元，可下载电子票据")
    audit.record(session, actor_id=actor.user_id, action="payment.paid", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after={"order_no": order_no, "amount": payment.amount_yuan,
                                                  "receipt_no": payment.receipt_no})
    return {"order_no": order_no, "status": PaymentStatus.PAID, "duplicate": False}


def receipt_pdf(session: Session, case: Case, font_path: Path) -> bytes:
    """电子票据: payer, items with their legal basis, total, receipt number, the office as payee."""
    payment = paid_payment(session, case)
    if payment is None or payment.paid_at is None:
        raise NotFound("尚未缴费，没有电子票据", code="receipt_not_found")
    definition = definition_of(session, case)
    payer_roles = {i.get("payer_role") for i in payment.items}
    payers = "、".join(p.name or "" for p in case.parties if p.role in payer_roles) or "申请人"
    paragraphs = [f"票据号码：{payment.receipt_no}", f"交款人：{payers}",
                  f"缴费事项：{definition.name}（业务号 {case.business_no}）", f"订单号：{payment.order_no}"]
    for i, item in enumerate(payment.items, 1):
        paragraphs.append(f"{i}. {item['name']}　{item['amount_yuan']} 元　（{item['basis']}）")
    paragraphs += [f"合计：人民币 {payment.amount_yuan} 元",
                   f"缴费时间：{payment.paid_at.astimezone(CHINA):%Y-%m-%d %H:%M}",
                   "本票据由不动产登记机构通过统一支付平台开具，与纸质票据具有同等效力。"]
    return render_document(Document(title="不动产登记费电子票据", reference=f"票据号码：{payment.receipt_no}",
                                    paragraphs=paragraphs, issuer=f"收款单位：{office_name(session, case.tenant_id)}"),
                           font_path)
