"""The load balancer's probes (app/home.py): ``/healthz`` asks nothing of the database, ``/readyz`` answers 503
naming each failed check (app/supervision/readiness.py) and nothing more; and every answer carries the request
id the request log writes (app/request_log.py)."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.casefile.storage import LocalStorage
from app.db import Database
from app.registry.signing import KeyPaths
from app.request_log import REQUEST_ID, ROUTE, access_line, masked_path
from app.supervision import readiness

ALL_OK = {"database": "ok", "migrations": "ok", "signing_keys": "ok", "storage": "ok"}


def _unavailable(*failed: str) -> dict[str, Any]:
    return {"status": "unavailable", "checks": {**ALL_OK, **{name: "failed" for name in failed}},
            "failed": list(failed)}


def test_a_ready_process_answers_200(app: Flask) -> None:
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ready", "checks": ALL_OK, "failed": []}


def test_without_its_database_the_process_is_alive_but_not_ready(app: Flask, tmp_path: Path) -> None:
    app.extensions["db"] = Database(f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}")
    client = app.test_client()
    assert (client.get("/healthz").status_code, client.get("/healthz").get_json()) == (200, {"status": "ok"})
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json() == _unavailable("database", "migrations")


def test_a_schema_behind_the_code_is_named(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readiness, "head_revisions", lambda: frozenset({"0000feedbeef"}))
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json() == _unavailable("migrations")


def test_a_schema_migrated_by_the_next_release_keeps_the_process_ready(app: Flask,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A rolling upgrade runs ``flask setup`` first: processes of the previous release keep serving."""
    monkeypatch.setattr(readiness, "database_revisions", lambda connection: frozenset({"0000nextrelease"}))
    assert app.test_client().get("/readyz").status_code == 200
    monkeypatch.setattr(readiness, "database_revisions", lambda connection: frozenset())  # never migrated
    assert app.test_client().get("/readyz").get_json() == _unavailable("migrations")


def test_missing_signing_keys_are_named_without_their_path(app: Flask, tmp_path: Path) -> None:
    missing = tmp_path / "secret-keys"
    app.extensions["signing_keys"] = KeyPaths(key=missing / "k.pem", cert=missing / "c.pem", root=missing / "r.pem")
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json() == _unavailable("signing_keys")
    assert "secret-keys" not in resp.get_data(as_text=True)


def test_storage_that_cannot_be_written_is_named(app: Flask, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_bytes(b"")
    app.extensions["storage"] = LocalStorage(blocked)
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json() == _unavailable("storage")


def test_every_answer_carries_a_request_id_and_takes_only_a_uuid(app: Flask) -> None:
    client = app.test_client()
    own = client.get("/healthz").headers["X-Request-ID"]
    assert str(uuid.UUID(own)) == own
    theirs = str(uuid.uuid4())
    assert client.get("/healthz", headers={"X-Request-ID": theirs.upper()}).headers["X-Request-ID"] == theirs
    personal = "110105199001011234"  # a header is free text: an ID number put there never reaches the log
    made = client.get("/healthz", headers={"X-Request-ID": personal}).headers["X-Request-ID"]
    assert made != personal and str(uuid.UUID(made)) == made


def test_the_access_line_names_the_route_never_the_values() -> None:
    matched = {"REQUEST_METHOD": "GET", "PATH_INFO": "/verify/110105199001011234", "QUERY_STRING": "phone=13800138000",
               ROUTE: "/verify/<code>", REQUEST_ID: "r1", "REMOTE_ADDR": "10.1.2.3", "REMOTE_USER": "zhangsan"}
    line = access_line(matched, status=200, duration_s=0.01234, size=512)
    assert '"path": "/verify/<code>"' in line and '"ms": 12.3' in line and '"request_id": "r1"' in line
    for secret in ("110105199001011234", "13800138000", "10.1.2.3", "zhangsan"):
        assert secret not in line
    assert masked_path("/cases/110105199001011234/张三/files") == "/cases/*/*/files"
    assert masked_path("/static/app.css") == "/static/app.css"
