"""How every skin answers an error: pages get the error page (or the login redirect), the API and fetch()
calls get problem JSON; an unexpected error is kept in the exception log first. One place, registered once
by ``create_app``, so no skin hand-writes its own refusal shape."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.db import Database
from app.errors import DomainError
from app.pages import csrf_failed, domain_error_page, page_actor, render_error_page, wants_html
from app.validation_messages import flatten_marshmallow
from app.web import HTTP_TITLES, current_actor, problem

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """One refusal path: domain errors, HTTP errors and the unexpected, as an error page or problem JSON."""

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Any:
        if wants_html():
            return domain_error_page(exc)
        return problem(exc.status, exc.message, code=exc.code, errors=exc.errors or None,
                       extra=exc.problem_fields())

    app.register_error_handler(HTTPException, render_http_exception)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        _capture(exc)
        if wants_html():
            return render_error_page(500, "服务器内部错误，请稍后重试")
        return problem(500, "服务器内部错误，请稍后重试", code="internal_error")


def _capture(exc: Exception) -> None:
    """Keep the error in the exception log (app.supervision.capture), after rolling back this request's
    transaction so the log's own short transaction does not wait for it. Never raises: the user still
    gets the error page when the log cannot be written (e.g. the database is down)."""
    try:
        _record(exc)
    except Exception:
        log.exception("could not capture the exception")


def _record(exc: Exception) -> None:
    from app.supervision.capture import business_no_in, record_exception  # lazy: only when an error is kept

    actor = g.get("actor")
    if actor is None:  # the error came before the view resolved its user
        try:
            actor = current_actor(required=False) if request.path.startswith("/api/") else page_actor(required=False)
        except Exception:
            actor = None
    session = g.get("db_session")
    if session is not None:
        session.rollback()
    values = [*(request.view_args or {}).values(), *request.args.values()]
    database: Database = current_app.extensions["db"]
    record_exception(database.engine, exc, method=request.method, path=request.path, endpoint=request.endpoint,
                     actor_id=actor.user_id if actor else None, tenant_id=actor.tenant_id if actor else None,
                     business_no=business_no_in(values))


def render_http_exception(exc: HTTPException) -> Any:
    status = exc.code or 500
    if isinstance(exc, CSRFError):
        return csrf_failed(exc)
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if messages:
        errors = flatten_marshmallow(messages)
        return problem(422, "输入有误：" + "；".join(f"{k}：{v[0]}" for k, v in errors.items()),
                       code="validation_failed", errors=errors)
    detail = {404: "请求的资源不存在", 405: "不支持该请求方法", 413: "上传内容超过大小限制",
              401: "请先登录", 403: "没有权限", 429: "尝试次数过多，请稍后再试"}.get(
        status, HTTP_TITLES.get(status, "请求有误"))
    if wants_html():
        return render_error_page(status, detail)
    response, status = problem(status, detail, code="rate_limited" if status == 429 else f"http_{status}")
    for name, value in exc.get_headers():  # e.g. 405's Allow (RFC 9110), 429's Retry-After
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status
