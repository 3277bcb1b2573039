"""A verification reads the book, the rights and the audit head in several statements; under load a 登簿
commits between them. ``db.one_snapshot`` makes them one snapshot, so that is never reported as a break."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.db import one_snapshot
from app.registry.models import RegisterEntry
from app.registry.verify import verify_register_report
from app.security.models import AuditHead


def _head_seq(session: Any) -> int:
    return int(session.execute(select(AuditHead.seq).where(AuditHead.id == 1)).scalar_one_or_none() or 0)


def _append_audit(app: Flask) -> None:
    from app.security import audit

    with app.extensions["db"].unit_of_work() as other:
        audit.record(other, actor_id=None, action="test.snapshot", object_type="test", object_id="1")


def test_a_fresh_session_reads_one_snapshot_on_postgresql(app: Flask) -> None:
    database = app.extensions["db"]
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's BEGIN IMMEDIATE keeps writers out of a transaction already")
    _append_audit(app)
    with database.unit_of_work() as session:
        one_snapshot(session)
        before = _head_seq(session)
        _append_audit(app)  # committed while the verification runs
        assert _head_seq(session) == before
    with database.unit_of_work() as session:  # without it, read committed: the second read sees the append
        before = _head_seq(session)
        _append_audit(app)
        assert _head_seq(session) == before + 1


def test_the_register_report_reads_one_snapshot(seeded: Flask) -> None:
    with seeded.extensions["db"].unit_of_work() as session:
        report = verify_register_report(session)
        entries = session.execute(select(func.count()).select_from(RegisterEntry)
                                  .execution_options(all_tenants=True)).scalar_one()
        assert report.breaks == [] and report.entries == entries
        if seeded.extensions["db"].engine.dialect.name == "postgresql":
            isolation = session.connection().get_isolation_level()
            assert isolation == "REPEATABLE READ"
