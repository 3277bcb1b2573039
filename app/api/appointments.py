"""预约 over the API: halls and their half-day slots, book / list / cancel one's own, and for clerks the
day's list at their hall and check-in by code."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.casefile.models import Appointment
from app.cases import appointments
from app.clock import beijing_today
from app.web import current_actor, db_session

blp = Blueprint("appointments", __name__, url_prefix="/api/v1/appointments", description="预约办理")


class SlotsArgs(Schema):
    tenant_id = fields.String(required=True, validate=validate.Length(equal=6))


class BookRequest(Schema):
    tenant_id = fields.String(required=True, validate=validate.Length(equal=6))
    business_type = fields.String(required=True, validate=validate.Length(min=1, max=64))
    day = fields.Date(required=True)
    half = fields.String(required=True, validate=validate.OneOf(list(appointments.HALVES)))


class DayArgs(Schema):
    day = fields.Date(load_default=None)


class CheckInRequest(Schema):
    code = fields.String(required=True, validate=validate.Length(min=4, max=12))


def _json(a: Appointment) -> dict[str, Any]:
    hall = appointments.offices().get(a.tenant_id, {})
    return {"id": a.id, "code": a.code, "tenant_id": a.tenant_id, "office": hall.get("name"),
            "address": hall.get("address"), "business_type": a.business_type_code, "day": a.day.isoformat(),
            "half": a.half, "half_label": appointments.HALVES[a.half], "status": a.status}


@blp.get("/slots")
@blp.arguments(SlotsArgs, location="query")
def slots(args: dict[str, Any]) -> dict[str, Any]:
    """某登记大厅今后可预约的半天时段及剩余名额"""
    current_actor()
    return {"items": [{"day": s.day.isoformat(), "half": s.half, "label": s.label, "capacity": s.capacity,
                       "remaining": s.remaining} for s in appointments.slots(db_session(), args["tenant_id"])]}


@blp.post("")
@blp.arguments(BookRequest)
@blp.response(201)
def book(body: dict[str, Any]) -> dict[str, Any]:
    """预约（返回预约码；约满时返回 409）"""
    return _json(appointments.book(db_session(), current_actor(), **body))


@blp.get("")
def mine() -> dict[str, Any]:
    """我的预约"""
    return {"items": [_json(a) for a in appointments.my_appointments(db_session(), current_actor())]}


@blp.post("/<appointment_id>/cancel")
def cancel(appointment_id: str) -> dict[str, Any]:
    """取消预约"""
    return _json(appointments.cancel(db_session(), current_actor(), appointment_id))


@blp.get("/day")
@blp.arguments(DayArgs, location="query")
def day_list(args: dict[str, Any]) -> dict[str, Any]:
    """本登记大厅某日的预约（工作人员）"""
    day: date = args["day"] or beijing_today()
    return {"day": day.isoformat(),
            "items": [_json(a) for a in appointments.day_list(db_session(), current_actor(), day)]}


@blp.post("/check-in")
@blp.arguments(CheckInRequest)
def check_in(body: dict[str, Any]) -> dict[str, Any]:
    """窗口签到（工作人员凭预约码）"""
    return _json(appointments.check_in(db_session(), current_actor(), body["code"]))
