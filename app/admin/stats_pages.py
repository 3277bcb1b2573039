"""Statistics dashboard (图、表、文): charts drawn by echarts (bundled locally) from /admin/stats/data, the
same figures as tables and a short written summary; drill-down to the applications behind a bar; export."""
from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request

from app.admin import bp
from app.admin.common import analyst
from app.admin.log_pages import download
from app.errors import ValidationFailed
from app.pages import login_required
from app.supervision import stats
from app.web import db_session, read_db_session


@bp.get("/stats")
@login_required
def stats_dashboard() -> Any:
    actor = analyst("stats:read")
    errors: dict[str, list[str]] = {}
    try:
        f = stats.StatsFilter.parse(request.args)
    except ValidationFailed as exc:
        f, errors = stats.StatsFilter(), exc.errors or {}
    data = stats.dashboard(read_db_session(), actor, f)
    return render_template("admin/ops/stats.html", f=f, data=data, errors=errors, figures=stats.FIGURES,
                           rating_figures=stats.RATING_FIGURES,
                           can_export=actor.has("stats:export"),
                           **stats.filter_choices(read_db_session())), 422 if errors else 200


@bp.get("/stats/data")
@login_required
def stats_data() -> Any:
    actor = analyst("stats:read")
    return jsonify(stats.dashboard(read_db_session(), actor, stats.StatsFilter.parse(request.args)))


@bp.get("/stats/cases")
@login_required
def stats_cases() -> Any:
    actor = analyst("stats:read")
    f = stats.StatsFilter.parse(request.args)
    period = (request.args.get("period") or "").strip()[:10]
    rows = stats.drill_down(db_session(), actor, f, period)
    fmt = request.args.get("format")
    if fmt:
        actor.require("stats:export")
        return download(fmt, stats.DRILL_COLUMNS, rows, "applications")
    return render_template("admin/ops/stats_cases.html", f=f, period=period, rows=rows, limit=stats.LIST_LIMIT,
                           columns=stats.DRILL_COLUMNS, can_export=actor.has("stats:export"),
                           **stats.filter_choices(db_session()))


@bp.get("/stats/export")
@login_required
def stats_export() -> Any:
    actor = analyst("stats:export")
    data = stats.dashboard(db_session(), actor, stats.StatsFilter.parse(request.args))
    return download(request.args.get("format", "csv"), stats.FIGURE_COLUMNS, stats.figure_rows(data), "statistics")
