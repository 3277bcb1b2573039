"""预约: half-day appointments at a district's registration hall. Capacity per half-day comes from
dictionaries/offices.yaml; the slot row is locked while a booking counts, so concurrent bookings of the last
place cannot both succeed. Booking, cancelling and checking in are audited; the SMS confirmation goes
through the outbox (no phone number in it: the deliverer looks the user up)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.models import Appointment, AppointmentSlot
from app.catalog.service import current_version, version_definition
from app.clock import beijing_today
from app.config import ROOT
from app.db import locked_row, utcnow
from app.engine.workdays import SHIPPED, WorkCalendar, calendar_for
from app.errors import Conflict, NotFound, ValidationFailed
from app.identity.actor import Actor
from app.integrations.models import OutboxMessage
from app.security import audit
from app.vocabulary import AppointmentStatus

HALVES = {"am": "上午", "pm": "下午"}
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out at a window


@lru_cache(maxsize=1)
def _config() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "dictionaries" / "offices.yaml").read_text(encoding="utf-8"))


def offices() -> dict[str, dict[str, Any]]:
    return {str(k): v for k, v in _config()["offices"].items()}



def bookable_days(today: date | None = None, calendar: WorkCalendar = SHIPPED) -> list[date]:
    """The next working days one may book (not today: the hall plans the day before)."""
    start = today or beijing_today()
    return [calendar.add_working_days(start, n) for n in range(1, int(_config()["booking_window_days"]) + 1)]


@dataclass(frozen=True)
class Slot:
    day: date
    half: str
    capacity: int
    booked: int

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.booked, 0)

    @property
    def label(self) -> str:
        return f"{self.day.isoformat()} {HALVES[self.half]}"


def slots(session: Session, tenant_id: str, today: date | None = None) -> list[Slot]:
    office = offices().get(tenant_id)
    if office is None:
        raise NotFound("该辖区没有可预约的登记大厅", code="office_not_found")
    days = bookable_days(today, calendar_for(session))
    taken = {(s.day, s.half): s.booked for s in session.execute(
        select(AppointmentSlot).where(AppointmentSlot.tenant_id == tenant_id, AppointmentSlot.day.in_(days)))
        .scalars()}
    return [Slot(d, h, int(office["capacity"][h]), taken.get((d, h), 0)) for d in days for h in HALVES]


def book(session: Session, actor: Actor, *, tenant_id: str, business_type: str, day: date, half: str,
         today: date | None = None) -> Appointment:
    actor.require("application:create")
    errors: dict[str, list[str]] = {}
    office = offices().get(tenant_id)
    if office is None:
        errors["tenant_id"] = ["请选择可预约的登记大厅"]
    if half not in HALVES:
        errors["half"] = ["请选择上午或下午"]
    if day not in bookable_days(today, calendar_for(session)):
        errors["day"] = [f"只能预约今后 {_config()['booking_window_days']} 个工作日内的日期"]
    if errors or office is None:  # no office: errors["tenant_id"] says so
        raise ValidationFailed("预约信息有误", errors=errors)
    definition = version_definition(current_version(session, business_type))
    if definition.applicant_mode in ("嘱托", "内部"):
        raise ValidationFailed("该业务由有权机关嘱托或登记机构内部办理，无需预约", field="business_type")
    mine = session.execute(select(Appointment).where(Appointment.user_id == actor.user_id, Appointment.day == day,
                                                     Appointment.half == half,
                                                     Appointment.status == AppointmentStatus.BOOKED)
                           .execution_options(all_tenants=True)).scalars().first()
    if mine is not None:
        raise Conflict(f"您已预约 {day.isoformat()} {HALVES[half]}（预约码 {mine.code}）", code="already_booked")
    slot = locked_row(session, AppointmentSlot, {"booked": 0}, tenant_id=tenant_id, day=day, half=half)
    capacity = int(office["capacity"][half])
    if slot.booked >= capacity:
        raise Conflict(f"{day.isoformat()} {HALVES[half]}已约满，请选择其他时段", code="slot_full",
                       errors={"half": ["该时段已约满"]})
    slot.booked += 1
    appointment = Appointment(tenant_id=tenant_id, user_id=actor.user_id, business_type_code=business_type, day=day,
                              half=half, code="".join(secrets.choice(CODE_ALPHABET) for _ in range(8)))
    appointment.ensure_id()
    session.add(appointment)
    _announce(session, appointment, AppointmentStatus.BOOKED)
    audit.record(session, actor_id=actor.user_id, action="appointment.book", object_type="appointment",
                 object_id=appointment.id, tenant_id=tenant_id,
                 after={"day": day.isoformat(), "half": half, "business_type": business_type})
    return appointment


def cancel(session: Session, actor: Actor, appointment_id: str) -> Appointment:
    appointment = session.execute(select(Appointment).where(Appointment.id == appointment_id,
                                                            Appointment.user_id == actor.user_id)
                                  .execution_options(all_tenants=True)).scalar_one_or_none()
    if appointment is None:
        raise NotFound("预约不存在", code="appointment_not_found")
    if appointment.status != AppointmentStatus.BOOKED:
        raise Conflict("该预约已取消或已签到，不能取消", code="appointment_closed")
    slot = locked_row(session, AppointmentSlot, {"booked": 0}, tenant_id=appointment.tenant_id, day=appointment.day,
                      half=appointment.half)
    slot.booked = max(slot.booked - 1, 0)
    appointment.status, appointment.cancelled_at = AppointmentStatus.CANCELLED, utcnow()
    _announce(session, appointment, AppointmentStatus.CANCELLED)
    audit.record(session, actor_id=actor.user_id, action="appointment.cancel", object_type="appointment",
                 object_id=appointment.id, tenant_id=appointment.tenant_id)
    return appointment


def my_appointments(session: Session, actor: Actor) -> list[Appointment]:
    return list(session.execute(select(Appointment).where(Appointment.user_id == actor.user_id)
                                .order_by(Appointment.day.desc(), Appointment.half)
                                .execution_options(all_tenants=True)).scalars())


def day_list(session: Session, actor: Actor, day: date) -> list[Appointment]:
    """The day's bookings at the clerk's own hall (the tenant scope applies)."""
    actor.require("case:read")
    return list(session.execute(select(Appointment).where(Appointment.day == day,
                                                          Appointment.status != AppointmentStatus.CANCELLED)
                                .order_by(Appointment.half, Appointment.created_at)).scalars())


def check_in(session: Session, actor: Actor, code: str) -> Appointment:
    """At the window: the applicant shows the code; the clerk's intake then starts from it."""
    actor.require("case:read")
    appointment = session.execute(select(Appointment).where(Appointment.code == code.strip().upper()))\
        .scalar_one_or_none()
    if appointment is None:
        raise NotFound("预约码不存在或不属于本登记大厅", code="appointment_not_found")
    if appointment.status != AppointmentStatus.BOOKED:
        raise Conflict("该预约已取消或已签到", code="appointment_closed")
    if appointment.day != beijing_today():
        raise Conflict(f"该预约日期为 {appointment.day.isoformat()}，不是今天", code="appointment_wrong_day")
    appointment.status, appointment.checked_in_at = AppointmentStatus.CHECKED_IN, utcnow()
    audit.record(session, actor_id=actor.user_id, action="appointment.check_in", object_type="appointment",
                 object_id=appointment.id, tenant_id=appointment.tenant_id)
    return appointment


def _announce(session: Session, appointment: Appointment, event: str) -> None:
    office = offices().get(appointment.tenant_id, {})
    session.add(OutboxMessage(
        topic="sms.appointment", idempotency_key=f"appointment:{appointment.ensure_id()}:{event}",
        ordering_key=f"appointment:{appointment.id}", tenant_id=appointment.tenant_id,  # booked before cancelled
        payload={"user_id": appointment.user_id, "event": event, "code": appointment.code,
                 "day": appointment.day.isoformat(), "half": HALVES[appointment.half],
                 "office": office.get("name"), "address": office.get("address")}))
