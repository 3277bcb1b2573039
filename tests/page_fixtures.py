"""Fixture for page (session-cookie) tests: a browser-like client signed in through /login that sends the CSRF
token, as the admin, portal and workbench pages expect."""
from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from app.demo import DEMO_PASSWORD


class PageUser:
    def __init__(self, client: FlaskClient, username: str) -> None:
        self.client = client
        client.application.config["WTF_CSRF_ENABLED"] = True
        token = self._token(client.get("/login").get_data(as_text=True))
        resp = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        self.csrf = self._token(client.get("/login").get_data(as_text=True))

    @staticmethod
    def _token(html: str) -> str:
        return html.split('name="csrf_token" value="')[1].split('"')[0]

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers={"Accept": kw.pop("accept", "text/html")}, **kw)

    def post_json(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(path, json=body, headers={"X-CSRFToken": self.csrf, "Accept": "application/json"})

    def post_form(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.post(path, data={**data, "csrf_token": self.csrf}, headers={"Accept": "text/html"})


@pytest.fixture
def page_login(client: FlaskClient) -> Any:
    """``page_login("analyst")``: a signed-in page session with its CSRF token."""
    return lambda username: PageUser(client, username)
