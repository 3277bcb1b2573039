"""账户安全 for staff: bind an authenticator app (TOTP) by scanning a QR code, then every password sign-in
asks for its 6-digit code. Operators reset it from the people page when a phone is lost."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from app.errors import PermissionDenied, ValidationFailed
from app.identity.models import User
from app.identity.service import get_user
from app.identity.signin import confirm_totp, start_totp_enrolment, totp_qr_svg, totp_uri
from app.pages import bp, login_required, page_actor
from app.web import db_session


def _staff_user() -> User:
    actor = page_actor()
    if actor.kind != "staff" or actor.user_id is None:
        raise PermissionDenied("动态验证码仅适用于工作人员账户", code="forbidden")
    return get_user(db_session(), actor.user_id)


@bp.get("/account/security")
@login_required
def security() -> str:
    user = _staff_user()
    pending = bool(user.totp_secret) and not user.totp_enabled
    qr = totp_qr_svg(totp_uri(user)) if pending else None
    return render_template("accounts/security.html", user=user, pending=pending, qr=qr,
                           secret=user.totp_secret if pending else None, error=None)


@bp.post("/account/security/totp")
@login_required
def totp_start() -> Any:
    user = _staff_user()
    if user.totp_enabled:
        flash("动态验证码已启用；如需更换手机，请联系管理员重置。", "info")
    else:
        start_totp_enrolment(user)
    return redirect(url_for("accounts.security"))


@bp.post("/account/security/totp/confirm")
@login_required
def totp_confirm() -> Any:
    user = _staff_user()
    try:
        confirm_totp(db_session(), user, request.form.get("code") or "")
    except ValidationFailed as exc:
        return render_template("accounts/security.html", user=user, pending=True, qr=totp_qr_svg(totp_uri(user)),
                               secret=user.totp_secret, error=exc.message), 422
    flash("已启用动态验证码：以后登录时需输入手机上的验证码。", "success")
    return redirect(url_for("accounts.security"))
