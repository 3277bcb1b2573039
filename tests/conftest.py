"""Shared fixtures: a migrated test database (SQLite file, or PostgreSQL via TEST_DATABASE_URL), a fresh app
per test on emptied tables, demo data, and personas that log in through the real token endpoint."""
from __future__ import annotations

import os
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
pytest_plugins = ["browser_fixtures", "page_fixtures"]  # live server + Chromium fixtures for tests/browser


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    from app.migrate import upgrade_to_head

    upgrade_to_head(url)
    return url


def _empty_all_tables(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
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
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    _empty_all_tables(database_url)
    application = create_app(make_settings(database_url, tmp_path))
    application.config["TESTING"] = True
    yield application
    application.extensions["db"].engine.dispose()


@pytest.fixture
def db(app: Flask) -> Any:
    return app.extensions["db"]


@pytest.fixture
def seeded(app: Flask, db: Any) -> Flask:
    from app.catalog.service import sync_definitions
    from app.demo import seed_demo
    from app.identity.seed import load_roles

    with db.unit_of_work() as session:
        load_roles(session)
        sync_definitions(session, ROOT)
        seed_demo(session)
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
    return resp.get_json()


def complete_stage(api: Api, business_no: str, stage: str, decision: str = "approve", **data: Any) -> Any:
    tasks = api.get("/api/v1/tasks", query_string={"business_no": business_no, "stage": stage}).get_json()["items"]
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
