"""Plumbing shared by the server-rendered skins (portal, workbench, admin): sign-in by session cookie,
CSRF protection for every form and every fetch() a page makes, and domain errors rendered as HTML.

The REST API stays bearer-token only; a page's session never authorises an API call, so a forged
cross-site request cannot reach the API with the user's cookie. The cookie carries no bearer token either: only
the user id and the user's session version, so logout, a password change or disabling the account (each bumps
the version, ``service.revoke_sessions``) ends the session everywhere.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, Literal, TypeVar, overload
from urllib.parse import urlparse

from flask import Blueprint, Flask, flash, g, make_response, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from app.db import set_tenant_scope
from app.errors import AuthenticationRequired, DomainError, TooManyRequests
from app.identity.actor import Actor, actor_for
from app.identity.models import User
from app.identity.service import authenticate, get_user, revoke_sessions, user_for_session
from app.identity.zones import sign_in_refused
from app.security import throttle
from app.web import db_session, keep_writes_on_error, problem, settings

csrf = CSRFProtect()
bp = Blueprint("accounts", __name__)
F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")


@overload
def page_actor(required: Literal[True] = True) -> Actor: ...
@overload
def page_actor(required: bool) -> Actor | None: ...
def page_actor(required: bool = True) -> Actor | None:
    """The signed-in user of a page request (from the session cookie), with tenant scoping applied."""
    if "actor" in g:
        return g.actor
    user_id = session.get("uid")
    if not user_id:
        if required:
            raise AuthenticationRequired("请先登录", code="unauthenticated")
        return None
    db = db_session()
    try:
        user = user_for_session(db, user_id, session.get("sv"))
    except AuthenticationRequired:
        session.clear()
        if not required:
            return None
        raise
    actor = actor_for(db, user)
    if actor.kind == "staff":
        _check_idle(settings().staff_idle_minutes)
    set_tenant_scope(db, actor.tenant_scope)
    g.actor = actor
    return actor


def user_of(actor: Actor) -> User:
    """The account behind a page's actor. Every signed-in actor is a user; only the system actor, which no
    request acts as, has no id."""
    if actor.user_id is None:
        raise AuthenticationRequired("请先登录", code="unauthenticated")
    return get_user(db_session(), actor.user_id)


def _check_idle(minutes: int) -> None:
    """Staff pages sign out after ``minutes`` without a request (the last-seen time rides in the signed
    session cookie, so any process can check it)."""
    now = int(time.time())
    seen = session.get("seen")
    if minutes > 0 and isinstance(seen, int) and now - seen > minutes * 60:
        session.clear()
        flash(f"超过 {minutes} 分钟未操作，已自动退出，请重新登录。", "info")
        raise AuthenticationRequired("长时间未操作，请重新登录", code="session_idle")
    session["seen"] = now


def login_required(view: F) -> F:
    """Send anonymous visitors to the sign-in page and back to where they were going afterwards: the
    applicants' pages to the SMS-code sign-in (which links to the password form staff use), the others to the
    password form."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if page_actor(required=False) is None:
            endpoint = "portal.sms_login" if request.blueprint == "portal" else "accounts.login"
            return redirect(url_for(endpoint, next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def safe_next(target: str | None, default: str | None = None) -> str:
    """Only same-site relative paths: never an open redirect to another host (else ``default``, the hall)."""
    if not target or not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
        return default or url_for("home.index")
    return target


# Where a staff member's work is, strongest first: (any of these permissions, the page). A clerk who handles
# tasks lands on the inbox, an analyst who edits definitions on the designer, an operator on operations —
# not on the citizens' hall, whose menu is the applicant's (found: clerks landed there).
STAFF_HOMES: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"task:complete"}), "workbench.inbox"),
    (frozenset({"defs:manage", "dict:manage"}), "admin.index"),
    (frozenset({"interface:read"}), "admin.interface_list"),
    (frozenset({"log:read"}), "admin.log_list"),
    (frozenset({"stats:read"}), "admin.stats_dashboard"),
    (frozenset({"calendar:manage"}), "admin.calendar_index"),
    (frozenset({"archive:read"}), "workbench.archive_index"),
    (frozenset({"user:manage"}), "admin.user_list"),
    (frozenset({"role:manage"}), "admin.role_list"),
    (frozenset({"org:manage"}), "admin.org_list"),
    (frozenset({"tenant:manage"}), "admin.tenant_list"),
    (frozenset({"defs:read"}), "admin.index"),
    (frozenset({"case:read", "task:read"}), "workbench.inbox"),
)


