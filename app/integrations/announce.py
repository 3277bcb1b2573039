"""After 登簿: the registration result goes to 住建 and 税务 (and the provincial platform) through the outbox,
in the recording transaction — announced if and only if the register changed."""
from __future__ import annotations

from typing import Any

from app.cases.context import CaseContext
from app.db import utcnow
from app.engine.connectors import connector
from app.integrations.models import OutboxMessage


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
