"""Request plumbing shared by every skin: one database session per request committed once at the end,
the acting user, and the RFC 7807 problem JSON body (the error handlers that use it: app/error_handlers.py).

A view is one unit of work that may be run more than once: when it calls a department after writing, the
pass is rolled back, the call made with no transaction open and the view run again with the answer
(``PlatformFlask.dispatch_request``, app/integrations/answers.py) — no request holds a lock while a
department answers."""
from __future__ import annotations

import unicodedata
from typing import Any, Literal, overload
from urllib.parse import quote

from flask import Flask, Response, current_app, g, request
from flask import session as cookie_session
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database, set_tenant_scope
from app.errors import AuthenticationRequired
from app.identity.actor import Actor, actor_for
from app.security import audit

HTTP_TITLES = {400: "请求有误", 401: "需要登录", 403: "没有权限", 404: "未找到", 405: "不支持的请求方法",
               409: "状态冲突", 413: "文件过大", 415: "不支持的内容类型", 422: "输入有误", 429: "请求过于频繁",
               500: "服务器内部错误"}


class PlatformFlask(Flask):
    """Flask whose views run through ``answers.run_unit``: department calls happen outside the request's
    transaction."""

    def dispatch_request(self) -> Any:
        from app.integrations.answers import run_unit

        flashes = list(cookie_session.get("_flashes", []))

        def undo_pass() -> None:
            """What a discarded pass left outside the database: its flashed messages, the read uploads."""
            if flashes or "_flashes" in cookie_session:
                cookie_session["_flashes"] = list(flashes)
            for _name, files in request.files.lists():
                for upload in files:
                    upload.stream.seek(0)

        return run_unit(db_session(), super().dispatch_request, before_rerun=undo_pass)


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def db_session() -> Session:
    if "db_session" not in g:
        database: Database = current_app.extensions["db"]
        g.db_session = database.session_factory()
    return g.db_session


def read_db_session() -> Session:
    """The request's session for reads that may lag a moment behind the primary — inbox counts, statistics,
    register queries (docs/scaling.md): on the read replica when ``DATABASE_REPLICA_URL`` is set and answers,
    else the request's own session. It carries the request session's tenant scope as it is when first asked
    (so take the actor first). Nothing is written through it; the request's writes (its access log included)
    stay on ``db_session()``."""
    primary = db_session()
    if "replica_session" not in g:
        database: Database = current_app.extensions["db"]
        g.replica_session = database.replica_session()
        if g.replica_session is not None:
            g.replica_session.info["tenant_scope"] = primary.info.get("tenant_scope")
    replica: Session | None = g.replica_session
    return replica or primary


@overload
def current_actor(required: Literal[True] = True) -> Actor: ...
@overload
def current_actor(required: bool) -> Actor | None: ...
def current_actor(required: bool = True) -> Actor | None:
    """The user of an API request (from its bearer token), with tenant scoping applied; None only when not
    ``required`` and no token came."""
    if "actor" in g:
        return g.actor
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        if required:
            raise AuthenticationRequired("请先登录", code="unauthenticated")
        return None
    from app.identity.service import user_for_token

    session = db_session()
    user = user_for_token(session, settings().secret_key, header[7:].strip(), settings().token_ttl_seconds)
    actor = actor_for(session, user)
    set_tenant_scope(session, actor.tenant_scope)
    g.actor = actor
    return actor


def keep_writes_on_error() -> None:
    """This request's writes stand even if it answers with an error: a refused register query is still a
    query, and its audit entry must be kept (条例 27–28). Only for requests whose writes are such logs."""
    g.keep_writes_on_error = True


def problem(status: int, detail: str, *, code: str = "error", errors: dict[str, Any] | None = None,
            extra: dict[str, Any] | None = None) -> tuple[Any, int]:
    body: dict[str, Any] = {"type": f"about:blank#{code}", "title": HTTP_TITLES.get(status, "错误"),
                            "status": status, "detail": detail, "code": code, **(extra or {})}
    if errors:
        body["errors"] = errors
    response = current_app.json.response(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response, status


def pdf_response(data: bytes, filename: str, *, inline: bool = True) -> Response:
    """A PDF shown in the browser (``inline``) or saved (attachment). Never kept by a cache: certificates,
    notices and records carry personal data. A name that is not ASCII (Chinese) is sent as RFC 5987's
    ``filename*`` (UTF-8) with an ASCII fallback, as ``send_file`` does."""
    response = Response(data, mimetype="application/pdf")
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
        names = {"filename": fallback, "filename*": "UTF-8''" + quote(filename, safe="!#$&+^`|~")}
    else:
        names = {"filename": filename}
    response.headers.set("Content-Disposition", "inline" if inline else "attachment", **names)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Request plumbing, in this order: the client address behind trusted proxies, the request's id and route
    for the request log, the input guard, one transaction per request, then the security headers and the rate
    limits."""
    from app import request_log
    from app.input_guard import init_input_guard
    from app.security.headers import init_security_headers
    from app.security.throttle import init_throttling

    settings: Settings = app.config["SETTINGS"]
    if settings.trusted_proxies:  # behind a load balancer: the client address (rate limits) from X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Flask documents wrapping the WSGI callable this way; its typing declares wsgi_app a method
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    request_log.init_app(app)  # first: a refused request is logged with its id and route too
    init_input_guard(app)  # then malformed input is refused before anything parses it

    @app.after_request
    def _commit(response: Any) -> Any:
        session = g.pop("db_session", None)
        if session is not None:
            try:
                if response.status_code < 400 or g.pop("keep_writes_on_error", False):
                    audit.write_kept(session)
                    session.commit()
                    _after_response(response, session)
                else:
                    session.rollback()
                    if audit.write_kept(session):  # a refusal's trace stands (audit.record_kept)
                        session.commit()
            finally:
                session.close()
        return response

    def _after_response(response: Any, session: Any) -> None:
        """Slow work the committed transaction asked for (render a certificate 缮证 numbered) runs once the
        response has gone, so nobody waits for it and no lock is held (DESIGN.md §7). Each hook in
        ``app.extensions["after_commit"]`` maps the session to such work or None; jobs catch what is missed."""
        for hook in app.extensions.get("after_commit", []):
            work = hook(session)
            if work is not None:
                response.call_on_close(work)

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()
        replica = g.pop("replica_session", None)
        if replica is not None:
            replica.rollback()
            replica.close()

    init_security_headers(app, settings)
    init_throttling(app, settings)
