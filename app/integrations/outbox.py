"""Outbox delivery: pending messages go to every subscriber interface of their topic, at least once.

A message is claimed by the delivering transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), sent to each
subscriber with its ``Idempotency-Key`` (receivers dedupe, so a crash between send and commit only causes a
duplicate), and marked ``sent`` when all accepted. Otherwise it is retried with exponential back-off and
marked ``dead`` after ``max_attempts`` — visible to operators in ``flask outbox list``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.integrations.client import CallContext, ServiceUnavailable, call
from app.integrations.models import Interface, OutboxMessage

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


def deliver_pending(session: Session, *, max_attempts: int = 8, limit: int = 100) -> DeliveryReport:
    """One delivery pass over due messages, inside the caller's transaction (the job commits it)."""
    now, report = utcnow(), DeliveryReport()
    subscribers = _subscribers(session)
    due = session.execute(select(OutboxMessage).where(OutboxMessage.status == "pending",
                                                      OutboxMessage.next_attempt_at <= now)
                          .order_by(OutboxMessage.next_attempt_at).limit(limit)
                          .with_for_update(skip_locked=True)).scalars().all()
    for message in due:
        targets = subscribers.get(message.topic, [])
        if not targets:
            message.status, message.sent_at, message.last_error = "sent", now, "no subscriber"
            report.skipped += 1
            continue
        message.attempts += 1
        errors = []
        for iface in targets:
            try:
                reply = call(session, iface.code, f"push.{message.topic}", "POST", iface.inbox_path or "",
                             ctx=CallContext(business_no=str(message.payload.get("business_no") or "") or None),
                             summary={"topic": message.topic, "key": message.idempotency_key},
                             json={"topic": message.topic, **message.payload},
                             idempotency_key=message.idempotency_key, answers=())
                if reply.status >= 300:
                    errors.append(f"{iface.code}: HTTP {reply.status}")
            except ServiceUnavailable as exc:
                errors.append(f"{iface.code}: {exc.message}")
        if not errors:
            message.status, message.sent_at, message.last_error = "sent", utcnow(), None
            report.sent += 1
        elif message.attempts >= max_attempts:
            message.status, message.last_error = "dead", "；".join(errors)[:500]
            report.dead += 1
        else:
            message.next_attempt_at, message.last_error = utcnow() + backoff(message.attempts), "；".join(errors)[:500]
            report.retried += 1
    return report
