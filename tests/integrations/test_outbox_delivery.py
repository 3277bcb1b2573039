"""Outbox delivery: at least once with idempotency keys (receivers dedupe), back-off, dead letters, and one
deliverer at a time (the job lease)."""
from __future__ import annotations

import json
import urllib.request
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from support.servers import simulator_control

from app.db import utcnow
from app.integrations.answers import run_unit
from app.integrations.models import OutboxMessage
from app.integrations.outbox import deliver_message, deliver_pending, due_heads
from app.jobs import acquire_lease, release_lease


def _received(simulator: Any) -> dict[str, list[dict[str, Any]]]:
    with urllib.request.urlopen(f"{simulator.url}/_control/state", timeout=5) as resp:
        return json.load(resp)["received"]  # type: ignore[no-any-return]


def test_a_crash_between_send_and_commit_delivers_again_and_the_receiver_dedupes(
        seeded: Any, simulator: Any, submitted_transfer: dict) -> None:
    db = seeded.extensions["db"]
    session = db.session_factory()
    heads = due_heads(session)  # the first message of each key (the case's later ones wait for it)
    session.rollback()
    for message_id, _key in heads:  # each is sent, then the process dies before its commit
        assert run_unit(session, lambda: deliver_message(session, message_id)).sent == 1  # noqa: B023
        session.rollback()
    session.close()
    assert sum(m["body"]["topic"] == "case.progress" for m in _received(simulator)["province"]) == 1
    with db.unit_of_work() as session:
        pending = session.execute(select(func.count()).select_from(OutboxMessage)
                                  .where(OutboxMessage.status == "pending", OutboxMessage.topic == "case.progress"))
        assert pending.scalar() >= 2  # the messages are still pending
        again = deliver_pending(session)
    assert again.sent >= 2
    with db.unit_of_work() as session:
        left = session.execute(select(func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.status != "sent")).scalar()
        keys = set(session.execute(select(OutboxMessage.idempotency_key)
                                   .where(OutboxMessage.topic == "case.progress")).scalars())
    assert left == 0
    province = _received(simulator)["province"]
    assert sorted(m["key"] for m in province if m["body"]["topic"] == "case.progress") == sorted(keys)
    for message in province:  # no personal data leaves through the outbox
        assert "李四" not in json.dumps(message, ensure_ascii=False)


def test_an_unreachable_subscriber_is_retried_with_backoff_then_dead(seeded: Any, simulator: Any,
                                                                   submitted_transfer: dict) -> None:
    db = seeded.extensions["db"]
    simulator_control(simulator, "province", "fail")
    with db.unit_of_work() as session:
        first = deliver_pending(session, max_attempts=2)
    assert first.retried >= 1 and first.sent == 0
    with db.unit_of_work() as session:
        message = session.execute(select(OutboxMessage).where(OutboxMessage.topic == "case.progress")
                                  .order_by(OutboxMessage.created_at)).scalars().first()  # the case's first
        assert message.attempts == 1 and message.next_attempt_at > utcnow() + timedelta(seconds=3)
        assert "province" in (message.last_error or "")
        session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    with db.unit_of_work() as session:
        second = deliver_pending(session, max_attempts=2)
    assert second.dead >= 1
    result = seeded.test_cli_runner().invoke(args=["outbox", "list", "--status", "dead"])
    assert "case.progress" in result.output and "尝试 2 次" in result.output


def test_only_one_process_holds_the_delivery_lease(seeded: Any) -> None:
    db = seeded.extensions["db"]
    assert acquire_lease(db, "outbox", ttl_s=60, holder="host-a:1")
    assert not acquire_lease(db, "outbox", ttl_s=60, holder="host-b:2")
    assert acquire_lease(db, "outbox", ttl_s=60, holder="host-a:1")  # renewal by the holder
    release_lease(db, "outbox", holder="host-a:1")
    assert acquire_lease(db, "outbox", ttl_s=60, holder="host-b:2")
    result = seeded.test_cli_runner().invoke(args=["outbox", "deliver"])
    assert "另一进程正在投递" in result.output


