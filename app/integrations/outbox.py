"""Outbox delivery: pending messages go to every subscriber interface of their topic, at least once.

Each message is its own transaction: claimed (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), its pushes made with no
transaction open (app/integrations/answers.py re-runs the claim with their answers), and tracked per
subscriber (``OutboxDelivery``, created on the first pass for the topic's subscribers then): each receiver is
sent the message with its ``Idempotency-Key`` until it accepts (receivers dedupe, so a crash between send and
commit only causes a duplicate), a receiver that accepted is not sent it again when another fails, and a
receiver that keeps failing is dead-lettered on its own after ``max_attempts``. The message is ``sent`` when
every receiver accepted, ``dead`` when the ones left are dead (visible in ``flask outbox list`` and
``GET /api/v1/outbox``), and otherwise retried with exponential back-off.

Order: messages of one ``ordering_key`` (a case's business number) reach their receivers in creation order —
a message is not sent while an older one of its key is still pending (not yet sent, not dead), so a key
whose head message is backing off holds back its later messages (and no other key's). A dead message holds
nothing back; one an operator puts back (``retry_dead``) is sent after its younger ones.

Throughput: ``drain`` runs several deliverers (threads, each its own session; ``OUTBOX_DELIVERERS``, one on
SQLite) until nothing is due or the job's time budget is spent. Each deliverer takes the oldest due message
of a key no other deliverer holds (the claims are shared in the process; across processes the job lease
keeps one drain at a time), and ``deliver_message`` re-checks under its row lock (``FOR UPDATE SKIP LOCKED``
on PostgreSQL) that the message is still pending and the head of its key, so even two processes racing
without the lease keep the order (at worst a message is sent twice; receivers dedupe). ``prune_sent`` then
deletes sent messages after ``OUTBOX_RETENTION_DAYS`` (each push is in ``interface_call_log`` already, kept a
year); dead ones stay for the operator.

Personal data a receiver needs (a signed certificate's PDF for the bank) is ``seal``-ed into the payload:
encrypted at rest under the message's idempotency key, opened only in the body that is sent.
"""
from __future__ import annotations

import base64
import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from app.db import affected_rows, utcnow
from app.integrations.answers import run_unit
from app.integrations.client import CallContext, ServiceUnavailable, call
from app.integrations.models import Interface, OutboxDelivery, OutboxMessage
from app.security.fields import decrypt_json, encrypt_json
from app.vocabulary import OutboxStatus

log = logging.getLogger(__name__)

BASE_DELAY_S = 5
MAX_DELAY_S = 3600
SEALED = "sealed"  # payload key of the encrypted fields (``seal``)


def seal(idempotency_key: str, fields: dict[str, Any]) -> dict[str, str]:
    """Payload entries that keep ``fields`` encrypted in the outbox table; merged into the body when sent."""
    blob = encrypt_json(fields, f"outbox:{idempotency_key}")
    return {SEALED: base64.b64encode(blob).decode("ascii")}


def body_of(message: OutboxMessage) -> dict[str, Any]:
    """What a receiver is sent: the topic and the payload, its sealed fields opened."""
    payload = dict(message.payload)
    sealed = payload.pop(SEALED, None)
    opened = decrypt_json(base64.b64decode(sealed), f"outbox:{message.idempotency_key}") if sealed else {}
    return {"topic": message.topic, **payload, **opened}


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return f"已送达 {self.sent} 条，待重试 {self.retried} 条，死信 {self.dead} 条，无订阅者 {self.skipped} 条"

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.dead += other.dead
        self.skipped += other.skipped

    @property
    def empty(self) -> bool:
        """Nothing happened: the message was not (or no longer) the pending head of its key, or another
        deliverer held it."""
        return not (self.sent or self.retried or self.dead or self.skipped)


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
                     json=body_of(message),
                     idempotency_key=message.idempotency_key, answers=())
    except ServiceUnavailable as exc:
        return exc.message
    return f"HTTP {reply.status}" if reply.status >= 300 else None


def _older_pending(message: Any) -> Any:
    """SQL: an older message of ``message``'s ordering key is still pending (so ``message`` must wait)."""
    older = aliased(OutboxMessage)
    return exists().where(older.ordering_key == message.ordering_key, older.status == OutboxStatus.PENDING,
                          or_(older.created_at < message.created_at,
                              and_(older.created_at == message.created_at, older.id < message.id)))


