"""After 登簿: the registration result goes to 住建 and 税务 (and the provincial platform) through the outbox,
in the recording transaction — announced if and only if the register changed. After 缮证: the issued
e-certificate is collected into the 电子证照库 (电子证照归集) the same way, in the issuing transaction."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.casefile.context import CaseContext
from app.db import utcnow
from app.engine.connectors import connector
from app.integrations.models import OutboxMessage
from app.vocabulary import CertificateStatus

if TYPE_CHECKING:
    from app.registry.models import Certificate


@connector("results.announce")
def announce_result(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    ctx: CaseContext = context
    case = ctx.case
    form = case.form_public
    ctx.session.add(OutboxMessage(
        topic="registration.result", idempotency_key=f"result:{case.id}", tenant_id=case.tenant_id,
        payload={"business_no": case.business_no, "business_type": case.business_type_code,
                 "unit_code": case.unit_code, "contract_no": form.get("contract_no"), "result": "已登簿",
                 "recorded_at": utcnow().isoformat()}))
    return {"announced": True}


def announce_certificate(session: Any, cert: Certificate, verify_url: str) -> OutboxMessage:
    """电子证照归集: the certificate's metadata for the 证照库 — number, kind, unit, right, office, date, the
    signed file's SHA-256 and where to verify and fetch it. Holders only masked (张*三) and no ID numbers: the
    outbox carries no personal data; the 证照库 fetches the signed certificate itself, by its verification
    link, over its authenticated connection, when it needs to bind it to a holder."""
    summary = cert.summary or {}
    message = OutboxMessage(
        topic="certificate.issued", idempotency_key=f"certificate:{cert.id}", tenant_id=cert.tenant_id,
        payload={"business_no": cert.business_no, "certificate_no": cert.number, "kind": cert.kind,
                 "title": summary.get("title"), "status": "有效", "unit_code": summary.get("unit_code"),
                 "right_type": summary.get("right_type"), "holders_masked": list(summary.get("holders") or []),
                 "holder_count": len(summary.get("holders") or []), "office": summary.get("office"),
                 "issued_on": summary.get("issued_on"), "issued_at": cert.issued_at.isoformat(),
                 "sha256": cert.sha256, "verify_url": verify_url})
    session.add(message)
    return message


CERTIFICATE_STATUS: dict[str, str] = {CertificateStatus.REVOKED: "注销", CertificateStatus.VOIDED: "作废"}


def announce_certificate_status(session: Any, cert: Certificate) -> OutboxMessage | None:
    """A collected certificate that is no longer valid (注销 by a later 登簿, 作废 as 废号): the 证照库 is told,
    so it stops presenting it. Only certificates of cases were collected (not 无房证明)."""
    if cert.case_id is None or cert.status not in CERTIFICATE_STATUS:
        return None
    message = OutboxMessage(
        topic="certificate.status", idempotency_key=f"certificate-status:{cert.id}:{cert.status}",
        tenant_id=cert.tenant_id,
        payload={"business_no": cert.revoked_by_business_no or cert.business_no, "certificate_no": cert.number,
                 "kind": cert.kind, "status": CERTIFICATE_STATUS[cert.status],
                 "changed_at": (cert.revoked_at or utcnow()).isoformat()})
    session.add(message)
    return message
