"""The OpenAPI document describes every response: errors as RFC 7807 ``application/problem+json`` (the shape
``app.web.problem`` renders), and a success response for operations that declare none, so a client
generator — or schemathesis — can check every answer against the document."""
from __future__ import annotations

import http
from typing import Any

from apispec import BasePlugin
from marshmallow import Schema, fields

PROBLEM_JSON = "application/problem+json"
# Statuses any operation may answer besides its own: bad input (400), no or expired token (401), no
# permission (403), not found (404), state conflict (409), too large (413), invalid input (422), throttled
# (429), a department unavailable (503). ``default`` covers the rest (500 included).
COMMON_ERRORS = (400, 401, 403, 404, 409, 413, 422, 429, 503)


class ProblemSchema(Schema):
    """RFC 7807 problem details, in Chinese (``detail``), with a machine-readable ``code``."""

    type = fields.String(metadata={"description": "about:blank#<code>"})
    title = fields.String(metadata={"description": "状态标题（中文）"})
    status = fields.Integer()
    detail = fields.String(metadata={"description": "说明（中文），可直接展示给用户"})
    code = fields.String(metadata={"description": "错误代码，如 validation_failed、not_found"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "字段 → 错误信息列表"})


def _binary_path(path: str) -> bool:
    return path.endswith(".pdf") or path.endswith("/pdf")


class ProblemResponsesPlugin(BasePlugin):
    """Runs on each path as flask-smorest registers it: error statuses point at the problem+json responses
    and an operation without a declared success gets one (JSON object, or a PDF for ``…/pdf`` paths)."""

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            if not any(str(code).startswith("2") for code in responses):
                if path and _binary_path(path):
                    responses["200"] = {"description": "文件", "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
                else:
                    responses["200"] = {"description": "成功", "content": {
                        "application/json": {"schema": {"type": "object"}}}}
            for status in COMMON_ERRORS:
                responses.setdefault(str(status), http.HTTPStatus(status).name)


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def register_problem_responses(spec: Any) -> None:
    """Replaces flask-smorest's ``_register_responses``: every status name it refers to (4xx/5xx as
    problem+json) and DEFAULT_ERROR, registered lazily so only the ones in use appear in the document."""
    spec.components.schema("Problem", schema=ProblemSchema)
    for status in http.HTTPStatus:
        response = problem_response(status.phrase) if status >= 400 else {"description": status.phrase}
        spec.components.response(status.name, response, lazy=True)
    spec.components.response("DEFAULT_ERROR", problem_response("错误（RFC 7807 problem+json）"), lazy=True)
