"""Data sharing over HTTP: the signed 税务 callback, verification snapshots of a case (JSON and PDF), and
the interfaces with their call logs for operators."""
from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.casefile.access import get_case
from app.cases import payments
from app.cases.sharing import exemptions, snapshots, tax
from app.errors import ValidationFailed
from app.integrations import interfaces, outbox
from app.vocabulary import OutboxStatus
from app.web import current_actor, db_session, pdf_response

blp = Blueprint("integrations", __name__, url_prefix="/api/v1", description="部门信息共享")


@blp.post("/callbacks/tax")
def tax_callback() -> dict[str, Any]:
    """税务完税回调（HMAC-SHA256 签名：X-Timestamp、X-Signature；按业务号关联；幂等）"""
    raw = request.get_data(cache=True)
    tax.check_signature(request.headers.get("X-Timestamp", ""), request.headers.get("X-Signature", ""), raw)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body.get("business_no"):
        raise ValidationFailed("回调内容缺少业务号", field="business_no")
    return tax.record_tax_paid(db_session(), body)


@blp.post("/callbacks/payment")
def payment_callback() -> dict[str, Any]:
    """统一支付平台缴费回调（签名格式同税务回调、密钥为支付平台专用：X-Timestamp、X-Signature；按订单号关联；幂等）"""
    raw = request.get_data(cache=True)
    payments.check_callback_signature(request.headers.get("X-Timestamp", ""), request.headers.get("X-Signature", ""),
                                      raw)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body.get("order_no"):
        raise ValidationFailed("回调内容缺少订单号", field="order_no")
    return payments.record_payment(db_session(), body)


@blp.get("/applications/<case_id>/payment")
def payment_statement(case_id: str) -> dict[str, Any]:
    """缴费信息：登记费明细、税费（税务部门推送后）与缴费状态"""
    session = db_session()
    bill = payments.statement(session, get_case(session, current_actor(), case_id))
    return {**bill, "paid_at": bill["paid_at"].isoformat() if bill["paid_at"] else None}


class StartPayment(Schema):
    return_url = fields.String(load_default="", validate=validate.Length(max=2000), metadata={
        "description": "支付完成后返回的地址，只能是本平台地址；为空则停留在收银台"})


@blp.post("/applications/<case_id>/payment")
@blp.arguments(StartPayment)
def start_payment(body: dict[str, Any], case_id: str) -> dict[str, Any]:
    """发起缴费：返回统一支付平台收银台地址（pay_url），支付结果以平台回调为准"""
    session, actor = db_session(), current_actor()
    return {"pay_url": payments.start_payment(session, actor, get_case(session, actor, case_id),
                                              return_url=body["return_url"])}


@blp.get("/applications/<case_id>/verifications")
def list_verifications(case_id: str) -> dict[str, Any]:
    """部门共享核验记录（逐项标注一致/不一致/未核验）及免提交的材料"""
    session = db_session()
    case = get_case(session, current_actor(), case_id)
    return {"items": [snapshots.show(s) for s in snapshots.snapshots_of(session, case)],
            "waivers": exemptions.waivers_of(session, case)}


@blp.get("/applications/<case_id>/verifications/<snapshot_id>/pdf")
def verification_pdf(case_id: str, snapshot_id: str) -> Response:
    """下载核验记录 PDF（可打印归档）"""
    session = db_session()
    pdf = snapshots.snapshot_pdf(session, get_case(session, current_actor(), case_id), snapshot_id)
    return pdf_response(pdf, f"verification-{snapshot_id}.pdf")


class CallQuery(Schema):
    interface = fields.String(load_default=None)
    business_no = fields.String(load_default=None)
    case_id = fields.String(load_default=None)
    operation = fields.String(load_default=None)
    outcome = fields.String(load_default=None)
    since = fields.AwareDateTime(load_default=None, metadata={"description": "起始时间（ISO 8601，含时区）"})
    until = fields.AwareDateTime(load_default=None, metadata={"description": "截止时间（ISO 8601，含时区）"})
    limit = fields.Integer(load_default=100)


class OutboxQuery(Schema):
    status = fields.String(load_default=None, validate=lambda v: v in set(OutboxStatus))
    topic = fields.String(load_default=None)
    interface = fields.String(load_default=None)
    limit = fields.Integer(load_default=100)


@blp.get("/interfaces")
def list_interfaces() -> dict[str, Any]:
    """接口管理：各部门接口地址、超时、重试与熔断状态"""
    rows = interfaces.all_interfaces(db_session(), current_actor())
    return {"items": [{"code": i.code, "name": i.name, "base_url": i.base_url, "timeout_ms": i.timeout_ms,
                       "max_retries": i.max_retries, "enabled": i.enabled, "topics": i.topics,
                       "breaker_state": i.breaker_state, "failure_count": i.failure_count,
                       "opened_at": i.opened_at.isoformat() if i.opened_at else None} for i in rows]}


@blp.get("/interfaces/calls")
@blp.arguments(CallQuery, location="query")
def list_calls(args: dict[str, Any]) -> dict[str, Any]:
    """接口调用日志（按接口、业务号、案件、操作、结果、时间段查询；请求摘要不含个人信息原文）"""
    calls = interfaces.call_log(db_session(), current_actor(), interfaces.CallFilter(**args))
    return {"items": [{"id": c.id, "interface": c.interface_code, "operation": c.operation, "actor_id": c.actor_id,
                       "case_id": c.case_id, "business_no": c.business_no, "request": c.request_summary,
                       "outcome": c.outcome, "http_status": c.http_status, "attempts": c.attempts,
                       "latency_ms": c.latency_ms, "error": c.error, "at": c.at.isoformat()}
                      for c in calls]}


@blp.get("/outbox")
@blp.arguments(OutboxQuery, location="query")
def list_outbox(args: dict[str, Any]) -> dict[str, Any]:
    """消息外发（发件箱）：按状态、主题、接收方查询，逐个接收方显示送达/待重试/死信"""
    current_actor().require("interface:read")
    return {"items": outbox.listing(db_session(), status=args["status"], topic=args["topic"],
                                    interface=args["interface"], limit=args["limit"])}
