"""Session-cookie pages: forms need a CSRF token; the API ignores the page session (bearer only)."""
from __future__ import annotations

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
