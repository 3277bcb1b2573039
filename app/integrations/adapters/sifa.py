"""司法行政 justice: notarial certificates (公证书) by number."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.integrations.client import CallContext, call


def notarial_certificate(session: Session, ctx: CallContext, cert_no: str) -> dict[str, Any] | None:
    reply = call(session, "sifa", "notarial.query", "POST", "/sifa/notarial/query", ctx=ctx,
                 summary={"cert_no": cert_no}, json={"cert_no": cert_no})
    return reply.data if reply.status == 200 else None
