"""Personas: the demo accounts' password, a logged-in API client, and the 西湖区 clerk of each stage."""
from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

PASSWORD = "Demo@2026"

STAFF = {"受理": "xh_acceptor", "审核": "xh_reviewer", "登簿": "xh_recorder", "缮证": "xh_certifier"}


class Api:
    """A logged-in persona: ``api.post(path, json=…)`` with its bearer token from the real token endpoint."""

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
