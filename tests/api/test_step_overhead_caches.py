"""What a step no longer reads every time (issue 18) stays right when another process writes: the audit chain's
head this process last saw, the case's last event number kept on reg_case, and the working-day calendar shared by
a process's sessions."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from support.locks import locked_table

from app.casefile import progress
from app.casefile.models import Case, CaseEvent
from app.db import Database
from app.engine import workdays
from app.engine.models import WorkdaySchedule
from app.security import audit
from app.security.audit import verify_chain
from app.security.models import AuditEntry
from app.vocabulary import EventKind


def _statements(database: Database) -> list[str]:
    seen: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: seen.append(sql))
    return seen


def _record(database: Database, tag: str) -> None:
    with database.unit_of_work() as session:
        audit.record(session, actor_id=None, action=f"test.{tag}", object_type="test", object_id=tag)


def test_the_audit_head_is_moved_by_one_statement_and_another_process_append_is_chained_onto(db: Any,
                                                                                             database_url: str) -> None:
    other = Database(database_url)  # another process: its own engine, so its own idea of the head
    try:
        _record(db, "first")
        seen = _statements(db)
        _record(db, "known head")
        head_sql = [s for s in seen if "audit_head" in s]  # on PostgreSQL the same UPDATE inserts the entry too
        assert len(head_sql) == 1 and locked_table(head_sql[0]) == "audit_head", head_sql
        chain_sql = [s for s in seen if "audit_head" in s or "audit_entry" in s]  # PostgreSQL: one statement in all
        assert len(chain_sql) == (1 if db.engine.dialect.name == "postgresql" else 2), chain_sql
        _record(other, "other process")
        seen.clear()
        _record(db, "after the other")  # the head it knows is stale: no row matches, the head is read under lock
        assert sum("audit_head" in s for s in seen) == 3, seen
        with db.unit_of_work() as session:
            assert verify_chain(session) == []
            actions = session.execute(select(AuditEntry.action).order_by(AuditEntry.seq.desc())
                                      .limit(4)).scalars().all()
        assert actions == ["test.after the other", "test.other process", "test.known head", "test.first"]
    finally:
        other.engine.dispose()


def test_event_numbers_follow_on_across_processes_savepoints_and_carried_over_cases(seeded: Any, db: Any, login: Any,
                                                                                    database_url: str) -> None:
    from support.forms import transfer_form

    created = login("zhangsan").post("/api/v1/applications", json={"business_type": "transfer_resale",
                                                                    "form": transfer_form()})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    other = Database(database_url)

    def add(session: Any, case: Case, message: str) -> None:
        progress.add_event(session, case, kind=EventKind.NOTICE, actor=None, message=message)

    try:
        session = db.session_factory()
        try:
            case = session.get_one(Case, case_id)
            add(session, case, "one")
            try:
                with session.begin_nested():
                    add(session, case, "rolled back")
                    raise RuntimeError("the savepoint fails")
            except RuntimeError:
                pass
            add(session, case, "two")
            session.commit()
            with other.unit_of_work() as elsewhere:  # e.g. the 完税 callback, while this session keeps ``case``
                add(elsewhere, elsewhere.get_one(Case, case_id), "elsewhere")
            add(session, case, "three")  # the case object is from the last transaction: its number is re-read
            session.commit()
        finally:
            session.close()
        with db.unit_of_work() as session:
            seqs = session.execute(select(CaseEvent.seq).where(CaseEvent.case_id == case_id)
                                   .order_by(CaseEvent.seq)).scalars().all()
            last = session.execute(select(Case.last_event_seq).where(Case.id == case_id)).scalar_one()
            most = session.execute(select(func.max(CaseEvent.seq)).where(CaseEvent.case_id == case_id)).scalar()
        assert len(seqs) == len(set(seqs)) and last == most, (seqs, last)
        assert seqs == sorted(seqs)
    finally:
        other.engine.dispose()


def test_the_calendar_is_shared_for_a_while_and_dropped_by_the_process_that_enters_a_plan(
        db: Any, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    year = 2099
    with db.unit_of_work() as session:
        assert workdays.calendar_for(session).is_provisional(year)
    seen = _statements(db)
    with db.unit_of_work() as session:
        assert workdays.calendar_for(session).is_provisional(year)
    assert not any("workday_schedule" in s for s in seen), seen
    other = Database(database_url)
    try:
        with other.unit_of_work() as session:  # another process enters the plan
            session.add(WorkdaySchedule(year=year, holidays=[date(year, 1, 2).isoformat()], workdays=[],
                                        source="测试"))
    finally:
        other.engine.dispose()
    with db.unit_of_work() as session:  # within the minute: the shared copy
        assert workdays.calendar_for(session).is_provisional(year)
    monkeypatch.setattr(workdays, "CALENDAR_TTL_S", 0.0)
    with db.unit_of_work() as session:
        assert not workdays.calendar_for(session).is_provisional(year)
    monkeypatch.undo()
    with db.unit_of_work() as session:  # this process changes it: dropped at once
        session.execute(text("DELETE FROM workday_schedule WHERE year = :y"), {"y": year})
        workdays.forget_calendar(session)
    with db.unit_of_work() as session:
        assert workdays.calendar_for(session).is_provisional(year)
