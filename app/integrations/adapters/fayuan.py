"""法院 courts: authenticity and effect of a judgment or 协助执行通知书 by document number."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.integrations.client import CallContext, call


def court_document(session: Session, ctx: CallContext, doc_no: str) -> dict[str, Any] | None:
    reply = call(session, "fayuan", "document.query", "POST", "/fayuan/documents/query", ctx=ctx,
                 summary={"doc_no": doc_no}, json={"doc_no": doc_no})
    return reply.data.get("document") if reply.status == 200 else None
