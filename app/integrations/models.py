"""The transactional outbox: a message is written in the same transaction as the state change it
announces, and delivered later (at least once; receivers dedupe on ``idempotency_key``)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, UTCDateTime, utcnow
from app.security.fields import EncryptedField
from app.vocabulary import OutboxStatus


class OutboxMessage(IdMixin, Base):
    """One message to push. ``ordering_key`` names what its receivers must see in order (a case's business
    number: its progress, result, certificate and the certificate's 作废 in the order they happened): a message
    is not sent while an older message of its key is still pending (app/integrations/outbox.py). Left empty by
    its producer, it is the payload's ``business_no``; None = no order to keep."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),
                      Index("ix_outbox_order", "ordering_key", "status", "created_at"))

    topic: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    ordering_key: Mapped[str | None] = mapped_column(String(64))
    tenant_id: Mapped[str | None] = mapped_column(String(12))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))


_created_lock = threading.Lock()
_last_created: list[datetime] = []
TIE = timedelta(milliseconds=1)  # a creation time this close behind the previous one is a tie, made later


@event.listens_for(OutboxMessage, "before_insert")
def _order_of(_mapper: Any, _connection: Any, message: OutboxMessage) -> None:
    """The ordering key from the payload when the producer named none, and a creation time strictly after
    the previous message's in this process: messages of one key are sent in ``created_at`` order, and the
    several a step adds in one flush (submit: up to 5) would otherwise share a microsecond now and then. A time
    well before the previous one (a clock set back, a test's frozen clock) is taken as it is."""
    if message.ordering_key is None and isinstance(message.payload, dict) and message.payload.get("business_no"):
        message.ordering_key = str(message.payload["business_no"])[:64]
    if message.created_at is None:
        with _created_lock:
            now = utcnow()
            if _last_created and timedelta(0) <= _last_created[0] - now < TIE:  # not a clock set back (or frozen)
                now = _last_created[0] + timedelta(microseconds=1)
            _last_created[:] = [now]
        message.created_at = now


class OutboxDelivery(IdMixin, Base):
    """One message to one subscriber: tracked apart so a failing receiver is retried (and dead-lettered) on its
    own, and the receivers that accepted are not sent the message again. Created on the first delivery pass
    for the subscribers of the topic at that time."""

    __tablename__ = "outbox_delivery"
    __table_args__ = (UniqueConstraint("message_id", "interface_code"),
                      Index("ix_outbox_delivery_status", "status"))

    message_id: Mapped[str] = mapped_column(ForeignKey("outbox_message.id", ondelete="CASCADE"))
    interface_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Interface(IdMixin, Base):
    """One external system the platform calls or pushes to (interface management): where it is, its
    credential (encrypted), timeout, retry policy, and its circuit breaker — kept here, in the database, so
    every app process sees the same breaker state."""

    __tablename__ = "interface"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    base_url: Mapped[str] = mapped_column(String(300))
    credential_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    timeout_ms: Mapped[int] = mapped_column(Integer, default=3000)
    max_retries: Mapped[int] = mapped_column(Integer, default=1)
    breaker_threshold: Mapped[int] = mapped_column(Integer, default=3)
    breaker_cooldown_s: Mapped[int] = mapped_column(Integer, default=30)
    # Outbox subscriptions: topics pushed to ``base_url + inbox_path`` (empty: not a subscriber).
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    inbox_path: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    breaker_state: Mapped[str] = mapped_column(String(16), default="closed")  # closed | open | half_open
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    credential = EncryptedField("credential_enc")


class InterfaceCallLog(IdMixin, Base):
    """Every outbound call: who, which case, what (a summary without personal data), outcome, latency.
    Written even when the business transaction rolls back (see ``app.integrations.calllog``)."""

    __tablename__ = "interface_call_log"
    __table_args__ = (Index("ix_interface_call_log_code_at", "interface_code", "at"),)

    interface_code: Mapped[str] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[str | None] = mapped_column(String(32))
    case_id: Mapped[str | None] = mapped_column(String(32), index=True)
    business_no: Mapped[str | None] = mapped_column(String(32), index=True)
    request_summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[str] = mapped_column(String(16))  # ok | error | timeout | rejected | short_circuit
    http_status: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JobLease(Base):
    """Who runs a scheduled job right now: a row per job with a lease that expires, so exactly one of
    several app processes delivers the outbox or refreshes timers (works on SQLite and PostgreSQL)."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
