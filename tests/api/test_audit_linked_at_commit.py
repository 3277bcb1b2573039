"""The audit chain's head is locked only while a transaction commits (issue 18: one submission's remaining work
held every other state change of the platform behind it, and a transaction that took the head early and a row
later could close a deadlock cycle with one that took them the other way round). Entries are numbered and linked
at commit in the order they were recorded; a savepoint's entries go with it when it rolls back."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from app.db import has_uncommitted_work
from app.security import audit
from app.security.models import AuditEntry, AuditHead


def _append(session: Any, action: str) -> AuditEntry:
    return audit.record(session, actor_id=None, action=action, object_type="test", object_id=action)


def _actions(db: Any) -> list[str]:
    with db.unit_of_work() as session:
        return [e.action for e in session.execute(select(AuditEntry).where(AuditEntry.object_type == "test")
                                                  .order_by(AuditEntry.seq)).scalars()]


def test_entries_are_linked_in_the_order_recorded_when_the_transaction_commits(db: Any) -> None:
    with db.unit_of_work() as session:
        before = session.get(AuditHead, 1)
        start = before.seq if before else 0
    with db.unit_of_work() as session:
        first, second = _append(session, "t.first"), _append(session, "t.second")
        assert has_uncommitted_work(session)  # no department call may wait inside this transaction
        assert session.execute(select(AuditHead.seq)).scalar_one_or_none() in (None, start)  # not yet
        assert audit.pending_entries(session) == [first, second]
    assert (first.seq, second.seq) == (start + 1, start + 2)
    assert second.prev_hash == first.hash
    assert _actions(db) == ["t.first", "t.second"]
    with db.unit_of_work() as session:
        assert audit.verify_chain(session) == []


def test_a_rolled_back_savepoint_takes_its_entries_and_a_rollback_takes_all(db: Any) -> None:
    with db.unit_of_work() as session:
        _append(session, "t.kept")
        with pytest.raises(RuntimeError), session.begin_nested():
            _append(session, "t.savepoint")
            raise RuntimeError("the savepoint rolls back")
        with session.begin_nested():
            _append(session, "t.released")  # a released savepoint's entries wait for the commit
        _append(session, "t.after")
    assert _actions(db) == ["t.kept", "t.released", "t.after"]

    session = db.session_factory()
    _append(session, "t.rolled_back")
    session.rollback()
    _append(session, "t.next")  # the same session's next transaction carries nothing of the last one
    session.commit()
    session.close()
    assert _actions(db)[-2:] == ["t.after", "t.next"]
    with db.unit_of_work() as session:
        assert audit.verify_chain(session) == []


def test_a_transaction_holding_entries_does_not_hold_the_chain(db: Any) -> None:
    """The first transaction has recorded and not committed; the second records and commits without waiting
    for it (PostgreSQL: a lock wait would end in the lock timeout; SQLite's one writer is its BEGIN
    IMMEDIATE, so the second is not started while the first writes)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    first = db.session_factory()
    try:
        _append(first, "t.slow")
        first.execute(text("SELECT 1"))  # the first transaction is open
        with db.unit_of_work() as second:
            second.execute(text("SET LOCAL lock_timeout = '5s'"))
            _append(second, "t.fast")
        first.commit()
    finally:
        first.close()
    assert _actions(db) == ["t.fast", "t.slow"]  # the chain's order is the order of commits
    with db.unit_of_work() as session:
        assert audit.verify_chain(session) == []
