"""Audit entries are chained when their transaction commits (issue 18: one head lock and update per transaction
instead of three statements per entry): what a transaction or a savepoint rolled back never reaches the
chain, entries get consecutive numbers in the order recorded, and a read of the chain in the recording
transaction sees them."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from app.db import has_uncommitted_work
from app.security import audit
from app.security.audit import verify_chain
from app.security.models import AuditEntry, AuditHead


def _record(session: Any, tag: str) -> None:
    audit.record(session, actor_id=None, action=f"test.{tag}", object_type="test", object_id=tag)


def _actions(db: Any, since: int) -> list[str]:
    with db.unit_of_work() as session:
        return list(session.execute(select(AuditEntry.action).where(AuditEntry.seq > since)
                                    .order_by(AuditEntry.seq)).scalars())


def _head_seq(db: Any) -> int:
    with db.unit_of_work() as session:
        head = session.get(AuditHead, 1)
        return head.seq if head is not None else 0


def test_entries_are_chained_at_commit_without_what_was_rolled_back(db: Any) -> None:
    start = _head_seq(db)
    with db.unit_of_work() as session:
        _record(session, "first")
        try:
            with session.begin_nested():
                _record(session, "undone")
                raise RuntimeError("the savepoint fails")
        except RuntimeError:
            pass
        with session.begin_nested():  # a released savepoint's entry stays with its transaction
            _record(session, "kept")
        _record(session, "last")
    try:
        with db.unit_of_work() as session:
            _record(session, "rolled back")
            raise RuntimeError("the transaction fails")
    except RuntimeError:
        pass
    assert _actions(db, start) == ["test.first", "test.kept", "test.last"]
    assert _head_seq(db) == start + 3
    with db.unit_of_work() as session:
        assert verify_chain(session) == []


def test_the_recording_transaction_reads_its_own_entries(db: Any) -> None:
    start = _head_seq(db)
    with db.unit_of_work() as session:
        _record(session, "seen")
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "test.seen")).scalar_one()
        assert entry.seq == start + 1 and entry.hash
        _record(session, "after the read")
    assert _actions(db, start) == ["test.seen", "test.after the read"]
    with db.unit_of_work() as session:
        assert verify_chain(session) == []


def test_a_rollback_before_any_statement_drops_the_entries_too(db: Any) -> None:
    """``record`` on a session with no transaction yet begins one, so a rollback has something to end."""
    start = _head_seq(db)
    session = db.session_factory()
    try:
        _record(session, "rolled_back")
        assert has_uncommitted_work(session)  # no department call may wait inside this transaction
        session.rollback()
        _record(session, "next")  # the same session's next transaction carries nothing of the last one
        session.commit()
    finally:
        session.close()
    assert _actions(db, start) == ["test.next"]


def test_a_transaction_holding_entries_does_not_hold_the_chain(db: Any) -> None:
    """The first transaction has recorded and not committed; the second records and commits without waiting
    for it (PostgreSQL: a lock wait would end in the lock timeout and fail the test; SQLite's one writer is
    its BEGIN IMMEDIATE, so there the second could not start while the first writes)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    start = _head_seq(db)
    first = db.session_factory()
    try:
        _record(first, "slow")
        first.execute(text("SELECT 1"))  # the first transaction is open
        with db.unit_of_work() as second:
            second.execute(text("SET LOCAL lock_timeout = '5s'"))
            _record(second, "fast")
        first.commit()
    finally:
        first.close()
    assert _actions(db, start) == ["test.fast", "test.slow"]  # the chain's order is the order of commits
    with db.unit_of_work() as session:
        assert verify_chain(session) == []


def test_entries_appended_while_the_chain_is_checked_are_no_break(db: Any) -> None:
    """The check covers the entries up to the head it read first: appends committed while it runs (the
    checkpoint job on a busy platform, issue 18) are left to the next check, not reported as "missing"."""
    with db.unit_of_work() as session:
        _record(session, "before")
    with db.unit_of_work() as checker:
        head = checker.get(AuditHead, 1)  # the head as the check reads it first
        assert head is not None
        seen = head.seq
        checker.commit()  # SQLite has one writer at a time; the head stays as read (no expiry on commit)
        with db.unit_of_work() as other:  # meanwhile another transaction appends
            _record(other, "during")
        assert _head_seq(db) == seen + 1
        assert verify_chain(checker) == []
