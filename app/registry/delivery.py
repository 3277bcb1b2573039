"""发证: handing over the paper certificate — mailed with the courier's tracking number, or collected in
person at the window. Recorded once per certificate, audited; the electronic certificate is unaffected.
For a case's certificate call ``app.cases.receiving.deliver_certificate``: it checks payment first and can
hand the certificate to the courier at the applicant's address."""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.identity.actor import Actor
from app.registry.models import Certificate
from app.security import audit
from app.vocabulary import CertificateStatus

DELIVERY_LABELS = {"mailed": "已邮寄", "collected": "已领取"}
_TRACKING = re.compile(r"^[A-Za-z0-9-]{6,40}$")


def certificates_of(session: Session, case_id: str) -> list[Certificate]:
    """The certificates issued for a case, oldest first (voided and revoked ones included)."""
    return list(session.execute(select(Certificate).where(Certificate.case_id == case_id)
                                .order_by(Certificate.issued_at)).scalars())


def certificate_of_case(session: Session, case_id: str, certificate_id: str) -> Certificate:
    cert = session.execute(select(Certificate).where(Certificate.id == certificate_id,
                                                     Certificate.case_id == case_id)).scalar_one_or_none()
    if cert is None:
        raise NotFound("未找到该证书", code="certificate_not_found")
    return cert


def deliver(session: Session, actor: Actor, cert: Certificate, *, method: str,
            tracking_no: str | None = None) -> Certificate:
    actor.require("certificate:deliver")
    if method not in DELIVERY_LABELS:
        raise ValidationFailed("请选择邮寄或现场领取", field="method")
    tracking = (tracking_no or "").strip()
    if method == "mailed" and not _TRACKING.match(tracking):
        raise ValidationFailed("请填写正确的快递单号（6–40 位字母、数字或连字符）", field="tracking_no")
    if cert.status != CertificateStatus.VALID:
        raise Conflict("该证书已注销或作废，不能发证", code="certificate_not_valid")
    if cert.rendering:  # the paper is printed from the signed PDF
        raise Conflict("该证书尚在制证中，请稍后再发证", code="certificate_rendering")
    if cert.delivery:
        raise Conflict(f"该证书已发证（{DELIVERY_LABELS[cert.delivery]}）", code="already_delivered")
    cert.delivery, cert.tracking_no = method, tracking if method == "mailed" else None
    cert.delivered_at, cert.delivered_by = utcnow(), actor.user_id
    audit.record(session, actor_id=actor.user_id, action="certificate.deliver", object_type="certificate",
                 object_id=cert.id, tenant_id=cert.tenant_id,
                 after={"delivery": method, "tracking_no": cert.tracking_no})
    return cert
