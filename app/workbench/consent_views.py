"""记录纸质书面同意: the 受理 clerk, having checked the paper consent uploaded with the application, records
whose consent it is (app/cases/consents.py checks it against the holders of the right)."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from app.casefile.access import get_case
from app.cases.consents import record_paper
from app.errors import DomainError
from app.pages import refused
from app.web import db_session
from app.workbench import bp
from app.workbench.case_views import render_case
from app.workbench.common import clerk, staff_required


@bp.post("/cases/<case_id>/consents")
@staff_required
def record_paper_consent(case_id: str) -> Any:
    session, actor = db_session(), clerk()
    case = get_case(session, actor, case_id)
    try:
        record_paper(session, actor, case, right_id=request.form.get("right_id") or None,
                     consenter_name=request.form.get("consenter_name", ""),
                     consenter_id_number=request.form.get("consenter_id_number", ""))
    except DomainError as exc:
        return refused(exc, render_case, case_id, errors={"_consent": [exc.message]})
    flash("已记录权利人的书面同意", "success")
    return redirect(url_for("workbench.case_page", case_id=case_id) + "#consents")
