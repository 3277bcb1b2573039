"""Interface management pages (运维): every external interface with its health, and the outbox's backlog
(pending, due, the oldest pending message's age, dead letters: whether delivery keeps up); edit endpoint, credential
(write-only), timeout, retries, breaker policy and enabled; a test call through the real adapter; the call
log is the log page filtered by the interface."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from app.admin import bp
from app.admin.common import analyst
from app.errors import ValidationFailed
from app.integrations import interfaces, outbox, probes
from app.pages import login_required, refused
from app.web import db_session

FIELDS = ("base_url", "timeout_ms", "max_retries", "breaker_threshold", "breaker_cooldown_s")


@bp.get("/interfaces")
@login_required
def interface_list() -> str:
    actor = analyst("interface:read")
    session = db_session()
    return render_template("admin/ops/interfaces.html", rows=interfaces.list_interfaces(session, actor),
                           backlog=outbox.backlog(session), can_manage=actor.has("interface:manage"),
                           window_hours=24)


def _edit_page(iface: Any, values: dict[str, Any], errors: dict[str, list[str]], result: Any = None,
               status: int = 200) -> Any:
    return render_template("admin/ops/interface_edit.html", iface=iface, values=values, errors=errors,
                           result=result), status


def _values(iface: Any) -> dict[str, Any]:
    return {**{f: getattr(iface, f) for f in FIELDS}, "enabled": iface.enabled}


@bp.route("/interfaces/<code>", methods=["GET", "POST"])
@login_required
def interface_edit(code: str) -> Any:
    actor = analyst("interface:manage")
    session = db_session()
    iface = interfaces.get_interface(session, actor, code)
    if request.method == "GET":
        return _edit_page(iface, _values(iface), {})
    values = {f: request.form.get(f, "") for f in FIELDS} | {"enabled": request.form.get("enabled", "")}
    try:
        interfaces.update_interface(session, actor, code, values, credential=request.form.get("credential") or None)
    except ValidationFailed as exc:
        return refused(exc, _edit_page, iface, {**values, "enabled": bool(values["enabled"])}, errors=exc.errors)
    flash(f"已保存接口配置：{iface.name}", "success")
    return redirect(url_for("admin.interface_edit", code=code))


@bp.post("/interfaces/<code>/test")
@login_required
def interface_test(code: str) -> Any:
    actor = analyst("interface:manage")
    session = db_session()
    result = probes.test_call(session, actor, code)
    iface = interfaces.get_interface(session, actor, code)
    return _edit_page(iface, _values(iface), {}, result=result)


@bp.post("/interfaces/<code>/reset-breaker")
@login_required
def interface_reset(code: str) -> Any:
    actor = analyst("interface:manage")
    iface = interfaces.reset_breaker(db_session(), actor, code)
    flash(f"已重置熔断：{iface.name}", "success")
    return redirect(url_for("admin.interface_list"))
