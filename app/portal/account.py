"""The applicant's account pages: sign up / sign in with phone + SMS code, 实名认证 (公安 name + ID number, then
a face check), organisation accounts (市场监管), idle sign-out, and the co-applicant invitation link.

Staff keep the password sign-in of ``app.pages``; both put the same token in the session, so every page and
``page_actor()`` work the same for either."""
from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import flash, g, redirect, render_template, request, session, url_for

from app.accounts import real_name
from app.accounts import sms_login as sms_codes
from app.cases import invitations
from app.errors import AuthenticationRequired, Conflict, PermissionDenied, TooManyRequests, ValidationFailed
from app.identity.service import get_user
from app.integrations.client import ServiceUnavailable
from app.pages import login_required, page_actor, refused, safe_next, start_page_session, user_of
from app.portal import bp
from app.security.masking import mask_id_number, mask_name, mask_phone
from app.web import db_session, keep_writes_on_error, settings

F = TypeVar("F", bound=Callable[..., Any])
SEEN_RESOLUTION_S = 30  # the idle clock is refreshed at most this often (each refresh re-sends the cookie)


def _next() -> str:
    return request.values.get("next") or ""


def _client_address() -> str:
    return request.remote_addr or "unknown"


@bp.before_app_request
def _sign_out_idle_applicants() -> Any:
    """Applicants (often on shared or public devices) are signed out after PORTAL_IDLE_TIMEOUT_SECONDS without a
    request. The clock lives in the signed session cookie, so any process can serve the next request."""
    if "uid" not in session or request.path.startswith(("/api/", "/static/")):
        return None
    try:
        actor = page_actor(required=False)
    except AuthenticationRequired:
        return None  # the view answers (token expired or revoked)
    if actor is None or actor.kind not in sms_codes.PORTAL_KINDS:
        return None
    now, seen = int(time.time()), session.get("seen")
    timeout = settings().portal_idle_timeout_seconds
    if isinstance(seen, int) and now - seen > timeout:
        session.clear()
        g.pop("actor", None)
        flash(f"您已超过 {timeout // 60 or 1} 分钟未操作，为保护您的信息已自动退出，请重新登录。", "warning")
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("portal.sms_login", next=target) if target else url_for("portal.sms_login"))
    if not isinstance(seen, int) or now - seen >= SEEN_RESOLUTION_S:
        session["seen"] = now
    return None


