"""税务 collaboration for transfers: push the tax case at submission, wait for 完税 before 登簿.

The tax case is pushed by the ``tax.push_case`` service task; if 税务 cannot be reached the push goes to the
outbox (topic ``tax.case``) and is delivered when it is back — the case is submitted either way and waits.
完税 arrives on the signed callback (``POST /api/v1/callbacks/tax``) or is found by the reconciliation job;
both end in ``record_tax_paid``, which is idempotent, keeps a snapshot, waives the 完税凭证 and, when the
workflow already waits at the 完税 message, delivers it. A diagram reads ``tax_paid()`` at its gateway, so a
result that came early is not lost.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dtime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile import progress
from app.casefile.access import definition_of
from app.casefile.context import CaseContext
from app.casefile.models import Case
from app.cases.sharing import exemptions, snapshots
from app.cases.sharing.snapshots import field
from app.clock import CHINA
from app.db import utcnow
from app.engine.connectors import connector
from app.engine.expressions import register_function
from app.engine.message_catalogue import TAX_PAID
from app.engine.runtime import WorkflowRuntime
from app.engine.workdays import calendar_for
from app.errors import AuthenticationRequired, NotFound
from app.identity.actor import SYSTEM, Actor
from app.integrations.adapters import shuiwu
from app.integrations.client import ServiceUnavailable
from app.integrations.models import OutboxMessage
from app.integrations.verification_models import TaxCase
from app.security import audit
from app.vocabulary import FINAL_STATUSES, CaseStatus, EventKind, TaxStatus

MESSAGE = TAX_PAID.name  # the catalogue entry (app/engine/message_catalogue.py)
SIGNATURE_MAX_AGE_S = 300


@dataclass
class TaxConfig:
    callback_url: str = "http://127.0.0.1:5000/api/v1/callbacks/tax"
    secret: str = ""
    wait_working_days: int = 5


def tax_config() -> TaxConfig:
    """This app's 税务 settings (``app.extensions["tax"]``, set by ``app.cases.init_app``)."""
    config: TaxConfig = current_app.extensions["tax"]
    return config


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 (hex) over ``"<X-Timestamp>.<raw body>"`` — the callback signature format."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def check_signature(timestamp: str, given: str, body: bytes, *, secret: str | None = None,
                    now: float | None = None) -> None:
    """Refuse (401) a callback whose signature is missing, wrong or older than five minutes (replay).
    ``secret`` is the calling department's own (default: 税务's); one department cannot sign for another."""
    try:
        age = abs((now or time.time()) - int(timestamp))
    except ValueError:
        age = SIGNATURE_MAX_AGE_S + 1
    secret = tax_config().secret if secret is None else secret
    if not secret:  # never accept a signature made with an empty key
        raise AuthenticationRequired("回调签名无效或已过期", code="bad_signature")
    expected = signature(secret, timestamp, body)
    if not given or age > SIGNATURE_MAX_AGE_S or not hmac.compare_digest(expected, given):
        raise AuthenticationRequired("回调签名无效或已过期", code="bad_signature")


def _payload(case: Case) -> dict[str, Any]:
    form = case.form_public
    return {"business_no": case.business_no, "contract_no": form.get("contract_no"), "unit_code": case.unit_code,
            "price": form.get("price"), "use": form.get("use"), "callback_url": tax_config().callback_url}


