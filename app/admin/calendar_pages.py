"""Working-day calendar page (运维): which years' holiday plans are confirmed and which are provisional
(暂定); enter a year's official plan from the State Council notice, which recounts open tasks' deadlines.
The provisional-year warning every 运维监管 page shows comes from here too."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from app.admin import bp
from app.admin.common import analyst
from app.cases import holiday_plans
from app.clock import beijing_today
from app.errors import ValidationFailed
from app.pages import login_required, refused
from app.web import db_session

FIELDS = ("year", "holidays", "workdays", "source")


@bp.app_context_processor
def _calendar_warning() -> dict[str, Any]:
    """A callable, so only the pages that show the warning (the 运维监管 layout) pay for its query."""
    return {"provisional_calendar_years": lambda: holiday_plans.provisional_years(db_session(), beijing_today())}


def _page(year: int, values: dict[str, str], errors: dict[str, list[str]], status: int = 200) -> Any:
    session = db_session()
    this_year = beijing_today().year
    years = [holiday_plans.year_view(session, y) for y in range(this_year - 1, this_year + 3)]
    return render_template("admin/ops/calendar.html", view=holiday_plans.year_view(session, year), years=years,
                           plans=holiday_plans.entered_plans(session), values=values, errors=errors), status


def _values_of(view: holiday_plans.YearView) -> dict[str, str]:
    if view.provisional:
        return {"year": str(view.year), "holidays": "", "workdays": "", "source": ""}
    return {"year": str(view.year), "holidays": "\n".join(d.isoformat() for d in view.holidays),
            "workdays": "\n".join(d.isoformat() for d in view.workdays), "source": view.source or ""}


@bp.get("/calendar")
@login_required
def calendar_index() -> Any:
    analyst("calendar:manage")
    raw = (request.args.get("year") or "").strip()
    year = int(raw) if raw.isdigit() and holiday_plans.FIRST_YEAR <= int(raw) <= holiday_plans.LAST_YEAR \
        else (holiday_plans.provisional_years(db_session(), beijing_today()) or [beijing_today().year + 1])[0]
    return _page(year, _values_of(holiday_plans.year_view(db_session(), year)), {})


@bp.post("/calendar")
@login_required
def calendar_enter() -> Any:
    actor = analyst("calendar:manage")
    values = {f: request.form.get(f, "") for f in FIELDS}
    try:
        entry = holiday_plans.parse_entry(values["year"], values["holidays"], values["workdays"], values["source"])
        recount = holiday_plans.enter_plan(db_session(), actor, entry)
    except ValidationFailed as exc:
        year = int(values["year"]) if values["year"].strip().isdigit() else beijing_today().year
        year = min(max(year, holiday_plans.FIRST_YEAR), holiday_plans.LAST_YEAR)
        return refused(exc, _page, year, values, errors=exc.errors)
    flash(f"已录入 {entry.year} 年节假日安排；重新计算了 {recount.examined} 个在办任务的办理期限，"
          f"其中 {len(recount.moved)} 个到期日有变化（不向申请人发送通知）", "success")
    return redirect(url_for("admin.calendar_index", year=entry.year))
