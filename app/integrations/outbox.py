"""Outbox delivery: pending messages go to every subscriber interface of their topic, at least once.

Each message is its own transaction: claimed (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), its pushes made with no
transaction open (app/integrations/answers.py re-runs the claim with their answers), and tracked per
subscriber (``OutboxDelivery``, created on the first pass for the topic's subscribers then): each receiver is
sent the message with its ``Idempotency-Key`` until it accepts (receivers dedupe, so a crash between send and
commit only causes a duplicate), a receiver that accepted is not sent it again when another fails, and a
receiver that keeps failing is dead-lettered on its own after ``max_attempts``. The message is ``sent`` when
every receiver accepted, ``dead`` when the ones left are dead (visible in ``flask outbox list`` and
``GET /api/v1/outbox``), and otherwise retried with exponential back-off.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.integrations.answers import each_in_own_transaction
from app.integrations.client import CallContext, ServiceUnavailable, call
from app.integrations.models import Interface, OutboxDelivery, OutboxMessage
from app.vocabulary import OutboxStatus

BASE_DELAY_S = 5
MAX_DELAY_S = 3600


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return f"已送达 {self.sent} 条，待重试 {self.retried} 条，死信 {self.dead} 条，无订阅者 {self.skipped} 条"


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BASE_DELAY_S * 2 ** max(attempts - 1, 0), MAX_DELAY_S))


def _subscribers(session: Session) -> dict[str, list[Interface]]:
    by_topic: dict[str, list[Interface]] = {}
    for iface in session.execute(select(Interface).where(Interface.enabled.is_(True))).scalars():
        for topic in iface.topics or []:
            if iface.inbox_path:
                by_topic.setdefault(topic, []).append(iface)
    return by_topic


def deliveries_of(session: Session, message: OutboxMessage) -> list[OutboxDelivery]:
    return list(session.execute(select(OutboxDelivery).where(OutboxDelivery.message_id == message.id)
                                .order_by(OutboxDelivery.interface_code)).scalars())


def _send(session: Session, iface: Interface, message: OutboxMessage) -> str | None:
    """Push one message to one subscriber; the error text, or None when it accepted."""
    try:
        reply = call(session, iface.code, f"push.{message.topic}", "POST", iface.inbox_path or "",
                     ctx=CallContext(business_no=str(message.payload.get("business_no") or "") or None),
                     summary={"topic": message.topic, "key": message.idempotency_key},
                     json={"topic": message.topic, **message.payload},
                     idempotency_key=message.idempotency_key, answers=())
    except ServiceUnavailable as exc:
        return exc.message
    return f"HTTP {reply.status}" if reply.status >= 300 else None


def deliver_pending(session: Session, *, max_attempts: int = 8, limit: int = 100) -> DeliveryReport:
    """One delivery pass over due messages, each message its own transaction committed by ``session`` (the
    job's): the message row is claimed, the pushes are made with no transaction open (app/integrations/
    answers.py) and their outcome recorded with the claim re-taken."""
    due = list(session.execute(select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.PENDING,
                                                              OutboxMessage.next_attempt_at <= utcnow())
                               .order_by(OutboxMessage.next_attempt_at).limit(limit)).scalars())
    report = DeliveryReport()
    for one in each_in_own_transaction(session, due, lambda message_id: deliver_message(
            session, message_id, max_attempts=max_attempts)):
        report.sent += one.sent
        report.retried += one.retried
        report.dead += one.dead
        report.skipped += one.skipped
    return report


def deliver_message(session: Session, message_id: str, *, max_attempts: int = 8) -> DeliveryReport:
    """Send one message to its receivers still waiting for it; nothing when another deliverer holds it or
    has already sent it."""
    now, report = utcnow(), DeliveryReport()
    message = session.execute(select(OutboxMessage).where(OutboxMessage.id == message_id,
                                                          OutboxMessage.status == OutboxStatus.PENDING)
                              .with_for_update(skip_locked=True)
                              .execution_options(populate_existing=True)).scalar_one_or_none()
    if message is None:
        return report
    subscribers = _subscribers(session)
    deliveries = deliveries_of(session, message)
    if not deliveries:
        for iface in subscribers.get(message.topic, []):
            delivery = OutboxDelivery(message_id=message.id, interface_code=iface.code, status=OutboxStatus.PENDING,
                                      attempts=0)
            session.add(delivery)
            deliveries.append(delivery)
    if not deliveries:
        message.status, message.sent_at, message.last_error = OutboxStatus.SENT, now, "no subscriber"
        report.skipped += 1
        return report
    message.attempts += 1
    by_code = {i.code: i for i in subscribers.get(message.topic, [])}
    errors = []
    for delivery in deliveries:
        if delivery.status != OutboxStatus.PENDING:
            continue
        subscriber = by_code.get(delivery.interface_code)
        error = (_send(session, subscriber, message) if subscriber is not None
                 else "subscriber disabled or unsubscribed")
        delivery.attempts += 1
        if error is None:
            delivery.status, delivery.sent_at, delivery.last_error = OutboxStatus.SENT, utcnow(), None
            continue
        delivery.last_error = error[:500]
        if delivery.attempts >= max_attempts:
            delivery.status = OutboxStatus.DEAD
        errors.append(f"{delivery.interface_code}: {error}")
    statuses = {d.status for d in deliveries}
    message.last_error = "；".join(errors)[:500] or None
    if statuses == {OutboxStatus.SENT}:
        message.status, message.sent_at = OutboxStatus.SENT, utcnow()
        report.sent += 1
    elif OutboxStatus.PENDING not in statuses:
        message.status = OutboxStatus.DEAD
        report.dead += 1
    else:
        message.next_attempt_at = utcnow() + backoff(message.attempts)
        report.retried += 1
    session.flush()
    return report


def listing(session: Session, *, status: str | None = None, topic: str | None = None,
            interface: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Messages for operators (newest first), each with the state of every receiver. ``interface`` keeps the
    messages that receiver has (in ``status``, when given, per receiver: its own dead letters)."""
    stmt = select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(min(max(limit, 1), 1000))
    if interface:
        sub = select(OutboxDelivery.message_id).where(OutboxDelivery.interface_code == interface)
        if status:
            sub = sub.where(OutboxDelivery.status == status)
        stmt = stmt.where(OutboxMessage.id.in_(sub))
    elif status:
        stmt = stmt.where(OutboxMessage.status == status)
    if topic:
        stmt = stmt.where(OutboxMessage.topic == topic)
    messages = list(session.execute(stmt).scalars())
    by_message: dict[str, list[OutboxDelivery]] = {}
    if messages:
        for d in session.execute(select(OutboxDelivery).where(OutboxDelivery.message_id.in_([m.id for m in messages]))
                                 .order_by(OutboxDelivery.interface_code)).scalars():
            by_message.setdefault(d.message_id, []).append(d)
    return [{"id": m.id, "topic": m.topic, "idempotency_key": m.idempotency_key, "status": m.status,
             "attempts": m.attempts, "last_error": m.last_error, "created_at": m.created_at.isoformat(),
             "next_attempt_at": m.next_attempt_at.isoformat(), "sent_at": m.sent_at.isoformat() if m.sent_at else None,
             "business_no": m.payload.get("business_no"),
             "deliveries": [{"interface": d.interface_code, "status": d.status, "attempts": d.attempts,
                             "last_error": d.last_error, "sent_at": d.sent_at.isoformat() if d.sent_at else None}
                            for d in by_message.get(m.id, [])]}
            for m in messages]


def retry_dead(session: Session, message: OutboxMessage) -> list[str]:
    """Put a dead message back in the queue for its dead receivers only (after the subscriber is fixed);
    returns their codes. Receivers that accepted are not sent it again."""
    codes = []
    for delivery in deliveries_of(session, message):
        if delivery.status == OutboxStatus.DEAD:
            delivery.status, delivery.attempts = OutboxStatus.PENDING, 0
            codes.append(delivery.interface_code)
    message.status, message.attempts, message.next_attempt_at = OutboxStatus.PENDING, 0, utcnow()
    return codes