@connector("tax.push_case")
def push_tax_case(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    ctx: CaseContext = context
    session, case = ctx.session, ctx.case
    # Not flushed for: the submission's changes to the case go out with its later ones, in one UPDATE (issue
    # 18); a tax case this transaction added is found among the pending rows.
    tax = next((o for o in session.new if isinstance(o, TaxCase) and o.case_id == case.id), None)
    if tax is None:
        with session.no_autoflush:
            tax = session.execute(select(TaxCase).where(TaxCase.case_id == case.id)).scalar_one_or_none()
    if tax is None:
        tax = TaxCase(case_id=case.id, tenant_id=case.tenant_id, business_no=case.business_no or "",
                      status=TaxStatus.PENDING)
        session.add(tax)
    if tax.status != TaxStatus.PENDING:
        return {"status": tax.status}
    try:
        answer = shuiwu.push_tax_case(session, snapshots.context_of(case, ctx.actor.user_id), _payload(case))
    except ServiceUnavailable:
        session.add(OutboxMessage(topic="tax.case", idempotency_key=f"tax-case:{case.business_no}",
                                  tenant_id=case.tenant_id, payload=_payload(case)))
        progress.add_event(session, case, kind=EventKind.TAX_PUSH_QUEUED, actor=ctx.actor,
                           message="税务部门暂不可用，税务事项已排队，恢复后自动推送")
        return {"status": "queued"}
    if answer.get("accepted"):
        tax.status, tax.tax_case_no, tax.pushed_at = TaxStatus.PUSHED, answer.get("tax_case_no"), utcnow()
    else:
        tax.status = TaxStatus.REFUSED
    audit.record(session, actor_id=ctx.actor.user_id, action="tax.push", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after={"status": tax.status, "tax_case_no": tax.tax_case_no})
    return {"status": tax.status}


@connector("tax.await_payment", sample={"due_at": "2099-12-31T00:00:00+08:00"})
def await_payment(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Entered when 完税 has not arrived yet: shows the case as 待完税 and sets the escalation deadline."""
    ctx: CaseContext = context
    ctx.case.status = CaseStatus.AWAITING_TAX
    due = calendar_for(ctx.session).add_working_days(datetime.now(CHINA).date(), tax_config().wait_working_days)
    return {"due_at": datetime.combine(due, dtime(0, 0), CHINA).isoformat()}


@register_function("tax_paid", needs_context=True)
def tax_paid(context: Any) -> bool:
    """True when 税务 has reported 完税 for the case (gateway condition before 登簿)."""
    if context is None:
        return False
    status = context.session.execute(select(TaxCase.status).where(TaxCase.case_id == context.case.id)).scalar()
    return bool(status == TaxStatus.PAID)


def record_tax_paid(session: Session, result: dict[str, Any], *, actor: Actor = SYSTEM,
                    via: str = "callback") -> dict[str, Any]:
    """Apply a 完税 result (idempotent): snapshot, waiver of the 完税凭证, event, and the workflow message."""
    business_no = str(result.get("business_no") or "")
    # Locked like a step completion locks it (cases.handling): a 完税 arriving while a clerk's step is being
    # committed either lands first (the step's gateway then sees it paid) or after (and finds the wait).
    case = session.execute(select(Case).where(Case.business_no == business_no).with_for_update()
                           .execution_options(all_tenants=True, populate_existing=True)).scalar_one_or_none()
    if case is None:
        raise NotFound("没有该业务号的登记申请", code="case_not_found")
    tax = session.execute(select(TaxCase).where(TaxCase.case_id == case.id).with_for_update()).scalar_one_or_none()
    if tax is None:
        tax = TaxCase(case_id=case.id, tenant_id=case.tenant_id, business_no=business_no, status=TaxStatus.PENDING)
        session.add(tax)
    if tax.status == TaxStatus.PAID:
        return {"business_no": business_no, "status": TaxStatus.PAID, "duplicate": True}
    if result.get("status") != "完税":
        return {"business_no": business_no, "status": tax.status, "duplicate": False}
    tax.status, tax.paid_at = TaxStatus.PAID, utcnow()
    tax.voucher_no, tax.total_yuan = result.get("voucher_no"), str(result.get("total") or "")
    tax.tax_case_no = tax.tax_case_no or result.get("tax_case_no")
    tax.result = {k: result.get(k) for k in ("tax_case_no", "voucher_no", "paid_at", "total", "items",
                                             "unit_code", "contract_no")}
    fields = [field("业务号", business_no, business_no, "一致"),
              field("网签合同编号", case.form_public.get("contract_no"), result.get("contract_no"),
                    "一致" if case.form_public.get("contract_no") == result.get("contract_no") else "不一致"),
              field("不动产单元号", case.unit_code, result.get("unit_code"),
                    "一致" if case.unit_code == result.get("unit_code") else "不一致"),
              field("完税状态", "完税", result.get("status"), "一致"),
              field("电子税票号码", None, result.get("voucher_no"), "一致"),
              field("税款合计（元）", None, result.get("total"), "一致")]
    snap = snapshots.take(session, case, actor.user_id, source="tax", operation="tax.paid", fields=fields)
    if snap.result == "一致":
        exemptions.waive(session, case, definition_of(session, case), source="tax", role=None, snapshot=snap,
                         reason=f"税务部门已推送完税信息（电子税票 {tax.voucher_no}），免提交完税凭证")
    progress.add_event(session, case, kind=EventKind.TAX_PAID, actor=None, message="税务部门已推送完税信息")
    audit.record(session, actor_id=actor.user_id, action="tax.paid", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after={"via": via, "voucher_no": tax.voucher_no, "result": snap.result})
    if case.status != CaseStatus.DRAFT and case.status not in FINAL_STATUSES:
        from app.cases.intake import apply_outcome

        outcome = WorkflowRuntime(session, CaseContext(session, case, actor)).deliver_message(
            case.id, MESSAGE, {"tax_voucher_no": tax.voucher_no})
        if outcome is not None:
            apply_outcome(session, case, outcome)
    return {"business_no": business_no, "status": TaxStatus.PAID, "duplicate": False}
