"""全省无房证明 at a province platform: the province asks every city (app/federation/province_queries.py) and
issues, refuses naming the city, or says which cities did not reply (no certificate; the applicant retries)."""
from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for

from app.errors import Conflict
from app.federation.province_queries import PartialAnswer
from app.federation.province_queries import province_no_property as ask_province
from app.pages import login_required, page_actor
from app.portal import bp
from app.web import db_session, keep_writes_on_error, settings


@bp.route("/my/province-no-property", methods=["GET", "POST"])
@login_required
def province_no_property() -> Any:
    session, actor = db_session(), page_actor()
    actor.require("application:create")  # applicants' pages: staff and courts are refused outright
    error, partial, purpose = None, None, (request.form.get("purpose") or "").strip()
    if request.method == "POST":
        if len(purpose) < 2:
            error = "请填写用途（如：购房资格审核、子女入学）"
        else:
            keep_writes_on_error()  # a refused or partial query keeps its audit entry
            try:
                cert = ask_province(session, current_app.extensions["storage"], actor, settings(),
                                            purpose=purpose)
            except PartialAnswer as exc:
                partial = exc
            except Conflict as exc:
                error = exc.message
            else:
                flash(f"已出具全省无房证明 {cert.number}", "success")
                return redirect(url_for("portal.province_no_property", issued=cert.id))
    issued = request.args.get("issued")
    status = 422 if error else 503 if partial else 200
    return render_template("portal/province_no_property.html", error=error, partial=partial, purpose=purpose,
                           issued=issued), status
