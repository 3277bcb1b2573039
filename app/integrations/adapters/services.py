"""Shared services: SMS gateway, face verification, payment gateway, express delivery."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.integrations.client import CallContext, call
from app.security.masking import mask_id_number, mask_phone


def send_sms(session: Session, ctx: CallContext, phone: str, template: str, params: dict[str, Any]) -> str:
    reply = call(session, "sms", "sms.send", "POST", "/sms/send", ctx=ctx,
                 summary={"phone": mask_phone(phone), "template": template},
                 json={"phone": phone, "template": template, "params": params})
    return str(reply.data.get("message_id", ""))


def face_score(session: Session, ctx: CallContext, id_number: str, image_b64: str) -> float:
    reply = call(session, "face", "face.verify", "POST", "/face/verify", ctx=ctx,
                 summary={"id_number": mask_id_number(id_number), "image_bytes": len(image_b64)},
                 json={"id_number": id_number, "image": image_b64})
    return float(reply.data.get("score", 0.0))


def create_payment(session: Session, ctx: CallContext, order_no: str, amount_yuan: str,
                   notify_url: str, *, return_url: str = "", subject: str = "") -> dict[str, Any]:
    """Open an order; the answer's ``pay_url`` is the cashier page the payer's browser is sent to."""
    return call(session, "payment", "payment.create", "POST", "/pay/orders", ctx=ctx,
                summary={"order_no": order_no, "amount": amount_yuan},
                json={"order_no": order_no, "amount": amount_yuan, "notify_url": notify_url,
                      "return_url": return_url, "subject": subject},
                idempotency_key=f"pay:{order_no}").data


def ship(session: Session, ctx: CallContext, order_no: str, address: str) -> str:
    reply = call(session, "express", "express.ship", "POST", "/express/shipments", ctx=ctx,
                 summary={"order_no": order_no}, json={"order_no": order_no, "address": address},
                 idempotency_key=f"ship:{order_no}")
    return str(reply.data.get("tracking_no", ""))


def tracking(session: Session, ctx: CallContext, tracking_no: str) -> dict[str, Any]:
    return call(session, "express", "express.track", "GET", f"/express/shipments/{tracking_no}", ctx=ctx,
                summary={"tracking_no": tracking_no}).data
