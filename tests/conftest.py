"""Shared fixtures: a migrated test database (SQLite file, or PostgreSQL via TEST_DATABASE_URL), a fresh app
per test on emptied tables, demo data, and personas that log in through the real token endpoint. Plain helpers
(personas, forms, filing and taking cases through, waiting) live in tests/support/."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from support.cases import submit_transfer
from support.personas import Api
from support.servers import LiveServer, simulator_reset
from support.settings import make_settings

from app import create_app
from app.config import ROOT
from app.db import Base

# Random keys for this test run (no key from the repository is ever used); a developer's instance/keys.env is
# not read because INSTANCE_PATH points at an empty directory.
from app.security.keygen import random_keys  # noqa: E402

for _name, _value in random_keys().items():
    os.environ.setdefault(_name, _value)
# live server + Chromium fixtures for tests/browser, page sessions, the version-migration scenario
pytest_plugins = ["browser_fixtures", "page_fixtures", "version_fixtures"]


APP_ROLE = "bdcdj_app"  # on PostgreSQL the app connects as a role that owns no table (README "Security")


@pytest.fixture(scope="session")
def owner_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The tables' owner: migrations, emptying tables between tests, and tests that play a rogue owner."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    from app.migrate import upgrade_to_head

    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def database_url(owner_database_url: str) -> str:
    """What the app connects with: the owner on SQLite, the unprivileged application role on PostgreSQL."""
    from sqlalchemy.engine import make_url

    from app.db_roles import grant_app_role

    if not owner_database_url.startswith("postgresql"):
        return owner_database_url
    engine = create_engine(owner_database_url)
    with engine.begin() as conn:  # roles are per cluster: create it once, grant it per database
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}).scalar() is None:
            conn.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_ROLE}'"))
    engine.dispose()
    grant_app_role(owner_database_url, APP_ROLE)
    return make_url(owner_database_url).set(username=APP_ROLE, password=APP_ROLE).render_as_string(hide_password=False)


def _empty_all_tables(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # past the no-truncate triggers
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
            conn.execute(text("PRAGMA foreign_keys=ON"))
    engine.dispose()


@pytest.fixture(scope="session")
def simulator() -> Iterator[LiveServer]:
    """The department simulator (app/integrations/simulator) served for real, once per test session."""
    from app.integrations.simulator import SimulatorConfig, create_simulator_app

    config = SimulatorConfig(api_key=os.environ["SIMULATOR_API_KEY"],
                             tax_callback_secret=os.environ["TAX_CALLBACK_SECRET"],
                             payment_callback_secret=os.environ["PAYMENT_CALLBACK_SECRET"],
                             tax_callback_delay_s=0.02, callback_retry_delays=(0.1, 0.2, 0.5, 1.0, 2.0, 3.0))
    server = LiveServer(create_simulator_app(config))
    yield server
    server.stop()


@pytest.fixture
def app(database_url: str, owner_database_url: str, tmp_path: Path, simulator: LiveServer) -> Iterator[Flask]:
    """A fresh app on emptied tables, also served on a loopback port so departments can call it back."""
    _empty_all_tables(owner_database_url)
    simulator_reset(simulator)
    holder: list[Flask] = []
    live = LiveServer(lambda environ, start_response: holder[0](environ, start_response))
    application = create_app(make_settings(database_url, tmp_path, integrations_base_url=simulator.url,
                                           callback_base_url=live.url, public_base_url=live.url))
    application.config["TESTING"] = True
    application.config["LIVE_URL"] = live.url
    holder.append(application)
    yield application
    live.stop()
    application.extensions["db"].engine.dispose()


@pytest.fixture
def db(app: Flask) -> Any:
    return app.extensions["db"]


@pytest.fixture
def seeded(app: Flask, db: Any) -> Flask:
    from app.catalog.service import sync_definitions
    from app.demo import seed_demo
    from app.identity.seed import load_roles
    from app.integrations.interfaces import ensure_interfaces

    with db.unit_of_work() as session:
        load_roles(session)
        sync_definitions(session, ROOT)
        seed_demo(session)
        ensure_interfaces(session, app.config["SETTINGS"])
    return app


@pytest.fixture
def client(seeded: Flask) -> FlaskClient:
    return seeded.test_client()


@pytest.fixture
def login(client: FlaskClient) -> Any:
    return lambda username: Api(client, username)


@pytest.fixture
def submitted_transfer(login: Any) -> dict[str, Any]:
    """张三 sells his 西湖区 flat to 李四: created, materials uploaded, both confirm, submitted (and 完税)."""
    return submit_transfer(login)