def due_heads(session: Session, *, limit: int = 50, exclude_keys: set[str] | frozenset[str] = frozenset(),
              exclude_ids: set[str] | frozenset[str] = frozenset()) -> list[tuple[str, str | None]]:
    """``(id, ordering_key)`` of due messages that no older pending message of their key holds back, oldest
    due first: at most one per key (any number without a key). ``exclude_keys``: keys other deliverers hold."""
    stmt = (select(OutboxMessage.id, OutboxMessage.ordering_key)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= utcnow(),
                   ~_older_pending(OutboxMessage))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at).limit(limit))
    if exclude_keys:
        stmt = stmt.where(or_(OutboxMessage.ordering_key.is_(None), OutboxMessage.ordering_key.not_in(exclude_keys)))
    if exclude_ids:
        stmt = stmt.where(OutboxMessage.id.not_in(exclude_ids))
    return [(row.id, row.ordering_key) for row in session.execute(stmt)]


class Claims:
    """What the deliverers of one drain share: due heads fetched a batch at a time, the keys in flight (a key
    is held from its message's claim until that message's transaction committed, so its next message is
    only claimed after), and the messages that did not move this run (not tried again in it)."""

    def __init__(self, *, limit: int | None, deadline: float | None, batch: int = 50) -> None:
        self.limit, self.deadline, self.batch = limit, deadline, batch
        self.queue: deque[tuple[str, str | None]] = deque()
        self.held: set[str] = set()
        self.stuck: set[str] = set()
        self.flying: set[str] = set()  # messages being delivered (those without a key have no key to hold)
        self.taken = 0
        self._cond = threading.Condition()

    def _over(self) -> bool:
        return ((self.limit is not None and self.taken >= self.limit)
                or (self.deadline is not None and time.monotonic() >= self.deadline))

    def take(self, session: Session) -> tuple[str, str | None] | None:
        """The next message for a deliverer (its key now held), or None when the run is over: nothing due
        that no other deliverer holds back (after the ones in flight finished), or the limit or budget hit."""
        with self._cond:
            while not self._over():
                while self.queue:
                    message_id, key = self.queue.popleft()
                    if (key is not None and key in self.held) or message_id in self.flying:
                        continue  # claimed again by a later fetch once its holder is done
                    if key is not None:
                        self.held.add(key)
                    self.taken += 1
                    self.flying.add(message_id)
                    return message_id, key
                heads = due_heads(session, limit=self.batch, exclude_keys=self.held,
                                  exclude_ids=self.stuck | self.flying)
                session.rollback()  # the fetch is no part of any message's transaction
                if heads:
                    self.queue.extend(heads)
                    continue
                if not self.flying:
                    return None
                self._cond.wait()  # a message in flight may free the next one of its key
            return None

    def done(self, item: tuple[str, str | None], *, moved: bool) -> None:
        """The message's transaction has ended (committed or rolled back): its key is free again."""
        message_id, key = item
        with self._cond:
            if key is not None:
                self.held.discard(key)
            if not moved:
                self.stuck.add(message_id)
            self.flying.discard(message_id)
            self._cond.notify_all()


def _deliverer(session: Session, claims: Claims, max_attempts: int, report: DeliveryReport,
               report_lock: threading.Lock) -> None:
    """One deliverer: take a message, deliver it as its own unit of work (``run_unit``: the pushes are made
    with no transaction open), commit, free its key; until the run is over."""
    while (item := claims.take(session)) is not None:
        try:
            one = run_unit(session, functools.partial(deliver_message, session, item[0], max_attempts=max_attempts))
            session.commit()
        except Exception:
            session.rollback()
            log.exception("outbox message %s failed; it is retried at the next run", item[0])
            claims.done(item, moved=False)
            continue
        claims.done(item, moved=not one.empty)
        with report_lock:
            report.add(one)


def deliver_pending(session: Session, *, max_attempts: int = 8, limit: int | None = 1000) -> DeliveryReport:
    """Deliver due messages with one deliverer (``session``: the job's) until nothing is due, each message its
    own transaction committed by ``session``, a key's messages in order; at most ``limit`` messages."""
    if session.in_transaction():
        session.commit()  # what the caller did before is not part of any message
    report = DeliveryReport()
    _deliverer(session, Claims(limit=limit, deadline=None), max_attempts, report, threading.Lock())
    return report


