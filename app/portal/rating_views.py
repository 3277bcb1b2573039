"""好差评 in the portal: the rating form on an ended case's page, and the page the SMS rating link opens
(without signing in: the signed link names the person and the service). Thin skin over app/feedback."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from app.casefile.access import get_case
from app.errors import Conflict, NotFound, ValidationFailed
from app.feedback import links
from app.feedback.scale import LEVELS
from app.feedback.service import rate_appointment, rate_case
from app.pages import login_required, page_actor, refused
from app.portal import bp, case_page
from app.vocabulary import RatingChannel
from app.web import db_session, settings


@bp.post("/my/applications/<case_id>/rating")
@login_required
def rate_case_page(case_id: str) -> Any:
    session, actor = db_session(), page_actor()
    case = get_case(session, actor, case_id)
    try:
        rating = rate_case(session, actor, case, level=request.form.get("level"),
                           comment=request.form.get("comment"), channel=RatingChannel.PORTAL)
    except (ValidationFailed, Conflict) as exc:
        return refused(exc, case_page, case_id, field="level", values=dict(request.form))
    flash(f"感谢您的评价（{LEVELS[rating.level]}）" + ("，我们将核实整改并答复您" if rating.follow_up_case_id else ""))
    return redirect(url_for("portal.my_application", case_id=case_id) + "#rating")


@bp.post("/appointments/<appointment_id>/rating")
@login_required
def rate_visit(appointment_id: str) -> Any:
    """好差评 of a window visit (a checked-in appointment), from the appointments page."""
    try:
        rating = rate_appointment(db_session(), page_actor(), appointment_id, level=request.form.get("level"),
                                  comment=request.form.get("comment"), channel=RatingChannel.PORTAL)
    except (ValidationFailed, Conflict) as exc:
        db_session().rollback()
        flash(exc.message, "error")
        return redirect(url_for("portal.appointments_page"))
    flash(f"感谢您对窗口服务的评价（{LEVELS[rating.level]}）", "success")
    return redirect(url_for("portal.appointments_page"))


@bp.route("/feedback/<token>", methods=["GET", "POST"])
def rating_link(token: str) -> Any:
    session = db_session()
    try:
        link = links.link_for_token(session, settings().secret_key, token)
        subject = links.link_subject(session, link)
    except (NotFound, Conflict) as exc:
        return render_template("portal/rating_link.html", message=exc.message, levels=LEVELS), exc.status
    if request.method == "GET":
        return render_template("portal/rating_link.html", message=None, subject=subject, levels=LEVELS, errors={},
                               values={})
    try:
        rating = links.rate_by_link(session, link, level=request.form.get("level"),
                                    comment=request.form.get("comment"))
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        errors = exc.errors or {"level": [exc.message]}
        return render_template("portal/rating_link.html", message=None, subject=subject, levels=LEVELS,
                               errors=errors, values=dict(request.form)), exc.status
    return render_template("portal/rating_link.html", message=None, subject=subject, levels=LEVELS, done=rating,
                           errors={}, values={})
