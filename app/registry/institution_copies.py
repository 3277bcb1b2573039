"""The 不动产登记证明 goes back to the bank electronically (guide 三.6, issue 19): once a certificate whose holder
is an institution with a receiving system (a bank, the mortgagee) is rendered and signed, an outbox message
(topic ``certificate.issued_to_institution``) carries the signed PDF to that system (interface
``bank_receiver``), so the bank has it without another call; the bank may still list and download it
(``GET /api/v1/institutions/certificates``).

The PDF names the parties, so it is sealed in the message (encrypted at rest, opened only when sent:
app/integrations/outbox.py ``SEALED``); its SHA-256 travels in clear for the receiver to check."""
from __future__ import annotations

import base64

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.identity.models import Institution
from app.integrations.models import OutboxMessage
from app.integrations.outbox import seal
from app.registry.models import Certificate
from app.security.fields import blind_index
from app.vocabulary import CertificateStatus

TOPIC = "certificate.issued_to_institution"
# Institution types with a receiving system; one interface per type (app/integrations/interfaces.py).
RECEIVERS = {"bank": "bank_receiver"}


def receiving_institutions(session: Session, cert: Certificate) -> list[Institution]:
    """The institutions of a receiving type among the certificate's holders (matched by their USCC's blind index)."""
    if not cert.holder_bidx:
        return []
    held = set(cert.holder_bidx)
    rows = session.execute(select(Institution).where(Institution.institution_type.in_(sorted(RECEIVERS)),
                                                     Institution.uscc.is_not(None))).scalars()
    return [i for i in rows if blind_index(i.uscc or "") in held]


def queue_copies(session: Session, cert: Certificate, pdf: bytes) -> list[OutboxMessage]:
    """In the rendering transaction: one message per receiving holder, at most once per certificate and holder."""
    if cert.case_id is None or cert.status != CertificateStatus.VALID or cert.sha256 is None:
        return []
    messages = []
    for institution in receiving_institutions(session, cert):
        key = f"certificate-copy:{cert.id}:{institution.id}"
        message = OutboxMessage(
            topic=TOPIC, idempotency_key=key, tenant_id=cert.tenant_id,
            payload={"business_no": cert.business_no, "certificate_no": cert.number, "kind": cert.kind,
                     "institution_uscc": institution.uscc, "institution_type": institution.institution_type,
                     "issued_at": cert.issued_at.isoformat(), "filename": f"{cert.number}.pdf",
                     "content_type": "application/pdf", "size": len(pdf), "sha256": cert.sha256,
                     **seal(key, {"pdf_base64": base64.b64encode(pdf).decode("ascii")})})
        session.add(message)
        messages.append(message)
    return messages
