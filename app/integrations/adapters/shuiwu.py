"""税务 tax: push a tax case (idempotent per business number), look one up (reconciliation of lost
callbacks). The 完税 result arrives on the signed callback ``POST /api/v1/callbacks/tax``."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.integrations.client import CallContext, call


def push_tax_case(session: Session, ctx: CallContext, case: dict[str, Any]) -> dict[str, Any]:
    reply = call(session, "shuiwu", "tax_case.push", "POST", "/shuiwu/tax-cases", ctx=ctx,
                 summary={k: case.get(k) for k in ("business_no", "contract_no", "unit_code")}, json=case,
                 idempotency_key=f"tax-case:{case['business_no']}", answers=(422,))
    return {"accepted": reply.status < 300, **reply.data}


def tax_case(session: Session, ctx: CallContext, business_no: str) -> dict[str, Any] | None:
    reply = call(session, "shuiwu", "tax_case.query", "GET", f"/shuiwu/tax-cases/{business_no}", ctx=ctx,
                 summary={"business_no": business_no})
    return reply.data if reply.status == 200 else None
