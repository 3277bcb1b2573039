"""运维管理 · people: staff and institution accounts — create, edit, disable, reset password, unlock,
reset TOTP, assign roles, district and section. Plain forms; every action is a use case in
``app.identity.directory`` (permission ``user:manage``, district operators limited to their district)."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from app.admin import bp
from app.admin.common import analyst
from app.errors import ValidationFailed
from app.identity import directory, roles
from app.pages import login_required, refused
from app.web import db_session

PROFILE = ("username", "password", "real_name", "id_number", "phone", "tenant_id", "org_unit_id", "institution_type",
           "kind")
KINDS = {"staff": "工作人员", "institution": "机构账户", "applicant": "申请人"}


def _choices() -> dict[str, Any]:
    session = db_session()
    return {"tenants": directory.list_tenants(session), "sections": directory.sections(session),
            "all_roles": roles.all_roles(session),
            "institution_types": directory.INSTITUTION_TYPES, "kinds": KINDS}


def _values() -> dict[str, Any]:
    values: dict[str, Any] = {f: (request.form.get(f) or "").strip() for f in PROFILE}
    values["roles"] = request.form.getlist("roles")
    return values


def _form(values: dict[str, Any], errors: dict[str, Any], user: Any = None, status: int = 200) -> Any:
    return render_template("admin/user_form.html", values=values, errors=errors, user=user, **_choices()), status


@bp.get("/users")
@login_required
def user_list() -> str:
    actor = analyst("user:manage")
    flt = {k: (request.args.get(k) or "").strip()[:64] for k in ("q", "tenant", "kind")}
    users = directory.list_users(db_session(), actor, **flt)
    return render_template("admin/user_list.html", users=users, flt=flt, title="人员管理", **_choices())


@bp.get("/institutions")
@login_required
def institution_list() -> str:
    actor = analyst("user:manage")
    flt = {"q": (request.args.get("q") or "").strip()[:64], "tenant": "", "kind": "institution"}
    users = directory.list_users(db_session(), actor, **flt)
    return render_template("admin/user_list.html", users=users, flt=flt, title="机构账户", **_choices())


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def user_new() -> Any:
    actor = analyst("user:manage")
    if request.method == "GET":
        kind = "institution" if request.args.get("kind") == "institution" else "staff"
        return _form({"kind": kind, "roles": ["institution"] if kind == "institution" else []}, {})
    values = _values()
    try:
        user = directory.create_account(db_session(), actor, values)
    except ValidationFailed as exc:
        return refused(exc, _form, {**values, "password": ""}, errors=exc.errors)
    flash(f"已新增账户：{user.username}", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/users/<user_id>", methods=["GET", "POST"])
@login_required
def user_edit(user_id: str) -> Any:
    actor = analyst("user:manage")
    session = db_session()
    user = directory.get_user(session, user_id)
    directory.check_in_scope(actor, user.tenant_id)
    if request.method == "GET":
        private = user.kind == "applicant"  # an applicant's personal data is not shown here
        values = {"username": user.username, "real_name": "" if private else user.real_name or "",
                  "phone": "" if private else user.phone or "",
                  "tenant_id": user.tenant_id or "", "org_unit_id": user.org_unit_id or "", "kind": user.kind,
                  "institution_type": user.institution_type or "", "roles": user.role_codes}
        return _form(values, {}, user)
    values = _values()
    try:
        directory.update_account(session, actor, user_id, values)
    except ValidationFailed as exc:
        return refused(exc, _form, {**values, "username": user.username, "kind": user.kind}, user=user,
                       errors=exc.errors)
    flash(f"已保存：{user.username}", "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<user_id>/active")
@login_required
def user_set_active(user_id: str) -> Any:
    actor = analyst("user:manage")
    active = request.form.get("active") == "1"
    user = directory.set_account_active(db_session(), actor, user_id, active)
    flash(f"已{'启用' if active else '停用'}：{user.username}", "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<user_id>/password")
@login_required
def user_reset_password(user_id: str) -> Any:
    actor = analyst("user:manage")
    try:
        user = directory.reset_account_password(db_session(), actor, user_id, request.form.get("password") or "")
    except ValidationFailed as exc:
        flash("密码未重置：" + exc.message, "error")
        return redirect(url_for("admin.user_edit", user_id=user_id))
    flash(f"已重置 {user.username} 的密码，并解除锁定。", "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<user_id>/unlock")
@login_required
def user_unlock(user_id: str) -> Any:
    user = directory.unlock_account(db_session(), analyst("user:manage"), user_id)
    flash(f"已解除锁定：{user.username}", "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<user_id>/totp-reset")
@login_required
def user_reset_totp(user_id: str) -> Any:
    user = directory.reset_account_totp(db_session(), analyst("user:manage"), user_id)
    flash(f"已关闭 {user.username} 的动态验证码，请其登录后重新绑定。", "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))
