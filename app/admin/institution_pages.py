"""运维监管 · 机构监管: per institution the cases it filed, refusals, 补正 and time taken; an operator closes (停用)
or reopens its port with a reason, shown with the history of earlier changes (guide 三.6)."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from app.admin import bp
from app.admin.common import analyst
from app.errors import Conflict, ValidationFailed
from app.identity.institutions import set_port
from app.pages import login_required, refused
from app.supervision.institutions import institution_detail, institution_figures
from app.web import db_session


@bp.get("/institutions/supervision")
@login_required
def institution_supervision() -> Any:
    actor = analyst("institution:supervise")
    return render_template("admin/ops/institutions.html", items=institution_figures(db_session(), actor))


def _detail_page(institution_id: str, errors: dict[str, Any] | None = None, status: int = 200,
                 reason: str = "") -> Any:
    actor = analyst("institution:supervise")
    return render_template("admin/ops/institution.html", org=institution_detail(db_session(), actor, institution_id),
                           errors=errors or {}, reason=reason), status


@bp.get("/institutions/supervision/<institution_id>")
@login_required
def institution_port_page(institution_id: str) -> Any:
    return _detail_page(institution_id)


@bp.post("/institutions/supervision/<institution_id>/port")
@login_required
def institution_port_change(institution_id: str) -> Any:
    actor = analyst("institution:supervise")
    open_ = request.form.get("open") == "1"
    reason = (request.form.get("reason") or "").strip()
    try:
        org = set_port(db_session(), actor, institution_id, open_=open_, reason=reason)
    except (ValidationFailed, Conflict) as exc:
        return refused(exc, _detail_page, institution_id, field="reason", reason=reason)
    flash(f"已{'恢复' if open_ else '关闭'}{org.name}的申报端口", "success")
    return redirect(url_for("admin.institution_port_page", institution_id=institution_id))