def home_of(actor: Actor | None) -> str:
    """The page an account starts from: a staff member's own work (``STAFF_HOMES``); everyone else the hall."""
    if actor is not None and actor.kind == "staff":
        for permissions, endpoint in STAFF_HOMES:
            if permissions & actor.permissions:
                return url_for(endpoint)
    return url_for("home.index")


# The staff's desks, each with its own menu; a desk's menu links to the others its holder may open (the two
# admin menus, configuration and operations, link to each other). (key, label, (permission, page) in order)
DESKS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("workbench", "工作台", (("task:read", "workbench.inbox"), ("case:read", "workbench.inbox"))),
    ("archives", "电子档案", (("archive:read", "workbench.archive_index"),)),
    ("config", "业务配置", (("defs:read", "admin.index"), ("dict:manage", "admin.dictionary_index"),
                          ("user:manage", "admin.user_list"), ("role:manage", "admin.role_list"),
                          ("org:manage", "admin.org_list"), ("tenant:manage", "admin.tenant_list"))),
    ("ops", "运维监管", (("interface:read", "admin.interface_list"), ("log:read", "admin.log_list"),
                       ("stats:read", "admin.stats_dashboard"), ("calendar:manage", "admin.calendar_index"))),
)


def other_desks(actor: Actor | None, here: str) -> list[tuple[str, str]]:
    """(label, url) of the desks other than ``here`` that ``actor`` may open, for the staff menus."""
    if actor is None or actor.kind != "staff":
        return []
    found = []
    for key, label, pages in DESKS:
        target = next((endpoint for permission, endpoint in pages if actor.has(permission)), None)
        if key != here and target:
            found.append((label, url_for(target)))
    return found


def _home_of_user(user: User) -> str:
    return home_of(actor_for(db_session(), user))


def start_page_session(user: Any) -> None:
    """Sign ``user`` in on this browser: a fresh cookie (no fixation) holding the user id and session version,
    expiring after the configured lifetime (``PERMANENT_SESSION_LIFETIME`` = TOKEN_TTL_SECONDS). The last guard
    of every way in (password, TOTP, SMS code, an upper platform's assertion): over the internet zone only its
    own users get a session (app/identity/zones.py), whichever way found the account."""
    if sign_in_refused(db_session(), user, way="page"):
        raise AuthenticationRequired("用户名或密码错误", code="bad_credentials")
    session.clear()
    session["uid"], session["sv"] = user.id, user.session_version or 0
    session["seen"] = int(time.time())
    session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
@throttle.sign_in
def login() -> Any:
    error, status = None, 200
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        keep_writes_on_error()  # a failed attempt counts towards the delays even though we answer 401
        try:
            user = authenticate(db_session(), username, request.form.get("password") or "", request.remote_addr or "")
        except (AuthenticationRequired, TooManyRequests) as exc:
            error, status = exc.message, exc.status
        else:
            if user.totp_enabled:  # second step: the password alone does not sign in
                session.clear()
                session["totp_user"], session["totp_at"] = user.id, int(time.time())
                return redirect(url_for("accounts.login_totp", next=request.args.get("next") or None))
            start_page_session(user)
            return redirect(safe_next(request.args.get("next"), _home_of_user(user)))
    return render_template("accounts/login.html", error=error, next=request.args.get("next", "")), status


