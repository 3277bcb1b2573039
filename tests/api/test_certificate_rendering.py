"""制证 after 缮证 commits (issue 18): 缮证 numbers the certificate and ends; the PDF is rendered and signed
afterwards — right after the response by the request's own trigger, else by the ``certificates`` job. Until then
the certificate is 制证中: verifiable, listed without a link, its download answered 409, not yet announced to the
电子证照库; a rendering that fails leaves it pending for the next run."""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from support.cases import complete_stage, render_certificates
from support.waiting import wait_for

from app.demo import DEMO_PASSWORD
from app.integrations.models import OutboxMessage
from app.registry.models import Certificate


def certify_without_rendering(login: Any, business_no: str) -> Any:
    """受理 审核 登簿 as usual, then 缮证 through the API with nothing run after it (the test client never closes
    the response, so the after-response trigger waits for ``close()``)."""
    for stage in ("受理", "审核", "登簿"):
        assert complete_stage(login({"受理": "xh_acceptor", "审核": "xh_reviewer", "登簿": "xh_recorder"}[stage]),
                              business_no, stage).status_code == 200
    certifier = login("xh_certifier")
    query = {"business_no": business_no, "stage": "缮证"}
    wait_for(lambda: bool(certifier.get("/api/v1/tasks", query_string=query).get_json()["items"]), "the 缮证 task")
    [task] = certifier.get("/api/v1/tasks", query_string=query).get_json()["items"]
    resp = certifier.post(f"/api/v1/tasks/{task['id']}/complete",
                          json={"decision": "approve", "opinion": "缮证意见：符合规定", "confirm_record": True})
    assert resp.status_code == 200, resp.get_json()
    return resp


def the_certificate(app: Flask) -> Certificate:
    with app.extensions["db"].unit_of_work() as session:
        [cert] = session.scalars(select(Certificate)).all()
        return cert


def announced(app: Flask) -> list[dict[str, Any]]:
    with app.extensions["db"].unit_of_work() as session:
        return [m.payload for m in session.scalars(select(OutboxMessage)
                                                   .where(OutboxMessage.topic == "certificate.issued"))]


def sign_in_page(client: FlaskClient, username: str) -> None:
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page[:300]
    resp = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]


def test_a_certificate_is_rendered_after_certify_commits_and_downloadable_only_then(
        seeded: Flask, login: Any, client: FlaskClient, submitted_transfer: dict) -> None:
    certify_without_rendering(login, submitted_transfer["business_no"])
    cert = the_certificate(seeded)
    assert cert.rendering and cert.storage_key is None and cert.sha256 is None and cert.number  # 制证中, numbered
    buyer = login("lisi")
    listed = buyer.get(f"/api/v1/applications/{submitted_transfer['id']}").get_json()["certificates"]
    assert [(c["number"], c["rendering"], c["downloadable"]) for c in listed] == [(cert.number, True, False)]
    resp = buyer.get(f"/api/v1/certificates/{cert.id}/pdf")
    assert resp.status_code == 409 and resp.get_json()["code"] == "certificate_rendering", resp.get_json()
    assert "制证中" in resp.get_json()["detail"]
    verified = client.get("/api/v1/certificates/verify", query_string={"code": cert.verify_code}).get_json()
    assert verified["status"] == "valid" and verified["number"] == cert.number  # verifiable at once
    assert announced(seeded) == []  # the 证照库 gets it with the signed file's hash
    sign_in_page(client, "lisi")
    page = client.get(f"/my/applications/{submitted_transfer['id']}").get_data(as_text=True)
    assert "制证中" in page and "certificate-link" not in page

    render_certificates(seeded)  # the job's run
    cert = the_certificate(seeded)
    assert not cert.rendering and cert.storage_key and len(cert.sha256 or "") == 64 and cert.rendered_at
    pdf = buyer.get(f"/api/v1/certificates/{cert.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    [payload] = announced(seeded)
    assert payload["certificate_no"] == cert.number and payload["sha256"] == cert.sha256
    page = client.get(f"/my/applications/{submitted_transfer['id']}").get_data(as_text=True)
    assert "制证中" not in page and "certificate-link" in page


def test_the_request_renders_its_certificate_once_its_response_is_closed(
        seeded: Flask, login: Any, submitted_transfer: dict) -> None:
    resp = certify_without_rendering(login, submitted_transfer["business_no"])
    assert the_certificate(seeded).rendering
    resp.close()  # what a WSGI server does once the response has gone to the client
    cert = the_certificate(seeded)
    assert not cert.rendering and cert.storage_key is not None


def test_a_rendering_that_fails_stays_pending_and_the_next_run_renders_it(
        seeded: Flask, login: Any, submitted_transfer: dict, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from app.registry import signing
    from app.registry.certificate_rendering import render_now

    certify_without_rendering(login, submitted_transfer["business_no"])
    real_sign = signing.sign_pdf

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise OSError("签章服务不可用")

    monkeypatch.setattr(signing, "sign_pdf", broken)
    with caplog.at_level(logging.ERROR):
        assert render_now(seeded) == 0
    assert "retried at the next run" in caplog.text
    cert = the_certificate(seeded)
    assert cert.rendering and cert.storage_key is None and announced(seeded) == []

    monkeypatch.setattr(signing, "sign_pdf", real_sign)
    assert render_now(seeded) == 1
    assert not the_certificate(seeded).rendering
    assert render_now(seeded) == 0  # nothing left: each certificate is rendered once


def test_a_certificate_being_rendered_cannot_be_marked_delivered(
        seeded: Flask, login: Any, submitted_transfer: dict) -> None:
    from app.errors import Conflict
    from app.identity.actor import SYSTEM
    from app.registry.delivery import deliver

    certify_without_rendering(login, submitted_transfer["business_no"])
    with seeded.app_context(), seeded.extensions["db"].unit_of_work() as session:
        cert = session.get_one(Certificate, the_certificate(seeded).id)
        with pytest.raises(Conflict) as refused:
            deliver(session, replace(SYSTEM, permissions=frozenset({"certificate:deliver"})), cert, method="collected")
    assert refused.value.code == "certificate_rendering"


def test_the_command_renders_what_is_pending(seeded: Flask, login: Any, submitted_transfer: dict) -> None:
    certify_without_rendering(login, submitted_transfer["business_no"])
    result = seeded.test_cli_runner().invoke(args=["registry", "render-certificates"])
    assert result.exit_code == 0 and "已制证 1 份" in result.output, result.output
    assert not the_certificate(seeded).rendering
