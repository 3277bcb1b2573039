"""Outbox throughput without losing order: several deliverers drain the queue, yet the messages of one key (a
case's business number) reach every receiver in the order they were created; a key whose first message keeps
failing holds back its later messages and no other key's; sent messages are pruned after the retention (their
pushes stay in the call log), dead ones are kept; the backlog is on the operations page."""
from __future__ import annotations

import json
import threading
import urllib.request
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from support.servers import simulator_control

from app.db import utcnow
from app.integrations import outbox
from app.integrations.models import InterfaceCallLog, OutboxDelivery, OutboxMessage
from app.security.models import AuditEntry

KEYS = [f"ORDER-{k}" for k in range(6)]
PER_KEY = 5


def _received(simulator: Any, subscriber: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{simulator.url}/_control/state", timeout=5) as resp:
        return json.load(resp)["received"].get(subscriber, [])  # type: ignore[no-any-return]


def _enqueue(db: Any, keys: list[str], per_key: int, topic: str = "case.progress") -> None:
    """Messages of several keys, interleaved, one flush each (creation order = the order to keep)."""
    with db.unit_of_work() as session:
        for seq in range(per_key):
            for key in keys:
                session.add(OutboxMessage(topic=topic, idempotency_key=f"order:{key}:{seq}",
                                          payload={"business_no": key, "seq": seq, "status": "accepting"}))
                session.flush()


def _order_by_key(simulator: Any, subscriber: str) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = {}
    for message in _received(simulator, subscriber):
        body = message["body"]
        if str(body.get("business_no", "")).startswith("ORDER-"):
            seen.setdefault(body["business_no"], []).append(body["seq"])
    return seen


def test_several_deliverers_keep_each_keys_order(seeded: Any, simulator: Any, monkeypatch: Any) -> None:
    db = seeded.extensions["db"]
    _enqueue(db, KEYS, PER_KEY)
    threads: set[str] = set()
    in_flight: dict[str, str] = {}  # key → message being delivered (no two of one key at once)
    lock = threading.Lock()
    real = outbox.deliver_message

    def watched(session: Any, message_id: str, **kwargs: Any) -> Any:
        key = session.get(OutboxMessage, message_id).ordering_key
        with lock:
            threads.add(threading.current_thread().name)
            assert in_flight.get(key, message_id) == message_id, f"two messages of {key} delivered at once"
            in_flight[key] = message_id
        try:
            return real(session, message_id, **kwargs)
        finally:
            with lock:
                in_flight.pop(key, None)

    monkeypatch.setattr(outbox, "deliver_message", watched)
    report = outbox.drain(db.session_factory, deliverers=4, batch=4)
    assert report.sent >= len(KEYS) * PER_KEY and report.dead == 0
    for subscriber in ("province", "sms"):  # case.progress goes to both
        assert _order_by_key(simulator, subscriber) == {key: list(range(PER_KEY)) for key in KEYS}
    if db.engine.dialect.name == "postgresql":
        assert len(threads) > 1  # the deliverers did share the work (SQLite runs one)
    with db.unit_of_work() as session:
        assert outbox.backlog(session).pending == 0


def test_a_failing_first_message_holds_back_its_key_only(seeded: Any, simulator: Any) -> None:
    """ORDER-0's first message is a registration result, which 住建 refuses while it is down: the key's next
    message waits (even for the province, which accepted the first), ORDER-1 goes through meanwhile."""
    db = seeded.extensions["db"]
    simulator_control(simulator, "zhujian", "fail")
    with db.unit_of_work() as session:
        session.add(OutboxMessage(topic="registration.result", idempotency_key="order:ORDER-0:0",
                                  payload={"business_no": "ORDER-0", "seq": 0, "result": "已登簿"}))
        session.flush()
        for key, seq in (("ORDER-0", 1), ("ORDER-1", 0), ("ORDER-1", 1)):
            session.add(OutboxMessage(topic="case.progress", idempotency_key=f"order:{key}:{seq}",
                                      payload={"business_no": key, "seq": seq}))
            session.flush()
    report = outbox.drain(db.session_factory, deliverers=4)
    assert report.retried == 1
    assert _order_by_key(simulator, "province") == {"ORDER-0": [0], "ORDER-1": [0, 1]}
    assert _order_by_key(simulator, "sms") == {"ORDER-1": [0, 1]}
    with db.unit_of_work() as session:
        waiting = dict(session.execute(select(OutboxMessage.idempotency_key, OutboxMessage.status)
                                       .where(OutboxMessage.ordering_key == "ORDER-0")).all())
        assert waiting == {"order:ORDER-0:0": "pending", "order:ORDER-0:1": "pending"}
        assert outbox.due_heads(session) == []  # the first is backing off, the second waits behind it

    simulator_control(simulator, "zhujian", "ok")  # back: the retry goes, then the key's next message
    with db.unit_of_work() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.status == "pending")
                        .values(next_attempt_at=utcnow()))
    report = outbox.drain(db.session_factory, deliverers=4)
    assert report.sent == 2 and report.retried == 0
    assert _order_by_key(simulator, "province") == {"ORDER-0": [0, 1], "ORDER-1": [0, 1]}
    assert _order_by_key(simulator, "sms") == {"ORDER-0": [1], "ORDER-1": [0, 1]}


