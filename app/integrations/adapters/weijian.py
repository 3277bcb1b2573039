"""卫健 health: birth and death medical certificates by number."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.integrations.client import CallContext, call


def vital_certificate(session: Session, ctx: CallContext, cert_no: str) -> dict[str, Any] | None:
    reply = call(session, "weijian", "vital_certificate.query", "POST", "/weijian/certificates/query", ctx=ctx,
                 summary={"cert_no": cert_no}, json={"cert_no": cert_no})
    return reply.data if reply.status == 200 else None
