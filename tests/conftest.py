"""Shared fixtures: per pytest-xdist worker, a database migrated and seeded once into templates (SQLite file,
or PostgreSQL via TEST_DATABASE_URL) and the department simulator; per test, a fresh app on a fresh copy of a
template, and personas that log in through the real token endpoint. Plain helpers (personas, forms, filing and
taking cases through, waiting, a frozen clock) live in tests/support/; tests/README.md maps the suite."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support.app_state import pristine
from support.cases import submit_transfer
from support.clock import warm_up_before_freezing
from support.databases import (
    TEMPLATES,
    PostgresRows,
    copy_database,
    create_empty,
    drop,
    empty_all_tables,
    settle_sqlite,
    worker_database_url,
)
from support.locks import LockWatch
from support.personas import Api
from support.servers import LiveServer, simulator_reset
from support.settings import make_settings

from app import create_app
from app.config import ROOT
from app.db_roles import grant_app_role
from app.registry.signing import ensure_dev_keys

# Random keys for this test run (no key from the repository is ever used); a developer's instance/keys.env is
# not read because INSTANCE_PATH points at an empty directory.
from app.security.keygen import random_keys  # noqa: E402

for _name, _value in random_keys().items():
    os.environ.setdefault(_name, _value)
warm_up_before_freezing()  # before any test freezes the clock (tests/support/clock.py says why)
# live server + Chromium fixtures for tests/browser, page sessions, the version-migration scenario
pytest_plugins = ["browser_fixtures", "page_fixtures", "version_fixtures"]


APP_ROLE = "bdcdj_app"  # on PostgreSQL the app connects as a role that owns no table (README "Security")


def _app_role_url(owner_url: str) -> str:
    """What the app connects with: the owner on SQLite, the unprivileged application role on PostgreSQL."""
    url = make_url(owner_url)
    if url.get_backend_name() != "postgresql":
        return owner_url
    return url.set(username=APP_ROLE, password=APP_ROLE).render_as_string(hide_password=False)


def _ensure_app_role(owner_url: str) -> None:
    if make_url(owner_url).get_backend_name() != "postgresql":
        return
    engine = create_engine(owner_url)
    with engine.begin() as conn:  # roles are per cluster: create it once, grant it per database
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}).scalar() is None:
            conn.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_ROLE}'"))
    engine.dispose()


WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")  # pytest-xdist's worker name: one database per worker


@pytest.fixture(scope="session")
def base_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """TEST_DATABASE_URL (PostgreSQL) or a SQLite file: the name this worker's databases derive from."""
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def owner_database_url(base_database_url: str) -> Iterator[str]:
    """The tables' owner of this worker's test database (tests/support/databases.py): migrations, tests that
    play a rogue owner. The ``app`` fixture replaces it by a copy of a template before each test."""
    base, worker = base_database_url, WORKER
    url = worker_database_url(base, worker)
    empty = worker_database_url(base, worker, "empty")
    from app.migrate import upgrade_to_head

    create_empty(empty)
    upgrade_to_head(empty)
    empty_all_tables(empty)
    _ensure_app_role(empty)
    grant_app_role(empty, APP_ROLE)  # grants live in the database, so every copy has them
    settle_sqlite(empty)
    copy_database(empty, url)
    yield url
    for name in (url, empty, worker_database_url(base, worker, "seeded")):
        drop(name)


@pytest.fixture(scope="session")
def database_url(owner_database_url: str) -> str:
    """What the app connects with: the owner on SQLite, the unprivileged application role on PostgreSQL."""
    return _app_role_url(owner_database_url)


