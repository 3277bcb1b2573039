"""The register book can prove it was only ever appended to: ``registry verify`` recomputes every unit's
hash chain. On PostgreSQL the database also refuses to change or remove an entry; tampering is simulated
there the only way it could happen — a superuser disabling the trigger."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, delete, select, text, update
from sqlalchemy.exc import DBAPIError
from support.cases import complete_stage

from app.registry.models import RealtyUnit, RegisterEntry
from app.registry.verify import verify_register

TRIGGER = "register_entry_no_update_delete"


@pytest.fixture
def recorded_transfer(login: Any, submitted_transfer: dict) -> dict:
    """The submitted transfer taken through 受理, 审核, 登簿 and 缮证: the unit now has two entries."""
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿"),
                            ("xh_certifier", "缮证")]:
        resp = complete_stage(login(username), submitted_transfer["business_no"], stage)
        assert resp.status_code == 200, resp.get_json()
    return submitted_transfer


def is_postgresql(db: Any) -> bool:
    return db.engine.dialect.name == "postgresql"


@pytest.fixture
def owner(owner_database_url: str) -> Iterator[Engine]:
    """The tables' owner (the application's role on PostgreSQL may not disable a trigger)."""
    engine = create_engine(owner_database_url)
    yield engine
    engine.dispose()


@contextmanager
def as_superuser_bypassing_the_trigger(owner: Engine) -> Iterator[Connection]:
    """A connection that can rewrite history: on PostgreSQL only with the append-only trigger disabled."""
    with owner.begin() as conn:
        if owner.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE register_entry DISABLE TRIGGER {TRIGGER}"))
        yield conn
        if owner.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE register_entry ENABLE TRIGGER {TRIGGER}"))


def entry_of(db: Any, unit_code: str, seq: int) -> RegisterEntry:
    with db.unit_of_work() as session:
        unit_id = session.execute(select(RealtyUnit.id).where(RealtyUnit.unit_code == unit_code)).scalar_one()
        entry = session.execute(select(RegisterEntry).where(RegisterEntry.unit_id == unit_id,
                                                            RegisterEntry.seq == seq)).scalar_one()
        session.expunge(entry)
        return entry


def breaks(db: Any) -> list[tuple[str, int]]:
    with db.unit_of_work() as session:
        return [(b.unit_code, b.seq) for b in verify_register(session)]


def test_after_a_full_transfer_the_register_verifies(seeded: Flask, db: Any, recorded_transfer: dict) -> None:
    transfer = entry_of(db, recorded_transfer["unit_code"], 2)
    assert transfer.business_no == recorded_transfer["business_no"]
    assert breaks(db) == []

    result = seeded.test_cli_runner().invoke(args=["registry", "verify"])
    assert result.exit_code == 0, result.output
    assert "登记簿校验通过" in result.output and "个单元" in result.output


def test_an_edited_entry_is_reported_with_its_unit_and_seq(seeded: Flask, db: Any, owner: Engine,
                                                           recorded_transfer: dict) -> None:
    unit_code = recorded_transfer["unit_code"]
    original = entry_of(db, unit_code, 2)
    forged = {**original.change, "created": {**original.change["created"], "holders": ["someone-else"]}}
    with as_superuser_bypassing_the_trigger(owner) as conn:
        conn.execute(update(RegisterEntry).where(RegisterEntry.id == original.id).values(change=forged))

    assert set(breaks(db)) == {(unit_code, 2)}  # the hash, and the holders replayed from the forged entry
    result = seeded.test_cli_runner().invoke(args=["registry", "verify"])
    assert result.exit_code == 1
    assert unit_code in result.output and "第 2 条" in result.output and "篡改" in result.output


def test_a_removed_entry_breaks_the_chain(db: Any, owner: Engine, recorded_transfer: dict) -> None:
    unit_code = recorded_transfer["unit_code"]
    first = entry_of(db, unit_code, 1)
    with as_superuser_bypassing_the_trigger(owner) as conn:
        conn.execute(delete(RegisterEntry).where(RegisterEntry.id == first.id))

    assert breaks(db) == [(unit_code, 2), (unit_code, 2)]  # seq gap, and prev_hash no longer genesis


def test_postgresql_refuses_to_update_or_delete_an_entry(db: Any, owner: Engine, recorded_transfer: dict) -> None:
    """Even the tables' owner (the application's role has no such privilege at all: test_app_role.py)."""
    if not is_postgresql(db):
        pytest.skip("the append-only trigger exists on PostgreSQL only; SQLite relies on the hash chain")
    entry = entry_of(db, recorded_transfer["unit_code"], 2)
    with pytest.raises(DBAPIError, match="append-only"), owner.begin() as conn:
        conn.execute(text("UPDATE register_entry SET kind = 'forged' WHERE id = :id"), {"id": entry.id})
    with pytest.raises(DBAPIError, match="append-only"), owner.begin() as conn:
        conn.execute(text("DELETE FROM register_entry WHERE id = :id"), {"id": entry.id})
    assert breaks(db) == []
