"""Retention: logs are kept at least a year; the purge (daily job and ``flask logs purge``) deletes only
what is older than the retention period, never a younger entry; the audit chain still verifies after its
oldest prefix is gone (the anchor), and the purge itself is on the record."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app.config import ConfigError, Settings
from app.errors import ValidationFailed
from app.integrations.models import InterfaceCallLog, OutboxMessage
from app.security import audit
from app.security.audit import verify_chain
from app.security.models import AuditEntry, AuditHead
from app.supervision.models import ExceptionLog
from app.supervision.retention import purge_logs

START = datetime(2025, 1, 10, 8, 0, tzinfo=UTC)


def _write_logs(db: Any, tag: str, n: int = 2) -> None:
    """``n`` lines in each log at the current (frozen) time."""
    with db.unit_of_work() as session:
        for i in range(n):
            audit.record(session, actor_id=None, action=f"test.{tag}", object_type="test", object_id=f"{tag}{i}")
            session.add(InterfaceCallLog(interface_code="gongan", operation=f"op.{tag}", outcome="ok"))
            session.add(ExceptionLog(exc_type=f"test.{tag}", fingerprint="f" * 64, frames=[]))
            session.add(OutboxMessage(topic="case.progress", idempotency_key=f"{tag}:{i}", payload={},
                                      status="sent"))
        session.add(OutboxMessage(topic="case.progress", idempotency_key=f"{tag}:pending", payload={}))


def _counts(db: Any, tag: str) -> tuple[int, int, int, int]:
    with db.unit_of_work() as session:
        return (session.execute(select(func.count()).where(AuditEntry.action == f"test.{tag}")).scalar_one(),
                session.execute(select(func.count()).where(InterfaceCallLog.operation == f"op.{tag}")).scalar_one(),
                session.execute(select(func.count()).where(ExceptionLog.exc_type == f"test.{tag}")).scalar_one(),
                session.execute(select(func.count()).where(OutboxMessage.idempotency_key.like(f"{tag}:%")))
                .scalar_one())


def test_the_purge_deletes_only_what_is_older_than_a_year(db: Any) -> None:
    with freeze_time(START):
        _write_logs(db, "old")
    with freeze_time(START + timedelta(days=200)):
        _write_logs(db, "young")
    with freeze_time(START + timedelta(days=365, seconds=-1)):  # one second short of a year: nothing goes
        with db.unit_of_work() as session:
            report = purge_logs(session, 365)
        assert not any(report.deleted.values())
        assert _counts(db, "old") == (2, 2, 2, 3)
    with freeze_time(START + timedelta(days=366)):
        with db.unit_of_work() as session:
            report = purge_logs(session, 365)
        assert report.deleted == {"接口调用日志": 2, "异常日志": 2, "已送达消息": 2, "操作日志": 2}
        assert _counts(db, "old") == (0, 0, 0, 1)  # an undelivered message is never purged
        assert _counts(db, "young") == (2, 2, 2, 3)
        with db.unit_of_work() as session:
            assert verify_chain(session) == []
            head = session.get(AuditHead, 1)
            assert head.anchor_seq == 2
            purge = session.execute(select(AuditEntry).where(AuditEntry.action == "log.purge")).scalar_one()
            assert purge.after["audit_anchor_seq"] == 2 and purge.after["deleted"]["操作日志"] == 2
    with freeze_time(START + timedelta(days=400)):  # a longer retention keeps the young ones
        with db.unit_of_work() as session:
            purge_logs(session, 730)
        assert _counts(db, "young") == (2, 2, 2, 3)


def test_an_old_entry_after_a_young_one_in_the_chain_is_kept(db: Any) -> None:
    """Only a prefix of the chain can go: a late-written entry with an older clock keeps what follows it."""
    with freeze_time(START):
        _write_logs(db, "a", n=1)
    with freeze_time(START + timedelta(days=300)):
        _write_logs(db, "b", n=1)
    with freeze_time(START):  # a skewed clock: chain order and time order disagree
        _write_logs(db, "c", n=1)
    with freeze_time(START + timedelta(days=370)):
        with db.unit_of_work() as session:
            purge_logs(session, 365)
        assert _counts(db, "a")[0] == 0 and _counts(db, "b")[0] == 1 and _counts(db, "c")[0] == 1
        with db.unit_of_work() as session:
            assert verify_chain(session) == []


def test_the_chain_still_detects_tampering_and_truncation_after_a_purge(db: Any) -> None:
    with freeze_time(START):
        _write_logs(db, "old")
    with freeze_time(START + timedelta(days=100)):
        _write_logs(db, "young", n=3)
    with freeze_time(START + timedelta(days=400)), db.unit_of_work() as session:
        purge_logs(session, 365)
    with db.unit_of_work() as session:
        first = session.execute(select(AuditEntry).order_by(AuditEntry.seq).limit(1)).scalar_one()
        session.delete(first)  # removing the oldest kept entry by hand is not a purge
    with db.unit_of_work() as session:
        breaks = verify_chain(session)
        assert {b.seq for b in breaks} == {4} and breaks[0].reason == "missing entries before 4"
    with db.unit_of_work() as session:
        last = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
        session.delete(last)
    with db.unit_of_work() as session:
        assert "are missing" in verify_chain(session)[-1].reason


def test_less_than_a_year_is_refused(db: Any) -> None:
    with pytest.raises(ValidationFailed) as refused, db.unit_of_work() as session:
        purge_logs(session, 364)
    assert "不得少于 365 天" in refused.value.message
    settings = Settings.from_env()
    settings.log_retention_days = 100
    with pytest.raises(ConfigError):
        settings.check()


def test_the_purge_command_runs_the_job(app: Any, db: Any) -> None:
    with freeze_time(START):
        _write_logs(db, "old")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["logs", "purge", "--days", "30"])
    assert refused.exit_code == 1 and "不得少于 365 天" in refused.output
    with freeze_time(START + timedelta(days=366)):
        done = runner.invoke(args=["logs", "purge"])
        assert done.exit_code == 0 and "操作日志 2 条" in done.output, done.output
        assert runner.invoke(args=["logs", "verify-audit"]).exit_code == 0
    assert _counts(db, "old") == (0, 0, 0, 1)
