"""Shared fixtures: a migrated test database (SQLite file, or PostgreSQL via TEST_DATABASE_URL), a fresh app
per test on emptied tables, demo data, and personas that log in through the real token endpoint."""
from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from app.config import ROOT, Settings
from app.db import Base

PASSWORD = "Demo@2026"
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


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    settings = Settings.from_env()
    settings.database_url = database_url
    settings.instance_path = tmp_path / "instance"
    settings.storage_dir = tmp_path / "files"
    settings.definitions_root = ROOT
    settings.password_hash_method = "pbkdf2:sha256:1000"  # demo accounts are seeded for every test
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings


class LiveServer:
    """A real HTTP server on a free loopback port in a thread (werkzeug ``make_server``)."""

    def __init__(self, wsgi_app: Any) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.server.daemon_threads = False  # so stop() waits for requests in flight (a late callback's transaction)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()  # joins the request threads
        self.thread.join(timeout=5)


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


def simulator_control(simulator: LiveServer, department: str, mode: str, delay_s: float = 0) -> None:
    body = json.dumps({"mode": mode, "delay_s": delay_s}).encode()
    request = urllib.request.Request(f"{simulator.url}/_control/{department}", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=5).close()


@pytest.fixture
def app(database_url: str, owner_database_url: str, tmp_path: Path, simulator: LiveServer) -> Iterator[Flask]:
    """A fresh app on emptied tables, also served on a loopback port so departments can call it back."""
    _empty_all_tables(owner_database_url)
    urllib.request.urlopen(urllib.request.Request(f"{simulator.url}/_control/reset", method="POST"), timeout=5).close()
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


class Api:
    """A logged-in persona: ``api.post(path, json=…)`` with its bearer token."""

    def __init__(self, client: FlaskClient, username: str, password: str = PASSWORD) -> None:
        self.client = client
        self.username = username
        resp = client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert resp.status_code == 200, resp.get_json()
        self.headers = {"Authorization": f"Bearer {resp.get_json()['access_token']}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.client.post(path, headers=self.headers, **kw)

    def patch(self, path: str, **kw: Any) -> Any:
        return self.client.patch(path, headers=self.headers, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete(path, headers=self.headers, **kw)


@pytest.fixture
def login(client: FlaskClient) -> Any:
    return lambda username: Api(client, username)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload_material(api: Api, case_id: str, code: str) -> None:
    """Upload a small PDF as the checklist item ``code`` (e.g. an optional consent or statement)."""
    import io

    resp = api.post(f"/api/v1/applications/{case_id}/materials",
                    data={"code": code, "file": (io.BytesIO(PDF), f"{code}.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()


def upload_missing(api: Api, case_id: str) -> None:
    """Upload a small PDF for every checklist item the case still needs."""
    import io

    for code in api.get(f"/api/v1/applications/{case_id}").get_json()["materials_missing"]:
        resp = api.post(f"/api/v1/applications/{case_id}/materials",
                        data={"code": code, "file": (io.BytesIO(PDF), f"{code}.pdf")},
                        content_type="multipart/form-data")
        assert resp.status_code == 201, resp.get_json()


def transfer_form(**overrides: Any) -> dict[str, Any]:
    from app.demo import LI_SI
    from app.registry.codes import make_unit_code

    form = {"unit_code": make_unit_code("330106", 1, 1, "GB", 100, 1, 101), "buyer_name": LI_SI["name"],
            "buyer_id_number": LI_SI["id_number"], "price": 2_350_000, "contract_no": "WQ2026-000123",
            "use": "住宅", "share_mode": "单独所有"}
    form.update(overrides)
    return form


@pytest.fixture
def submitted_transfer(login: Any) -> dict[str, Any]:
    """张三 sells his 西湖区 flat to 李四: created, materials uploaded, both confirm, submitted."""
    seller, buyer = login("zhangsan"), login("lisi")
    created = seller.post("/api/v1/applications", json={"business_type": "transfer_resale", "form": transfer_form()})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(seller, case_id)
    assert seller.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    assert buyer.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    resp = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 200, resp.get_json()
    wait_for(lambda: any(s["source"] == "tax" for s in seller.get(
        f"/api/v1/applications/{case_id}/verifications").get_json()["items"]), "完税回调")
    return resp.get_json()


def wait_for(condition: Any, what: str, timeout_s: float = 15.0) -> None:
    """Poll until ``condition()`` holds: departments answer asynchronously (e.g. the 完税 callback)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def complete_stage(api: Api, business_no: str, stage: str, decision: str = "approve", **data: Any) -> Any:
    def open_tasks() -> list[dict[str, Any]]:
        query = {"business_no": business_no, "stage": stage}
        return api.get("/api/v1/tasks", query_string=query).get_json()["items"]  # type: ignore[no-any-return]

    tasks = open_tasks()
    if not tasks:  # e.g. 登簿 opens only once 税务 has called back with 完税
        wait_for(lambda: bool(open_tasks()), f"an open {stage} task", timeout_s=10)
        tasks = open_tasks()
    assert len(tasks) == 1, tasks
    return api.post(f"/api/v1/tasks/{tasks[0]['id']}/complete",
                    json={"decision": decision, "opinion": f"{stage}意见：符合规定", "data": data})


STAFF = {"受理": "xh_acceptor", "审核": "xh_reviewer", "登簿": "xh_recorder", "缮证": "xh_certifier"}


def file_application(login: Any, creator: str, business_type: str, form: dict[str, Any],
                     confirmers: tuple[str, ...] = ()) -> Any:
    """``creator`` creates and uploads every required material; creator and ``confirmers`` confirm; the
    creator submits. Returns the submit response (not asserted: a refusal may be what the test wants)."""
    applicant = login(creator)
    created = applicant.post("/api/v1/applications", json={"business_type": business_type, "form": form})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(applicant, case_id)
    for username in (creator, *confirmers):
        confirmed = login(username).post(f"/api/v1/applications/{case_id}/confirm")
        assert confirmed.status_code == 200, confirmed.get_json()
    return applicant.post(f"/api/v1/applications/{case_id}/submit")


def take_through(login: Any, business_no: str, stages: tuple[str, ...] = ("受理", "审核", "登簿", "缮证")) -> Any:
    """西湖区 clerks approve each stage in turn; returns the last response."""
    resp = None
    for stage in stages:
        resp = complete_stage(login(STAFF[stage]), business_no, stage)
        assert resp.status_code == 200, resp.get_json()
    return resp
