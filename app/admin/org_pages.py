"""运维管理 · roles and permissions, the organisation tree, and district tenants."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from app.admin import bp
from app.admin.common import analyst
from app.catalog import role_lanes
from app.errors import Conflict, ValidationFailed
from app.identity import directory, roles
from app.identity.permissions import ROLE_CATEGORIES, ROLE_SCOPES, groups
from app.pages import login_required, refused
from app.web import db_session


def _role_form(values: dict[str, Any], errors: dict[str, Any], creating: bool, status: int = 200) -> Any:
    return render_template("admin/role_form.html", values=values, errors=errors, creating=creating, groups=groups(),
                           categories=ROLE_CATEGORIES, scopes=ROLE_SCOPES), status


def _role_values() -> dict[str, Any]:
    return {"code": (request.form.get("code") or "").strip(), "name": (request.form.get("name") or "").strip(),
            "category": request.form.get("category"), "scope": request.form.get("scope"),
            "permissions": request.form.getlist("permissions")}


@bp.get("/roles")
@login_required
def role_list() -> str:
    analyst("role:manage")
    return render_template("admin/role_list.html", roles=roles.list_roles(db_session()), categories=ROLE_CATEGORIES,
                           scopes=ROLE_SCOPES)


@bp.route("/roles/new", methods=["GET", "POST"])
@login_required
def role_new() -> Any:
    actor = analyst("role:manage")
    if request.method == "GET":
        return _role_form({"category": "business", "scope": "tenant", "permissions": []}, {}, creating=True)
    values = _role_values()
    try:
        role = roles.create_role(db_session(), actor, values)
    except ValidationFailed as exc:
        return refused(exc, _role_form, values, creating=True, errors=exc.errors)
    flash(f"已新增角色：{role.name}", "success")
    return redirect(url_for("admin.role_list"))


@bp.route("/roles/<code>", methods=["GET", "POST"])
@login_required
def role_edit(code: str) -> Any:
    actor = analyst("role:manage")
    role = roles.get_role(db_session(), code)
    if request.method == "GET":
        return _role_form({"code": role.code, "name": role.name, "category": role.category, "scope": role.scope,
                           "permissions": list(role.permissions)}, {}, creating=False)
    values = {**_role_values(), "code": code}
    try:
        roles.update_role(db_session(), actor, code, values)
    except ValidationFailed as exc:
        return refused(exc, _role_form, values, creating=False, errors=exc.errors)
    flash(f"已保存角色：{role.name}", "success")
    return redirect(url_for("admin.role_list"))


@bp.post("/roles/<code>/delete")
@login_required
def role_delete(code: str) -> Any:
    actor = analyst("role:manage")
    try:
        roles.delete_role(db_session(), actor, code, role_lanes.lanes_naming(db_session(), code))
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.role_list"))
    flash(f"已删除角色：{code}", "success")
    return redirect(url_for("admin.role_list"))


@bp.get("/permissions")
@login_required
def permission_list() -> str:
    analyst("role:manage")
    holders: dict[str, list[str]] = {}
    for role, _ in roles.list_roles(db_session()):
        for code in role.permissions:
            holders.setdefault(code, []).append(role.name)
    role_names = {role.code: role.name for role, _ in roles.list_roles(db_session())}
    return render_template("admin/permission_list.html", groups=groups(), holders=holders,
                           stages=role_lanes.stage_roles(db_session()), role_names=role_names)


@bp.route("/orgs", methods=["GET", "POST"])
@login_required
def org_list() -> Any:
    actor = analyst("org:manage")
    session = db_session()
    errors: dict[str, Any] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in ("code", "name", "parent_id")}
        try:
            node = directory.create_section(session, actor, **values)
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            flash(f"已新增科室：{node.name}", "success")
            return redirect(url_for("admin.org_list"))
    tree = directory.org_tree(session)
    return render_template("admin/org_list.html", tree=tree, kinds=directory.ORG_KINDS, values=values, errors=errors,
                           parents=[n for _, n in tree if n.kind != "section"]), (422 if errors else 200)


@bp.route("/tenants", methods=["GET", "POST"])
@login_required
def tenant_list() -> Any:
    actor = analyst("tenant:manage")
    session = db_session()
    errors: dict[str, Any] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in ("code", "name", "parent_code")}
        try:
            tenant = directory.create_tenant(session, actor, **values)
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            flash(f"已新增辖区：{tenant.name}（{tenant.code}）", "success")
            return redirect(url_for("admin.tenant_list"))
    tenants = directory.list_tenants(session)
    return render_template("admin/tenant_list.html", tenants=tenants, values=values, errors=errors,
                           cities=[t for t in tenants if t.level == "city"]), (422 if errors else 200)


@bp.post("/tenants/<code>/enabled")
@login_required
def tenant_set_enabled(code: str) -> Any:
    actor = analyst("tenant:manage")
    enabled = request.form.get("enabled") == "1"
    try:
        tenant = directory.set_tenant_enabled(db_session(), actor, code, enabled)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.tenant_list"))
    flash(f"已{'启用' if enabled else '停用'}辖区：{tenant.name}", "success")
    return redirect(url_for("admin.tenant_list"))