def drain(session_factory: Callable[[], Session], *, deliverers: int = 1, budget_s: float | None = None,
          max_attempts: int = 8, batch: int = 50) -> DeliveryReport:
    """Deliver until nothing is due or ``budget_s`` is spent, with ``deliverers`` threads (one on SQLite,
    whose writers queue on one lock anyway), each its own session; per key in order (``Claims``)."""
    probe = session_factory()
    try:
        if probe.get_bind().dialect.name == "sqlite":
            deliverers = 1
    finally:
        probe.close()
    claims = Claims(limit=None, deadline=None if budget_s is None else time.monotonic() + budget_s, batch=batch)
    report, report_lock = DeliveryReport(), threading.Lock()

    def run() -> None:
        session = session_factory()
        try:
            _deliverer(session, claims, max_attempts, report, report_lock)
        finally:
            session.close()

    if deliverers <= 1:
        run()  # a failure to fetch the due messages (the database gone) fails the job run
        return report

    def run_logged() -> None:
        try:
            run()
        except Exception:  # the others go on; the job runs again at its next tick
            log.exception("an outbox deliverer stopped")

    threads = [threading.Thread(target=_in_app_context(run_logged), name=f"outbox-deliverer-{i}", daemon=True)
               for i in range(deliverers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return report


def _in_app_context(run: Callable[[], None]) -> Callable[[], None]:
    """A deliverer thread in the app's context, like the job that started it: a subscriber that is a peer
    platform is called signed with the app's own key (app/federation/reports.py ``route``)."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return run
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def in_context() -> None:
        with app.app_context():
            run()

    return in_context


def session_factory_of(session: Session) -> Callable[[], Session]:
    """Sessions on ``session``'s engine, like the app's (``Database.session_factory``)."""
    return sessionmaker(session.get_bind(), expire_on_commit=False)


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
    if message.ordering_key is not None and session.execute(select(_older_pending(message))).scalar():
        return report  # an older message of its key is still pending: it goes first
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


@dataclass(frozen=True)
class Backlog:
    """The outbox's figures for the operations dashboard: what waits, since when, and the dead letters."""

    pending: int
    due: int
    oldest_pending_at: datetime | None
    dead: int

    def oldest_age_s(self, now: datetime | None = None) -> int | None:
        if self.oldest_pending_at is None:
            return None
        return max(int(((now or utcnow()) - self.oldest_pending_at).total_seconds()), 0)


def backlog(session: Session) -> Backlog:
    """Pending (and of them due now) messages, the oldest pending one's creation time, dead letters: two
    queries over the ``(status, next_attempt_at)`` index."""
    now = utcnow()
    pending, due, oldest = session.execute(
        select(func.count(), func.count().filter(OutboxMessage.next_attempt_at <= now),
               func.min(OutboxMessage.created_at)).where(OutboxMessage.status == OutboxStatus.PENDING)).one()
    dead = session.execute(select(func.count()).select_from(OutboxMessage)
                           .where(OutboxMessage.status == OutboxStatus.DEAD)).scalar_one()
    return Backlog(pending=int(pending), due=int(due or 0), oldest_pending_at=oldest, dead=int(dead))


def prune_sent(session_factory: Callable[[], Session], retention_days: int, *, batch: int = 500,
               now: datetime | None = None) -> int:
    """Delete messages sent ``retention_days`` ago or earlier (0: all sent ones) with their delivery rows,
    ``batch`` messages per transaction; dead and pending ones stay. Each push they made is in
    ``interface_call_log`` (kept a year). The run is one audit entry (``outbox.prune``) when it deleted any."""
    from app.security import audit

    cutoff = (now or utcnow()) - timedelta(days=max(retention_days, 0))
    sent_before = and_(OutboxMessage.status == OutboxStatus.SENT,
                       func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) <= cutoff)
    deleted = 0
    while True:
        with session_factory() as session, session.begin():
            ids = list(session.execute(select(OutboxMessage.id).where(sent_before).limit(batch)).scalars())
            if not ids:
                break
            session.execute(delete(OutboxDelivery).where(OutboxDelivery.message_id.in_(ids)))
            deleted += affected_rows(session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids))))
        if len(ids) < batch:
            break
    if deleted:
        with session_factory() as session, session.begin():
            audit.record(session, actor_id=None, action="outbox.prune", object_type="outbox_message", object_id=None,
                         after={"cutoff": cutoff.isoformat(), "retention_days": retention_days, "deleted": deleted})
    return deleted
