"""Session-cookie pages: forms need a CSRF token; the API ignores the page session (bearer only)."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from support.personas import PASSWORD


def test_login_form_refuses_a_post_without_csrf_token(client: FlaskClient) -> None:
    client.application.config["WTF_CSRF_ENABLED"] = True
    resp = client.post("/login", data={"username": "xh_acceptor", "password": PASSWORD},
                       headers={"Accept": "text/html"})
    assert resp.status_code == 400
    assert "防伪" in resp.get_data(as_text=True) or "页面已过期" in resp.get_data(as_text=True)


def test_api_does_not_accept_the_page_session(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    resp = client.post("/login", data={"username": "xh_acceptor", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    api = client.get("/api/v1/tasks")
    assert api.status_code == 401
    assert api.mimetype == "application/problem+json"


def test_unknown_page_renders_html_for_browsers(client: FlaskClient) -> None:
    resp = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"
    assert "请求的资源不存在" in resp.get_data(as_text=True)



def test_a_refused_page_is_rendered_again_without_the_requests_writes(app: Flask) -> None:
    from sqlalchemy import func, select

    from app.errors import Conflict, DomainError, ValidationFailed
    from app.identity.models import Tenant
    from app.pages import refused
    from app.web import db_session

    def page(code: str, *, errors: dict[str, list[str]], status: int, hint: str = "") -> tuple[Any, ...]:
        written = db_session().scalar(select(func.count()).select_from(Tenant).where(Tenant.code == code))
        return written, errors, status, hint

    def write_then_refuse(exc: DomainError, **kwargs: Any) -> tuple[Any, ...]:
        db_session().add(Tenant(code="330999", name="测试区", level="district"))
        db_session().flush()
        assert page("330999", errors={}, status=200)[0] == 1
        return refused(exc, page, "330999", **kwargs)

    with app.test_request_context("/"):
        assert write_then_refuse(ValidationFailed("证件号码有误", field="id_number"), hint="x") == (
            0, {"id_number": ["证件号码有误"]}, 422, "x")
        assert write_then_refuse(Conflict("案件已受理"), field="method") == (0, {"method": ["案件已受理"]}, 409, "")
        assert write_then_refuse(Conflict("案件已受理"), errors={"_form": ["另行显示"]}, status=422) == (
            0, {"_form": ["另行显示"]}, 422, "")
