"""The load test's watch (tests/support/locks.py) sees what it is there to see: an HTTP call made while the
thread's transaction holds a written row, and a row locked out of the house order (case → unit → counters →
audit head); a call with no transaction open and locks in order pass unnoticed."""
from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from support.locks import LockWatch, locked_table


def test_a_call_under_a_lock_and_a_lock_out_of_order_are_seen(seeded: Any, simulator: Any,
                                                               lock_watch: LockWatch) -> None:
    db = seeded.extensions["db"]
    with httpx.Client() as client:
        client.get(f"{simulator.url}/_control/state")  # no transaction open
        with db.unit_of_work() as session:
            session.execute(text("UPDATE reg_case SET status = status WHERE 1 = 0"))
            session.execute(text("UPDATE audit_head SET seq = seq WHERE 1 = 0"))  # case → audit head: in order
        assert lock_watch.calls_under_lock == [] and lock_watch.out_of_order == []
        with db.unit_of_work() as session:
            session.execute(text("UPDATE audit_head SET seq = seq WHERE 1 = 0"))
            session.execute(text("UPDATE reg_case SET status = status WHERE 1 = 0"))
            client.get(f"{simulator.url}/_control/state")
    out_of_order, under_lock = lock_watch.out_of_order, lock_watch.calls_under_lock
    assert len(out_of_order) == 1 and out_of_order[0].startswith("reg_case locked after audit_head")
    assert len(under_lock) == 1 and "/_control/state while holding" in under_lock[0]


def test_the_tables_a_statement_locks() -> None:
    assert locked_table("UPDATE reg_case SET status=%(status)s WHERE reg_case.id = %(id)s") == "reg_case"
    assert locked_table("DELETE FROM audit_entry WHERE seq < 5") == "audit_entry"
    assert locked_table("SELECT reg_case.id FROM reg_case WHERE reg_case.id = %(id)s FOR UPDATE") == "reg_case"
    assert locked_table("SELECT audit_head.seq FROM audit_head WHERE audit_head.id = 1") is None
    assert locked_table("INSERT INTO task (id) VALUES (%(id)s)") is None
    # a completion's task read with its case: only the case's rows are locked
    assert locked_table("SELECT task.id, reg_case.id FROM task JOIN reg_case ON reg_case.id = task.case_id "
                        "WHERE task.id = %(id)s FOR UPDATE OF reg_case") == "reg_case"
    # PostgreSQL's audit append: the head moved in a WITH clause of the entries' INSERT
    assert locked_table("WITH moved_head AS (UPDATE audit_head SET seq=%(s)s WHERE audit_head.id = 1 RETURNING "
                        "audit_head.id) INSERT INTO audit_entry (seq) SELECT %(s)s FROM moved_head") == "audit_head"