@pytest.fixture(scope="session")
def database_templates(base_database_url: str, owner_database_url: str, simulator: LiveServer,
                       tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The two templates by name: ``empty`` (migrated) and ``seeded`` (roles, definitions, demo data and the
    interfaces pointing at this worker's simulator), seeded once per run through the app like ``flask setup``."""
    from app.catalog.service import sync_definitions
    from app.demo import seed_demo
    from app.identity.seed import load_roles
    from app.integrations.interfaces import ensure_interfaces

    templates = {name: worker_database_url(base_database_url, WORKER, name) for name in TEMPLATES}
    copy_database(templates["empty"], templates["seeded"])
    application = create_app(make_settings(_app_role_url(templates["seeded"]), tmp_path_factory.mktemp("seeding"),
                                           integrations_base_url=simulator.url))
    db = application.extensions["db"]
    with application.app_context(), db.unit_of_work() as session:
        load_roles(session)
        sync_definitions(session, ROOT)
        seed_demo(session)
        ensure_interfaces(session, application.config["SETTINGS"])
    db.engine.dispose()  # a template may have no connections
    settle_sqlite(templates["seeded"])
    return templates


@pytest.fixture(scope="session")
def simulator() -> Iterator[LiveServer]:
    """The department simulator (simulator) served for real, once per worker."""
    from simulator import SimulatorConfig, create_simulator_app

    config = SimulatorConfig(api_key=os.environ["SIMULATOR_API_KEY"],
                             tax_callback_secret=os.environ["TAX_CALLBACK_SECRET"],
                             payment_callback_secret=os.environ["PAYMENT_CALLBACK_SECRET"],
                             tax_callback_delay_s=0.02, callback_retry_delays=(0.1, 0.2, 0.5, 1.0, 2.0, 3.0))
    server = LiveServer(create_simulator_app(config))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def worker_database(owner_database_url: str, database_templates: dict[str, str]) -> Iterator[Any]:
    """How this worker's database goes back to a template before each test: a file copy on SQLite, a reset of
    the rows on PostgreSQL (tests/support/databases.py ``PostgresRows``)."""
    if make_url(owner_database_url).get_backend_name() != "postgresql":
        yield None
        return
    rows = PostgresRows(owner_database_url, database_templates)
    yield rows
    rows.dispose()


@pytest.fixture(scope="session")
def worker_app(database_url: str, simulator: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app per worker, served on a loopback port so departments can call it back. Building an app costs
    ~0.2 s (mostly werkzeug compiling ~200 URL rules) and its templates are compiled on first use, so the
    tests share it; ``app`` puts back what a test may change (tests/support/app_state.py)."""
    holder: list[Flask] = []
    live = LiveServer(lambda environ, start_response: holder[0](environ, start_response))
    application = create_app(make_settings(database_url, tmp_path_factory.mktemp("app"),
                                           integrations_base_url=simulator.url, callback_base_url=live.url,
                                           public_base_url=live.url))
    application.config["TESTING"] = True
    application.config["LIVE_URL"] = live.url
    ensure_dev_keys(application.extensions["signing_keys"])  # now, not on a first 缮证 under a frozen clock
    holder.append(application)
    yield application
    live.stop()
    application.extensions["db"].engine.dispose()


@pytest.fixture
def app(request: pytest.FixtureRequest, worker_app: Flask, worker_database: Any, owner_database_url: str,
        database_templates: dict[str, str], simulator: LiveServer) -> Iterator[Flask]:
    """The worker's app on a fresh copy of a template (``seeded`` if the test asks for the ``seeded`` fixture,
    directly or through another, else ``empty``), with its settings, extensions, files and throttling counters
    as they were when it was built."""
    simulator_reset(simulator)  # first: no callback of the previous test's cases arrives from here on
    template = "seeded" if "seeded" in request.fixturenames else "empty"
    engine = worker_app.extensions["db"].engine
    if worker_database is None:
        engine.dispose()  # SQLite: the file is replaced under the pool's connections
        copy_database(database_templates[template], owner_database_url)
    else:
        worker_database.reset(template, before_copy=engine.dispose)
    with pristine(worker_app):
        yield worker_app


@pytest.fixture
def own_app(database_url: str, simulator: LiveServer, tmp_path: Path, app: Flask) -> Iterator[Flask]:
    """An app of the test's own (not served) on the same fresh database, for a test that changes what the shared
    one cannot take back (a route added after the first request)."""
    application = create_app(make_settings(database_url, tmp_path, integrations_base_url=simulator.url))
    application.config["TESTING"] = True
    yield application
    application.extensions["db"].engine.dispose()


@pytest.fixture
def db(app: Flask) -> Any:
    return app.extensions["db"]


@pytest.fixture
def seeded(app: Flask, db: Any) -> Flask:
    """The app on the demo data: its database is a copy of the ``seeded`` template (see ``app``)."""
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


BROWSER_TESTS = Path(__file__).parent / "browser"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser is marked ``browser`` (so `make test-fast` can leave Chromium out); tests
    marked ``long`` go first, so one xdist worker starts the minute-long one while the other takes the rest
    instead of leaving it for the end of the run."""
    for item in items:
        if BROWSER_TESTS in item.path.parents:
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: otherwise in file order


@pytest.fixture
def lock_watch(seeded: Flask) -> Iterator[LockWatch]:
    """Flags a department call made while this thread's transaction holds locks, and locks taken out of the
    house order (tests/support/locks.py; issue 18)."""
    watch = LockWatch(seeded.extensions["db"].engine)
    try:
        yield watch
    finally:
        watch.close()
