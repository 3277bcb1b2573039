"""领证方式: the applicant chooses postal delivery (address) or collection at the registration hall. 发证 of a
case's certificate (``deliver_certificate``) waits for payment and, mailed to a chosen address, hands the
certificate to the express adapter; the courier's tracking is then shown to the applicant."""
from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.access import is_party
from app.casefile.models import Case
from app.cases import payments
from app.cases.sharing.snapshots import context_of
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.identity.actor import Actor
from app.integrations.adapters import services
from app.integrations.client import ServiceUnavailable
from app.registry import delivery
from app.registry.models import Certificate
from app.security import audit
from app.security.masking import mask_name, mask_phone
from app.vocabulary import CaseStatus

METHODS = {"postal": "邮寄送达", "hall": "窗口领取"}
_PHONE = re.compile(r"^1[3-9][0-9]{9}$")


def address_of(case: Case) -> dict[str, str] | None:
    return json.loads(case.delivery_address) if case.delivery_address else None


def choose_delivery(session: Session, actor: Actor, case: Case, *, method: str,
                    recipient: str = "", phone: str = "", address: str = "") -> Case:
    if not is_party(actor, case):
        raise PermissionDenied("只有申请人可以选择领证方式", code="not_a_party")
    delivered = session.execute(select(Certificate.id).where(Certificate.case_id == case.id,
                                                             Certificate.delivery.is_not(None))).first()
    if delivered or case.status in (CaseStatus.REJECTED, CaseStatus.REFUSED, CaseStatus.WITHDRAWN):
        raise Conflict("证书已发出或申请已终止，不能再修改领证方式", code="delivery_fixed")
    if method not in METHODS:
        raise ValidationFailed("请选择邮寄送达或窗口领取", field="method")
    if method == "postal":
        errors: dict[str, list[str]] = {}
        recipient, phone, address = recipient.strip(), phone.strip(), address.strip()
        if not 2 <= len(recipient) <= 50:
            errors["recipient"] = ["请填写收件人姓名"]
        if not _PHONE.match(phone):
            errors["phone"] = ["请填写 11 位手机号码"]
        if not 8 <= len(address) <= 200:
            errors["address"] = ["请填写详细收件地址（省市区、街道、门牌号）"]
        if errors:
            raise ValidationFailed("请完整填写邮寄信息", errors=errors)
        case.delivery_address = json.dumps({"recipient": recipient, "phone": phone, "address": address},
                                           ensure_ascii=False)
    else:
        case.delivery_address = None
    case.delivery_method = method
    audit.record(session, actor_id=actor.user_id, action="case.delivery_choice", object_type="case",
                 object_id=case.id, tenant_id=case.tenant_id, after={"method": method})
    return case


def delivery_view(session: Session, actor: Actor, case: Case, *, unmasked: bool) -> dict[str, Any]:
    """The choice (address masked unless the party looks) and, per mailed certificate, the courier's track."""
    address = address_of(case)
    if address and not unmasked:
        address = {"recipient": mask_name(address["recipient"]), "phone": mask_phone(address["phone"]),
                   "address": address["address"][:6] + "****"}
    certs = delivery.certificates_of(session, case.id)
    shipments = []
    for cert in certs:
        if cert.delivery != "mailed" or not cert.tracking_no:
            continue
        shipment: dict[str, Any] = {"number": cert.number, "tracking_no": cert.tracking_no, "events": [],
                                    "message": None}
        try:
            shipment["events"] = services.tracking(session, context_of(case, actor.user_id),
                                                   cert.tracking_no).get("events") or []
        except ServiceUnavailable:
            shipment["message"] = "快递查询服务暂不可用，请稍后刷新"
        if not shipment["events"] and not shipment["message"]:
            shipment["message"] = "暂无物流信息（快递公司尚未揽收）"
        shipments.append(shipment)
    collected = [c.number for c in certs if c.delivery == "collected"]
    return {"method": case.delivery_method, "method_label": METHODS.get(case.delivery_method or ""),
            "address": address, "shipments": shipments, "collected": collected}


def deliver_certificate(session: Session, actor: Actor, case: Case, cert: Certificate, *, method: str,
                        tracking_no: str | None = None) -> Certificate:
    """发证 of a case's certificate: fees paid first (online cases); mailed with no number typed in and a
    postal address chosen, the certificate goes to the courier through the express adapter."""
    actor.require("certificate:deliver")
    payments.require_paid(session, case)
    tracking = (tracking_no or "").strip()
    if method == "mailed" and not tracking and case.delivery_method == "postal":
        tracking = _ship(session, actor, case, cert.id)
    return delivery.deliver(session, actor, cert, method=method, tracking_no=tracking)


def _ship(session: Session, actor: Actor, case: Case, certificate_id: str) -> str:
    """Hand the certificate to the courier at the applicant's address; the tracking number."""
    address = address_of(case)
    if case.delivery_method != "postal" or not address:
        raise ValidationFailed("申请人未选择邮寄送达，请填写快递单号", field="tracking_no")
    return services.ship(session, context_of(case, actor.user_id), f"{case.business_no}-{certificate_id}",
                         f"{address['recipient']} {address['phone']} {address['address']}")