@bp.route("/login/totp", methods=["GET", "POST"])
@throttle.sign_in
def login_totp() -> Any:
    """Step two for accounts with TOTP: the 6-digit code, within five minutes of the password."""
    from app.identity.signin import require_totp

    user_id, started = session.get("totp_user"), session.get("totp_at")
    if not user_id or not isinstance(started, int) or time.time() - started > 300:
        session.pop("totp_user", None)
        session.pop("totp_at", None)
        flash("请重新输入用户名和密码。", "info")
        return redirect(url_for("accounts.login", next=request.args.get("next") or None))
    error, status = None, 200
    if request.method == "POST":
        keep_writes_on_error()
        db = db_session()
        user = get_user(db, user_id)
        try:
            require_totp(db, user, request.form.get("code") or "", request.remote_addr or "")
        except (AuthenticationRequired, TooManyRequests) as exc:
            error, status = exc.message, exc.status
        else:
            start_page_session(user)
            return redirect(safe_next(request.args.get("next"), _home_of_user(user)))
    return render_template("accounts/login_totp.html", error=error), status


@bp.post("/logout")
def logout() -> Any:
    """Ends this session and every other session and API token of the user (the version moves on)."""
    actor = page_actor(required=False)
    if actor is not None:
        revoke_sessions(user_of(actor))
    session.clear()
    flash("您已安全退出。", "info")
    return redirect(url_for("accounts.login"))


def init_app(app: Flask) -> None:
    """Sign-in pages (the ``accounts`` blueprint), CSRF, the layout's context and Beijing time in every skin.
    The staff's 账户安全 routes (app/account_security.py) must join the blueprint before this registers it."""
    from datetime import timedelta

    from app import clock

    # Set, not setdefault: Flask's own default (31 days) is already in app.config. The cookie's flags
    # (HttpOnly, SameSite, Secure) are set with the security headers (app/security/headers.py).
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=settings_ttl(app))
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # bound to the session, which itself expires
    csrf.init_app(app)
    app.register_blueprint(bp)

    @app.context_processor
    def _layout_context() -> dict[str, Any]:
        return {"actor": g.get("actor"), "home_of": home_of, "other_desks": other_desks}

    app.add_template_filter(clock.local_time, "local_time")  # every skin shows Beijing time
    app.add_template_filter(clock.local_date, "local_date")


def settings_ttl(app: Flask) -> int:
    return int(app.config["SETTINGS"].token_ttl_seconds)


def wants_html() -> bool:
    """Page requests get HTML errors; the API and fetch() calls asking for JSON keep problem+json."""
    if request.path.startswith("/api/"):
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "text/html" and not request.is_json


def render_error_page(status: int, message: str) -> Any:
    if status == 401:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    return render_template("error.html", status=status, message=message), status


def csrf_failed(exc: CSRFError) -> Any:
    if wants_html():
        flash("页面已过期或来源不明，请重新提交。", "error")
        return render_error_page(400, "页面已过期或来源不明，请返回后重新提交。")
    return problem(400, "请求缺少有效的防伪令牌（CSRF），请刷新页面后重试", code="csrf_failed")


def refused(exc: DomainError, page: Callable[..., R], *args: Any, field: str = "_form",
            errors: dict[str, list[str]] | None = None, status: int | None = None, **kwargs: Any) -> R:
    """This page refuses the input: roll back what the request wrote so far, then render ``page(*args,
    **kwargs)`` again as it was before, with the field errors and the error's status. The errors are
    ``errors`` if given, else the exception's own per-field errors, else its message beside ``field``; the
    status is ``status`` if given, else the exception's. ``page`` reads the case again after the rollback."""
    db_session().rollback()
    shown = errors if errors is not None else (exc.errors or {field: [exc.message]})
    return page(*args, errors=shown, status=exc.status if status is None else status, **kwargs)


def domain_error_page(exc: DomainError) -> Any:
    return render_error_page(exc.status, exc.message)


def hop_page(action: str, fields: dict[str, str], where: str) -> Any:
    """Link navigation's step to another platform: a page whose form posts ``fields`` (a signed identity
    assertion) to ``action`` at once (docs/federation.md). Its CSP lets that one form leave the site; no cache
    keeps it (the assertion names the person)."""
    from app.security.headers import allow_form_action

    allow_form_action(action)
    response = make_response(render_template("federation/hop.html", action=action, fields=fields, where=where))
    response.headers["Cache-Control"] = "no-store"
    return response
