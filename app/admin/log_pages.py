"""Log pages (综合监管): operation / interface-call / exception logs with filters and export, the trace of
one business number, and the audit chain check. Views parse, call app.supervision, render."""
from __future__ import annotations

from typing import Any

from flask import Response, render_template, request

from app.admin import bp
from app.admin.common import analyst
from app.errors import ValidationFailed
from app.pages import login_required
from app.registry.checkpoints import checkpoint_log
from app.registry.verify import audit_status
from app.supervision import export, logs
from app.web import db_session


def _filters() -> tuple[logs.LogFilter, dict[str, list[str]]]:
    try:
        return logs.LogFilter.parse(request.args), {}
    except ValidationFailed as exc:
        kind = request.args.get("kind", "")
        return logs.LogFilter(kind=kind if kind in logs.KINDS else "audit"), exc.errors or {}


def download(fmt: str, columns: Any, rows: list[dict[str, Any]], name: str) -> Response:
    if fmt not in export.FORMATS:
        raise ValidationFailed("导出格式应为 csv 或 xlsx", errors={"format": ["应为 csv 或 xlsx"]})
    body = export.render(fmt, columns, rows, name)
    return Response(body, mimetype=export.FORMATS[fmt],
                    headers={"Content-Disposition": f"attachment; filename={name}.{fmt}"})


@bp.get("/logs")
@login_required
def log_list() -> Any:
    actor = analyst("log:read")
    f, errors = _filters()
    page = logs.query_logs(db_session(), actor, f)
    return render_template("admin/ops/logs.html", page=page, f=f, errors=errors, kinds=logs.KINDS,
                           can_export=actor.has("log:export")), 422 if errors else 200


@bp.get("/logs/export")
@login_required
def log_export() -> Any:
    actor = analyst("log:export")
    f = logs.LogFilter.parse(request.args)
    page = logs.query_logs(db_session(), actor, f, export=True)
    return download(request.args.get("format", "csv"), page.kind.columns, page.rows, f"{f.kind}-log")


@bp.get("/logs/trace")
@login_required
def log_trace() -> Any:
    actor = analyst("log:read")
    business_no = (request.args.get("business_no") or "").strip()[:32]
    items = logs.trace(db_session(), actor, business_no) if business_no else None
    fmt = request.args.get("format")
    if fmt and items is not None:
        actor.require("log:export")
        return download(fmt, logs.TRACE_COLUMNS, items, f"trace-{business_no}")
    return render_template("admin/ops/trace.html", business_no=business_no, items=items,
                           can_export=actor.has("log:export"))


@bp.route("/logs/audit-chain", methods=["GET", "POST"])
@login_required
def audit_chain() -> Any:
    analyst("audit:read")
    status = audit_status(db_session(), checkpoint_log().latest()) if request.method == "POST" else None
    return render_template("admin/ops/audit_chain.html", status=status)
