"""REST API v1 (flask-smorest). OpenAPI at /api/openapi.json, human docs at /api/docs."""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from app.api.openapi import ProblemResponsesPlugin, register_problem_responses
from app.error_handlers import render_http_exception
from app.web import current_actor

# Endpoints anyone may call: sign-in, the signed 税务 callback (its HMAC is its credential), the public
# certificate check behind the QR code, and the published guide of registration types.
PUBLIC_API_ENDPOINTS = frozenset({"auth.token", "integrations.tax_callback", "integrations.payment_callback",
                                  "certificates.verify",
                                  "business_types.list_types", "business_types.get_type"})


class ProblemApi(Api):
    """flask-smorest with errors rendered as RFC 7807 problem JSON in Chinese, like the rest of the app."""

    def handle_http_exception(self, error: HTTPException) -> Any:
        return render_http_exception(error)

    def _register_responses(self) -> None:
        register_problem_responses(self.spec)


def init_app(app: Flask) -> None:
    """REST v1 under /api/v1 (flask-smorest), its OpenAPI document and the docs page."""
    app.config.update(
        API_TITLE="互联网+不动产登记 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH=None,
    )
    description = "互联网+不动产登记平台接口。错误以 RFC 7807 problem+json 返回。"
    api = ProblemApi(app, spec_kwargs={"info": {"description": description},
                                "extra_plugins": [ProblemResponsesPlugin()],
                                "components": {"securitySchemes": {
                                    "bearer": {"type": "http", "scheme": "bearer"}}}})
    api.ERROR_SCHEMA = None  # errors are rendered as RFC 7807 by app.web
    from app.api import (
        admin_users,
        applications,
        appointments,
        attorney,
        auth,
        buildings,
        business_types,
        certificates,
        consents,
        court,
        federation_collected,
        institutions,
        integrations,
        tasks,
        units,
    )
    from app.pages import csrf

    for module in (auth, business_types, applications, consents, tasks, units, certificates, court, appointments,
                   integrations, admin_users, attorney, buildings, institutions,
                   federation_collected):
        api.register_blueprint(module.blp)
        csrf.exempt(module.blp)  # bearer tokens only, never the session cookie: nothing to forge

    @app.before_request
    def _authenticate_api_first() -> None:
        """Who is calling is settled before any input is parsed: an anonymous or expired caller gets 401,
        never a 422 that reveals the shape of an endpoint it may not use."""
        if (request.path.startswith("/api/v1/") and request.url_rule is not None
                and request.endpoint not in PUBLIC_API_ENDPOINTS):
            current_actor()

    @app.get("/api/docs")
    def api_docs() -> Response:
        # Self-contained (no CDN): ReDoc/Swagger assets cannot be fetched here, so list the operations.
        spec = api.spec.to_dict()
        rows = []
        for path, ops in sorted(spec.get("paths", {}).items()):
            for method, op in ops.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    rows.append(f"<tr><td><code>{method.upper()}</code></td><td><code>{path}</code></td>"
                                f"<td>{op.get('summary', '')}</td></tr>")
        html = ("<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>接口文档</title>"
                "<style>body{font-family:sans-serif;margin:2rem}td{padding:.2rem .8rem;border-bottom:1px solid #ddd}"
                "</style><h1>互联网+不动产登记 API v1</h1><p>机器可读规范：<a href='/api/openapi.json'>"
                "/api/openapi.json</a>（OpenAPI 3）。认证：<code>POST /api/v1/auth/token</code> 取得令牌，"
                "以 <code>Authorization: Bearer …</code> 调用。</p><table>" + "".join(rows) + "</table></html>")
        return Response(html, mimetype="text/html")
