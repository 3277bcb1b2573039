"""Helpers for the account tests: read texts from the SMS simulator's outbox, sign up or in by SMS code."""
from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

from flask.testing import FlaskClient

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def sms_outbox(simulator_url: str) -> list[dict[str, Any]]:
    """The texts the SMS simulator sent, newest first (its JSON view)."""
    with urllib.request.urlopen(f"{simulator_url}/sms/outbox", timeout=5) as resp:
        return json.loads(resp.read())["items"]  # type: ignore[no-any-return]


def last_sms(simulator_url: str, phone: str, template: str = "verify_code") -> dict[str, Any]:
    for item in sms_outbox(simulator_url):
        if item["phone"] == phone and item["template"] == template:
            return item
    raise AssertionError(f"no {template} text to {phone}")


def csrf_of(client: FlaskClient, path: str = "") -> str:
    """The session's CSRF token (one per session, so any page that has a form or the layout serves)."""
    page = client.get("/terms").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def request_code(client: FlaskClient, phone: str, *, signup: bool = True, terms: bool = True) -> Any:
    path = "/signup" if signup else "/login/sms"
    data = {"phone": phone, "action": "send", "csrf_token": csrf_of(client, path)}
    if terms:
        data["terms"] = "yes"
    return client.post(path, data=data)


def enter_code(client: FlaskClient, phone: str, code: str, *, signup: bool = True, next_path: str = "") -> Any:
    path = "/signup" if signup else "/login/sms"
    data = {"phone": phone, "code": code, "action": "verify", "terms": "yes", "csrf_token": csrf_of(client, path)}
    if next_path:
        data["next"] = next_path
    return client.post(path, data=data)


def sign_up(client: FlaskClient, simulator_url: str, phone: str, *, signup: bool = True, next_path: str = "") -> Any:
    sent = request_code(client, phone, signup=signup)
    assert sent.status_code == 200, sent.get_data(as_text=True)[:800]
    return enter_code(client, phone, last_sms(simulator_url, phone)["params"]["code"], signup=signup,
                      next_path=next_path)


def post_form(client: FlaskClient, path: str, data: dict[str, Any], **kw: Any) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_of(client, path)}, **kw)


def verify_person(client: FlaskClient, name: str, id_number: str) -> Any:
    return post_form(client, "/account/verify", {"real_name": name, "id_number": id_number})


def verify_face(client: FlaskClient) -> Any:
    import io

    return post_form(client, "/account/verify/face", {"photo": (io.BytesIO(JPEG), "face.jpg")},
                     content_type="multipart/form-data")
