"""住建 housing: 网签合同/备案 lookup (registration results are pushed through the outbox)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.integrations.client import CallContext, call


def filed_contract(session: Session, ctx: CallContext, contract_no: str) -> dict[str, Any] | None:
    """The filed contract, or None when 住建 has no such contract (a business answer, not a failure)."""
    reply = call(session, "zhujian", "contract.query", "POST", "/zhujian/contracts/query", ctx=ctx,
                 summary={"contract_no": contract_no}, json={"contract_no": contract_no})
    return reply.data.get("contract") if reply.status == 200 else None