def _pushes(db: Any, code: str) -> int:
    from app.integrations.models import InterfaceCallLog

    with db.unit_of_work() as session:
        return int(session.execute(select(func.count()).select_from(InterfaceCallLog).where(
            InterfaceCallLog.interface_code == code, InterfaceCallLog.operation.like("push.%"))).scalar_one())


def test_each_subscriber_is_tracked_on_its_own_and_dead_lettered_alone(
        login: Any, seeded: Any, simulator: Any, submitted_transfer: dict) -> None:
    """case.progress goes to the province and the SMS platform: the province failing does not make the SMS
    platform receive the messages again, and only the province's deliveries end as dead letters."""
    db = seeded.extensions["db"]
    simulator_control(simulator, "province", "fail")
    with db.unit_of_work() as session:
        first = deliver_pending(session, max_attempts=2)
    assert first.retried == 1 and first.sent == 0  # the case's first message; its later ones wait for it
    with db.unit_of_work() as session:
        progress = session.execute(select(func.count()).select_from(OutboxMessage)
                                   .where(OutboxMessage.topic == "case.progress")).scalar_one()
    dead = 0
    for _ in range(2 * progress):  # each message: a retry, then dead; then the next one of the case
        with db.unit_of_work() as session:
            session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        with db.unit_of_work() as session:
            dead += deliver_pending(session, max_attempts=2).dead
        if dead == progress:
            break
    assert dead == progress >= 2
    assert _pushes(db, "sms") == progress  # each message once to the SMS platform, never resent
    sms_pushes = progress

    listed = seeded.test_cli_runner().invoke(args=["outbox", "list", "--status", "dead"]).output
    assert "→ province  死信  尝试 2 次" in listed and "→ sms  已送达  尝试 1 次" in listed
    admin = login("admin")
    dead = admin.get("/api/v1/outbox", query_string={"status": "dead", "interface": "province"}).get_json()["items"]
    assert len(dead) >= 2 and all({d["interface"]: d["status"] for d in m["deliveries"]}
                                  == {"province": "dead", "sms": "sent"} for m in dead if m["topic"] == "case.progress")
    assert admin.get("/api/v1/outbox", query_string={"status": "dead", "interface": "sms"}).get_json()["items"] == []
    assert login("zhangsan").get("/api/v1/outbox").status_code == 403

    simulator_control(simulator, "province", "ok")  # fixed: the operator puts the dead letters back
    from app.integrations.models import Interface

    with db.unit_of_work() as session:
        session.execute(update(Interface).where(Interface.code == "province")
                        .values(breaker_state="closed", failure_count=0))
    for m in dead:
        result = seeded.test_cli_runner().invoke(args=["outbox", "retry", m["id"]])
        assert "已重新排队（province）" in result.output
    with db.unit_of_work() as session:
        third = deliver_pending(session, max_attempts=2)
    assert third.sent == len(dead) and _pushes(db, "sms") == sms_pushes
    keys = {m["idempotency_key"] for m in dead}
    assert keys <= {m["key"] for m in _received(simulator)["province"]}


def test_a_crash_between_commit_and_send_loses_nothing(seeded: Any, simulator: Any, submitted_transfer: dict) -> None:
    """The state change and its message commit together; if the process dies before any delivery pass, the
    message waits in the table and the next process (a new app on the same database) delivers it."""
    from app import create_app

    db = seeded.extensions["db"]
    with db.unit_of_work() as session:
        keys = set(session.execute(select(OutboxMessage.idempotency_key)
                                   .where(OutboxMessage.status == "pending")).scalars())
    assert keys and _received(simulator) == {}  # committed, never sent: the "crash" came before the send
    restarted = create_app(seeded.config["SETTINGS"])
    try:
        with restarted.extensions["db"].unit_of_work() as session:
            report = deliver_pending(session)
        assert report.sent == len(keys)
    finally:
        restarted.extensions["db"].engine.dispose()
    received = _received(simulator)
    assert keys == {m["key"] for subscriber in received.values() for m in subscriber}
