"""Issue 20 §3: the inbox counts, the statistics and the register queries read through a replica when
``DATABASE_REPLICA_URL`` is set; writes (a claim, the register query's access log) always go to the primary; an
unreachable replica falls back to the primary with a log line.

The replica here is the same PostgreSQL server under another role that may only read (``pg_read_all_data``): a
write through it fails, and every statement it ran is seen on its engine. A second database fed by logical
replication would lag; the seam is the same."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from page_fixtures import PageUser
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from support.personas import Api
from support.servers import LiveServer
from support.settings import make_settings

from app import create_app

REPLICA_ROLE = "bdcdj_replica"


def _replica_url(owner_database_url: str) -> str:
    """The worker's database under a role that reads everything and writes nothing (created once per cluster)."""
    engine = create_engine(owner_database_url)
    try:
        with engine.begin() as conn:
            if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": REPLICA_ROLE}).scalar() is None:
                conn.execute(text(f"CREATE ROLE {REPLICA_ROLE} LOGIN PASSWORD '{REPLICA_ROLE}'"))
    except DBAPIError:  # another worker created it at the same moment
        pass
    with engine.begin() as conn:
        conn.execute(text(f"GRANT pg_read_all_data TO {REPLICA_ROLE}"))
    engine.dispose()
    url = make_url(owner_database_url).set(username=REPLICA_ROLE, password=REPLICA_ROLE)
    return url.render_as_string(hide_password=False)


def _app_with_replica(database_url: str, replica_url: str, tmp_path: Path, simulator: LiveServer) -> Flask:
    application = create_app(make_settings(database_url, tmp_path, integrations_base_url=simulator.url,
                                           database_replica_url=replica_url))
    application.config["TESTING"] = True
    return application


class Statements:
    """What one engine ran."""

    def __init__(self, engine: Any) -> None:
        self.seen: list[str] = []
        event.listen(engine, "before_cursor_execute", self._note)

    def _note(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.seen.append(" ".join(statement.split()).upper())

    def writes(self) -> list[str]:
        return [s for s in self.seen if s.startswith(("INSERT", "UPDATE", "DELETE"))]

    def reading(self, table: str) -> bool:
        return any(s.startswith("SELECT") and table.upper() in s for s in self.seen)


@pytest.fixture
def replica_app(seeded: Flask, owner_database_url: str, database_url: str, tmp_path: Path,
                simulator: LiveServer) -> Iterator[Flask]:
    if make_url(owner_database_url).get_backend_name() != "postgresql":
        pytest.skip("a read replica is a PostgreSQL deployment (streaming replica or a read-only role); SQLite is "
                    "one file in one process's hands — the fallback test below runs on it")
    application = _app_with_replica(database_url, _replica_url(owner_database_url), tmp_path, simulator)
    yield application
    database = application.extensions["db"]
    database.engine.dispose()
    database.replica_engine.dispose()


def test_reads_go_to_the_read_only_replica_and_writes_to_the_primary(replica_app: Flask,
                                                                    submitted_transfer: dict) -> None:
    database = replica_app.extensions["db"]
    with database.read_session() as session:
        assert session.execute(text("SELECT current_user")).scalar() == REPLICA_ROLE
        with pytest.raises(DBAPIError, match="permission denied"):  # a write through the replica fails
            session.execute(text("UPDATE job_lease SET holder = holder"))
    replica, primary = Statements(database.replica_engine), Statements(database.engine)

    clerk = Api(replica_app.test_client(), "xh_acceptor")
    tasks = clerk.get("/api/v1/tasks", query_string={"tab": "claimable"})
    assert tasks.status_code == 200 and tasks.get_json()["items"], tasks.get_json()
    assert replica.reading("task")  # the tab counts
    found = clerk.get("/api/v1/units/search", query_string={"location": "文三路4号", "purpose": "办理登记"})
    assert found.status_code == 200 and len(found.get_json()["items"]) == 1, found.get_json()
    assert replica.reading("realty_unit") and replica.reading("realty_right")
    assert any(s.startswith("INSERT INTO ACCESS_LOG") for s in primary.writes()), primary.writes()
    other_office = Api(replica_app.test_client(), "yh_acceptor")  # the tenant scope holds on the replica too
    assert other_office.get("/api/v1/units/search", query_string={"location": "文三路", "purpose": "办理登记"}
                            ).get_json()["items"] == []

    task_id = tasks.get_json()["items"][0]["id"]
    claimed = clerk.post(f"/api/v1/tasks/{task_id}/claim")
    assert claimed.status_code == 200, claimed.get_json()
    assert any(s.startswith("UPDATE TASK") for s in primary.writes()), primary.writes()

    page = PageUser(replica_app.test_client(), "ops")
    before = len(replica.seen)
    assert page.get("/admin/stats").status_code == 200
    assert page.get("/admin/stats/data", accept="application/json").status_code == 200
    assert len(replica.seen) > before and replica.reading("reg_case")
    inbox = PageUser(replica_app.test_client(), "xh_acceptor").get("/workbench/")
    assert inbox.status_code == 200
    assert replica.writes() == []  # nothing was ever written through the replica


def test_an_unreachable_replica_falls_back_to_the_primary(submitted_transfer: dict, database_url: str,
                                                         tmp_path: Path, simulator: LiveServer,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    url = make_url(database_url)
    unreachable = (url.set(host="127.0.0.1", port=1).render_as_string(hide_password=False)
                   if url.get_backend_name() == "postgresql" else f"sqlite:///{tmp_path / 'missing' / 'replica.db'}")
    application = _app_with_replica(database_url, unreachable, tmp_path, simulator)
    try:
        clerk = Api(application.test_client(), "xh_acceptor")
        with caplog.at_level(logging.WARNING, logger="app.db"):
            tasks = clerk.get("/api/v1/tasks", query_string={"tab": "claimable"})
        assert tasks.status_code == 200 and tasks.get_json()["items"], tasks.get_json()
        assert "read replica unreachable" in caplog.text
        found = clerk.get("/api/v1/units/search", query_string={"location": "文三路4号", "purpose": "办理登记"})
        assert found.status_code == 200 and len(found.get_json()["items"]) == 1
    finally:
        application.extensions["db"].engine.dispose()
        application.extensions["db"].replica_engine.dispose()
