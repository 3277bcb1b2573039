"""Issue 18's storage migrations convert existing rows, up and down: workflow states compressed (read by
app/engine/state_format.py), audit digests as bytes (read as hex by the column type)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from support.databases import scratch_database

from app.engine.state_format import state_dict
from app.migrate import alembic_config
from app.security.audit import GENESIS, _digest, _fields, verify_chain
from app.security.models import AuditEntry

WORKFLOW_STATE = "f2a4c6e8b0d1"  # workflow states compressed
AUDIT_DIGESTS = "a8c0e2f4b6d3"  # audit digests as bytes


def _before(revision: str) -> str:
    """The revision a conversion runs from (read from the script, so re-chaining the migrations keeps this test)."""
    down = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(revision).down_revision
    assert isinstance(down, str)
    return down
# A saved instance as the old code wrote it (indented, ASCII-escaped), with what JSON round-trips exactly.
STATE = {"data": {"case_id": "c1", "use": "住宅", "price": 2350000}, "tasks": {"t1": {
    "id": "t1", "last_state_change": 1796517967.2835796, "state": 64, "triggered": False, "data": {}}},
    "root": "t1", "spec_ref": "v1", "serializer_version": "1.5"}


@pytest.fixture
def scratch_url(base_database_url: str) -> Iterator[str]:
    with scratch_database(base_database_url, "statefmt") as url:
        yield url


def test_existing_states_are_compressed_and_restored(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, _before(WORKFLOW_STATE))
    engine = create_engine(scratch_url)
    postgres = make_url(scratch_url).get_backend_name() == "postgresql"
    with engine.begin() as conn:  # the row alone: its case and version rows do not matter to the conversion
        if postgres:
            conn.execute(text("SET session_replication_role = replica"))
        conn.execute(text("INSERT INTO workflow_state (case_id, process_version_id, state_json, completed, version,"
                          " updated_at) VALUES ('c1', 'v1', :s, true, 5, CURRENT_TIMESTAMP)"),
                     {"s": json.dumps(STATE, indent=2)})
    engine.dispose()

    command.upgrade(config, WORKFLOW_STATE)
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        blob = conn.execute(text("SELECT state FROM workflow_state WHERE case_id = 'c1'")).scalar_one()
    engine.dispose()
    assert state_dict(blob) == STATE
    assert len(blob) < len(json.dumps(STATE, indent=2))

    command.downgrade(config, _before(WORKFLOW_STATE))
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        restored = conn.execute(text("SELECT state_json, version FROM workflow_state WHERE case_id = 'c1'")).one()
    engine.dispose()
    assert json.loads(restored.state_json) == STATE and restored.version == 5


def test_audit_digests_are_stored_as_bytes_and_the_chain_written_before_still_verifies(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, _before(AUDIT_DIGESTS))
    at = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    entry = AuditEntry(seq=1, at=at, actor_id=None, tenant_id="330106", action="case.create", object_type="case",
                       object_id="c1", before=None, after={"status": "draft"})
    digest = _digest(GENESIS, _fields(entry))  # as the code before the migration chained it
    engine = create_engine(scratch_url)
    with engine.begin() as conn:  # the old columns are text: the entry as the old code stored it
        conn.execute(text("INSERT INTO audit_entry (seq, at, tenant_id, action, object_type, object_id, after,"
                          " prev_hash, hash) VALUES (1, :at, '330106', 'case.create', 'case', 'c1', :after, :p, :h)"),
                     {"at": at.replace(tzinfo=None), "after": '{"status": "draft"}', "p": GENESIS, "h": digest})
        conn.execute(text("INSERT INTO audit_head (id, seq, hash, anchor_seq, anchor_hash) VALUES (1, 1, :h, 0, :g)"),
                     {"h": digest, "g": GENESIS})
    engine.dispose()

    command.upgrade(config, AUDIT_DIGESTS)
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT prev_hash, hash FROM audit_entry")).one()
        assert (bytes(stored.prev_hash), bytes(stored.hash)) == (bytes(32), bytes.fromhex(digest))
    with Session(engine) as session:
        assert session.execute(select(AuditEntry.hash)).scalar_one() == digest  # read back as hex
        assert verify_chain(session) == []
    engine.dispose()

    command.downgrade(config, _before(AUDIT_DIGESTS))
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        assert tuple(conn.execute(text("SELECT prev_hash, hash FROM audit_entry")).one()) == (GENESIS, digest)
    engine.dispose()
