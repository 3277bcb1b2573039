"""金融监管 (国家金融监督管理总局): financial licence (金融许可证) of a mortgagee."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.integrations.client import CallContext, call


def financial_licence(session: Session, ctx: CallContext, uscc: str, name: str) -> dict[str, Any]:
    return call(session, "jinrong", "financial_licence.query", "POST", "/jinrong/licence/query", ctx=ctx,
                summary={"uscc": uscc}, json={"uscc": uscc, "name": name}).data