def verified_required(view: F) -> F:
    """Applying and confirming need 实名认证: an unverified portal account is sent there first."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        actor = page_actor(required=False)
        if actor is not None and actor.kind in sms_codes.PORTAL_KINDS and not actor.id_number_bidx:
            flash("办理业务前请先完成实名认证。", "info")
            return redirect(url_for("portal.verify", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _sign_in(user_id: str) -> None:
    start_page_session(get_user(db_session(), user_id))


def _sms_page(signup: bool) -> Any:
    """One form in two steps (works without JavaScript): the phone (and 用户须知 on sign-up) → 获取验证码; then
    the code → 登录. Errors stand beside their field. 重新获取验证码 (``action=resend``) refused by the one-a-minute
    limit keeps the code step and what was typed, and says how many seconds remain: the code sent is still good."""
    db = db_session()
    typed_phone, terms = (request.form.get("phone") or "").strip(), request.form.get("terms") == "yes"
    action = request.form.get("action")
    values = {"phone": typed_phone, "code": (request.form.get("code") or "").strip()[:6] if action == "resend" else "",
              "terms": terms}
    errors: dict[str, list[str]] = {}
    sent_to, status = None, 200
    if request.method == "POST" and action in ("send", "resend"):
        try:
            if signup and not terms:
                raise ValidationFailed("请阅读并同意《用户须知》", field="terms")
            phone = sms_codes.normalise_phone(typed_phone)
            if not signup and sms_codes.portal_user_by_phone(db, phone) is None:
                raise ValidationFailed("该手机号尚未注册，请先注册", field="phone", code="not_registered")
            sms_codes.send_code(db, phone, client_address=_client_address())
            sent_to = mask_phone(phone)
        except TooManyRequests as exc:
            status = exc.status
            if action == "resend":  # 重新获取验证码 too soon: the code sent before still works, keep its field
                sent_to = mask_phone(sms_codes.normalise_phone(typed_phone))
                wait = f"{exc.retry_after} 秒" if exc.retry_after and exc.retry_after < 120 else None
                errors = {"resend": [f"请 {wait}后再重新获取验证码，已发送的验证码仍然有效" if wait else exc.message]}
            else:
                errors = {"phone": [exc.message]}
        except (ValidationFailed, ServiceUnavailable) as exc:
            errors, status = exc.errors or {"phone": [exc.message]}, exc.status
    elif request.method == "POST" and action == "verify":
        keep_writes_on_error()  # a wrong code uses up an attempt even though the answer is an error
        try:
            if signup and not terms:  # before the code is used up
                raise ValidationFailed("请阅读并同意《用户须知》", field="terms")
            phone = sms_codes.verify_code(db, typed_phone, request.form.get("code") or "")
            user, created = sms_codes.sign_up_or_in(db, phone, accepted_terms=terms, may_create=signup)
        except ValidationFailed as exc:
            errors, status = exc.errors or {"code": [exc.message]}, exc.status
            sent_to = mask_phone(typed_phone) if "code" in errors else None
        else:
            db.flush()
            _sign_in(user.id)
            if user.verified_at is None:
                flash("注册成功。办理业务前请先完成实名认证。" if created else "登录成功。请完成实名认证。", "success")
                return redirect(url_for("portal.verify", next=_next() or None))
            flash("登录成功。", "success")
            return redirect(safe_next(_next()))
    return render_template("portal/sms_login.html", signup=signup, values=values, errors=errors, sent_to=sent_to,
                           next=_next()), status


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> Any:
    page_actor(required=False)
    return _sms_page(signup=True)


@bp.route("/login/sms", methods=["GET", "POST"])
def sms_login() -> Any:
    page_actor(required=False)
    return _sms_page(signup=False)


def _after_verification() -> Any:
    return redirect(safe_next(_next()) if _next() else url_for("home.index"))


@bp.route("/account/verify", methods=["GET", "POST"])
@login_required
def verify() -> Any:
    """实名认证 step 1 (persons): name + ID number, checked with 公安."""
    db, user = db_session(), user_of(page_actor())
    real_name.require_portal_account(user)
    errors: dict[str, list[str]] = {}
    values = {"real_name": (request.form.get("real_name") or "").strip(),
              "id_number": (request.form.get("id_number") or "").strip()}
    if user.verified_at is None and user.verification_level == "identity" and request.method == "GET":
        return redirect(url_for("portal.verify_face", next=_next() or None))
    if request.method == "POST":
        keep_writes_on_error()  # failed checks stay audited and counted
        try:
            real_name.verify_person(db, user, name=values["real_name"], id_number=values["id_number"])
        except (ValidationFailed, TooManyRequests, ServiceUnavailable, Conflict) as exc:
            errors = exc.errors or {"_form": [exc.message]}
            return _verify_page(user, values, errors), exc.status
        return redirect(url_for("portal.verify_face", next=_next() or None))
    return _verify_page(user, values, errors)


def _verify_page(user: Any, values: dict[str, str], errors: dict[str, list[str]]) -> str:
    mask = mask_id_number if user.kind == "applicant" else (lambda v: v)
    status = {"verified": user.verified_at is not None, "level": user.verification_level, "kind": user.kind,
              "name": mask_name(user.real_name) if user.kind == "applicant" else user.real_name,
              "id_number": mask(user.id_number) if user.id_number else "", "phone": mask_phone(user.phone)}
    return render_template("portal/verify.html", account=status, values=values, errors=errors, next=_next())


@bp.route("/account/verify/face", methods=["GET", "POST"])
@login_required
def verify_face() -> Any:
    """实名认证 step 2: a live photo (camera with JavaScript, the phone's camera through a file input without)."""
    db, user = db_session(), user_of(page_actor())
    real_name.require_portal_account(user)
    if user.verified_at is not None:
        return _after_verification()
    if user.verification_level != "identity":
        return redirect(url_for("portal.verify", next=_next() or None))
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        keep_writes_on_error()
        photo = request.files.get("photo")
        try:
            real_name.verify_face(db, user, photo.read(real_name.MAX_PHOTO_BYTES + 1) if photo else b"")
        except (ValidationFailed, TooManyRequests, ServiceUnavailable, Conflict) as exc:
            errors, status = exc.errors or {"photo": [exc.message]}, exc.status
        else:
            flash("实名认证成功。", "success")
            return _after_verification()
    return render_template("portal/verify_face.html", name=mask_name(user.real_name), errors=errors,
                           next=_next()), status


@bp.route("/account/organisation", methods=["GET", "POST"])
@login_required
def organisation() -> Any:
    """单位账户: the account acts for an organisation once 市场监管 confirms its licence particulars."""
    db, user = db_session(), user_of(page_actor())
    real_name.require_portal_account(user)
    values = {k: (request.form.get(k) or "").strip() for k in ("uscc", "org_name", "legal_representative")}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        keep_writes_on_error()
        try:
            real_name.verify_organisation(db, user, uscc=values["uscc"], name=values["org_name"],
                                          legal_representative=values["legal_representative"])
        except (ValidationFailed, TooManyRequests, ServiceUnavailable, Conflict) as exc:
            errors, status = exc.errors or {"_form": [exc.message]}, exc.status
        else:
            flash(f"单位账户已开通：{user.real_name}。", "success")
            return _after_verification()
    return render_template("portal/organisation.html", values=values, errors=errors, next=_next(),
                           verified=user.verified_at is not None), status


@bp.get("/invite/<token>")
def invitation(token: str) -> Any:
    """The link in the invitation SMS: sign in (or sign up) and verify first, then the application to review."""
    db = db_session()
    invite = invitations.invitation_for_token(db, settings().secret_key, token)
    actor = page_actor(required=False)
    if actor is not None and actor.id_number_bidx:
        try:
            case = invitations.open_invitation(db, actor, invite)
        except PermissionDenied as exc:
            return render_template("portal/invitation.html", message=exc.message, here=request.path), 403
        flash("请核对申请内容，确认无误后勾选承诺并确认。", "info")
        return redirect(url_for("portal.edit_application", case_id=case.id))
    if actor is not None:
        return redirect(url_for("portal.verify", next=request.path))
    return render_template("portal/invitation.html", message=None, here=request.path)


@bp.post("/my/applications/<case_id>/invite")
@login_required
@verified_required
def invite(case_id: str) -> Any:
    """From the one-page view, or from the steps' 提交 page (``return_to=steps``), whose answer — sent, or the
    error beside the phone field — stays on that page: the applicant is one tap from submitting there."""
    from app.casefile.access import get_case
    from app.portal.apply import _case_page
    from app.portal.steps import show

    db, actor = db_session(), page_actor()
    case = get_case(db, actor, case_id)
    in_steps = request.form.get("return_to") == "steps"
    try:
        invitations.invite(db, actor, case, phone=request.form.get("phone") or "",
                           party_role=request.form.get("party_role") or "", secret=settings().secret_key,
                           base_url=settings().public_base_url)
    except (ValidationFailed, TooManyRequests, ServiceUnavailable, Conflict) as exc:
        errors = {f"invite_{k}": v for k, v in (exc.errors or {"phone": [exc.message]}).items()}
        if in_steps:
            return refused(exc, show, case, "submit", errors=errors)
        return refused(exc, _case_page, case, errors=errors)
    flash("邀请短信已发送。对方登录并完成实名认证后即可查看和确认申请。", "success")
    if in_steps:
        return redirect(url_for("portal.step", case_id=case_id, step="submit"))
    return redirect(url_for("portal.edit_application", case_id=case_id) + "#parties")