def test_a_deliverer_takes_the_head_of_a_key_no_other_deliverer_holds(seeded: Any) -> None:
    db = seeded.extensions["db"]
    _enqueue(db, ["ORDER-0", "ORDER-1"], 2)
    claims = outbox.Claims(limit=None, deadline=None)
    with db.unit_of_work() as session:
        first = claims.take(session)
        second = claims.take(session)  # ORDER-0's first is held: not its second, the other key's first
        ids = dict(session.execute(select(OutboxMessage.idempotency_key, OutboxMessage.id)).all())
    assert first == (ids["order:ORDER-0:0"], "ORDER-0") and second == (ids["order:ORDER-1:0"], "ORDER-1")
    with db.unit_of_work() as session:  # delivered by someone: the key's next message is its head now
        session.execute(update(OutboxMessage).where(OutboxMessage.id == first[0]).values(status="sent"))
    claims.done(first, moved=True)
    with db.unit_of_work() as session:
        assert claims.take(session) == (ids["order:ORDER-0:1"], "ORDER-0")
        # deliver_message itself refuses a message whose older one is pending (a racing process)
        assert outbox.deliver_message(session, ids["order:ORDER-1:1"]).empty


def test_sent_messages_are_pruned_after_the_retention_and_dead_ones_kept(seeded: Any, simulator: Any) -> None:
    db = seeded.extensions["db"]
    _enqueue(db, KEYS[:2], 2)
    with db.unit_of_work() as session:
        session.add(OutboxMessage(topic="case.progress", idempotency_key="order:dead", status="dead",
                                  payload={"business_no": "ORDER-X"}))
    assert outbox.drain(db.session_factory).sent >= 4
    with db.unit_of_work() as session:
        sent = session.execute(select(func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.status == "sent")).scalar_one()
        pushes = session.execute(select(func.count()).select_from(InterfaceCallLog)
                                 .where(InterfaceCallLog.operation == "push.case.progress")).scalar_one()
    assert outbox.prune_sent(db.session_factory, 7) == 0  # younger than a week: kept
    assert outbox.prune_sent(db.session_factory, 7, now=utcnow() + timedelta(days=8), batch=3) == sent
    with db.unit_of_work() as session:
        left = dict(session.execute(select(OutboxMessage.status, func.count())
                                    .group_by(OutboxMessage.status)).all())
        assert left == {"dead": 1}
        assert session.execute(select(func.count()).select_from(OutboxDelivery)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(InterfaceCallLog)  # what was sent stays on record
                               .where(InterfaceCallLog.operation == "push.case.progress")).scalar_one() == pushes
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "outbox.prune")).scalar_one()
        assert entry.after["deleted"] == sent and entry.after["retention_days"] == 7


def test_the_prune_command_with_no_retention_empties_what_was_sent(seeded: Any, simulator: Any) -> None:
    db = seeded.extensions["db"]
    _enqueue(db, KEYS[:1], 2)
    result = seeded.test_cli_runner().invoke(args=["outbox", "deliver"])
    assert "死信 0 条" in result.output, result.output
    result = seeded.test_cli_runner().invoke(args=["outbox", "prune", "--days", "0"])
    assert "已删除已送达消息" in result.output, result.output
    with db.unit_of_work() as session:
        assert session.execute(select(func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.status == "sent")).scalar_one() == 0


def test_the_backlog_is_on_the_operations_page(page_login: Any, seeded: Any, simulator: Any) -> None:
    db = seeded.extensions["db"]
    _enqueue(db, KEYS[:2], 2)
    with db.unit_of_work() as session:
        session.add(OutboxMessage(topic="case.progress", idempotency_key="order:dead", status="dead",
                                  payload={"business_no": "ORDER-X"}))
        pending = session.execute(select(func.count()).select_from(OutboxMessage)
                                  .where(OutboxMessage.status == "pending")).scalar_one()
    html = page_login("ops").get("/admin/interfaces").get_data(as_text=True)
    figures = html.split('id="outbox-backlog"')[1].split("</table>")[0]
    assert f'<td class="pending">{pending}</td>' in figures and "消息外发积压" in html
    assert '<span class="badge bad">1</span>' in figures  # the dead letter


def test_messages_of_one_flush_get_increasing_creation_times_and_their_key(seeded: Any) -> None:
    """A step adds several messages in one flush (submit: up to 5): their creation order is the add order."""
    db = seeded.extensions["db"]
    with db.unit_of_work() as session:
        for seq in range(8):
            session.add(OutboxMessage(topic="case.progress", idempotency_key=f"flush:{seq}",
                                      payload={"business_no": "ORDER-F", "seq": seq}))
    with db.unit_of_work() as session:
        rows = session.execute(select(OutboxMessage.idempotency_key, OutboxMessage.ordering_key)
                               .where(OutboxMessage.idempotency_key.like("flush:%"))
                               .order_by(OutboxMessage.created_at)).all()
    assert [k for k, _ in rows] == [f"flush:{seq}" for seq in range(8)]
    assert {key for _, key in rows} == {"ORDER-F"}


def test_a_run_whose_budget_is_spent_takes_no_further_message(seeded: Any) -> None:
    db = seeded.extensions["db"]
    _enqueue(db, KEYS[:1], 2)
    assert outbox.drain(db.session_factory, deliverers=4, budget_s=0).empty
    with db.unit_of_work() as session:
        assert outbox.backlog(session).pending >= 2 and outbox.backlog(session).dead == 0


def test_messages_without_a_key_are_each_pushed_once(seeded: Any, simulator: Any) -> None:
    db = seeded.extensions["db"]
    with db.unit_of_work() as session:
        for seq in range(8):
            session.add(OutboxMessage(topic="case.progress", idempotency_key=f"nokey:{seq}", payload={"seq": seq}))
    assert outbox.drain(db.session_factory, deliverers=4, batch=3).sent >= 8
    with db.unit_of_work() as session:
        pushes = session.execute(select(func.count()).select_from(InterfaceCallLog)
                                 .where(InterfaceCallLog.operation == "push.case.progress",
                                        InterfaceCallLog.request_summary["key"].as_string().like("nokey:%"))
                                 ).scalar_one()
    assert pushes == 16  # to the province and the SMS platform, once each
