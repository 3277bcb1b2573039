"""Small helpers every admin view uses: the analyst (with a permission), the definitions root, JSON input."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import request

from app.errors import ValidationFailed
from app.identity.actor import Actor
from app.pages import page_actor
from app.web import settings


def analyst(permission: str = "defs:read") -> Actor:
    """The signed-in user, refused (403, Chinese message) unless granted ``permission``."""
    actor = page_actor()
    actor.require(permission)
    return actor


def definitions_root() -> Path:
    return Path(settings().definitions_root)


def json_body(*required: str) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("请求内容应为 JSON 对象", errors={"_": ["请求内容应为 JSON 对象"]})
    missing = [k for k in required if not isinstance(body.get(k), str)]
    if missing:
        raise ValidationFailed("缺少必填内容", errors={k: ["必填"] for k in missing})
    return body


def json_object(body: dict[str, Any], key: str) -> dict[str, Any]:
    """An optional JSON object member (sample data, simulated decisions …), refused if not an object."""
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed("内容格式不正确", errors={key: ["应为 JSON 对象，例如 {\"decision\": \"approve\"}"]})
    return value
