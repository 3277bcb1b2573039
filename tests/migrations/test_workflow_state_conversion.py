"""The migration that stores workflow states compressed converts existing rows, up and down, and the app's
reader (app/engine/state_format.py) reads what it wrote."""
from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support.databases import create_empty, drop, worker_database_url

from app.engine.state_format import state_dict
from app.migrate import alembic_config

BEFORE = "e3b7c9d1f5a2"  # the revision before the conversion
AFTER = "f2a4c6e8b0d1"
# A saved instance as the old code wrote it (indented, ASCII-escaped), with what JSON round-trips exactly.
STATE = {"data": {"case_id": "c1", "use": "住宅", "price": 2350000}, "tasks": {"t1": {
    "id": "t1", "last_state_change": 1796517967.2835796, "state": 64, "triggered": False, "data": {}}},
    "root": "t1", "spec_ref": "v1", "serializer_version": "1.5"}


@pytest.fixture
def scratch_url(base_database_url: str) -> Iterator[str]:
    url = worker_database_url(base_database_url, os.environ.get("PYTEST_XDIST_WORKER", "main"), "statefmt")
    drop(url)
    create_empty(url)
    yield url
    drop(url)


def test_existing_states_are_compressed_and_restored(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, BEFORE)
    engine = create_engine(scratch_url)
    postgres = make_url(scratch_url).get_backend_name() == "postgresql"
    with engine.begin() as conn:  # the row alone: its case and version rows do not matter to the conversion
        if postgres:
            conn.execute(text("SET session_replication_role = replica"))
        conn.execute(text("INSERT INTO workflow_state (case_id, process_version_id, state_json, completed, version,"
                          " updated_at) VALUES ('c1', 'v1', :s, true, 5, CURRENT_TIMESTAMP)"),
                     {"s": json.dumps(STATE, indent=2)})
    engine.dispose()

    command.upgrade(config, AFTER)
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        blob = conn.execute(text("SELECT state FROM workflow_state WHERE case_id = 'c1'")).scalar_one()
    engine.dispose()
    assert state_dict(blob) == STATE
    assert len(blob) < len(json.dumps(STATE, indent=2))

    command.downgrade(config, BEFORE)
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        restored = conn.execute(text("SELECT state_json, version FROM workflow_state WHERE case_id = 'c1'")).one()
    engine.dispose()
    assert json.loads(restored.state_json) == STATE and restored.version == 5
