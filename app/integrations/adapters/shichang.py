"""市场监管 market regulation: business licence (营业执照) by USCC and name."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.integrations.client import CallContext, call


def business_licence(session: Session, ctx: CallContext, uscc: str, name: str) -> dict[str, Any]:
    # A company's credit code and name are public registration data, not personal data.
    return call(session, "shichang", "licence.query", "POST", "/shichang/licence/query", ctx=ctx,
                summary={"uscc": uscc}, json={"uscc": uscc, "name": name}).data
