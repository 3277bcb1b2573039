"""网上“一窗办事” — the applicant portal's pages (server-rendered, work without JavaScript).

Thin skin: every page calls the same use cases as the REST API (catalog guide, intake, tracking, register
queries, certificates) and never reaches the engine or the register tables itself (DESIGN §5)."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Flask, Response, current_app, flash, redirect, render_template, request, url_for

from app.casefile import consent
from app.casefile.access import cases_of_applicant, definition_of, get_case, is_party
from app.casefile.progress import timeline
from app.cases import appointments, notices, payments, receiving
from app.cases.summary import case_summary
from app.cases.tracking import track_case
from app.catalog.definitions import BusinessTypeDef
from app.catalog.diagram import diagram_svg, lane_names, version_xml
from app.catalog.guide import service_guide
from app.catalog.service import current_version, enabled_definitions, version_definition
from app.errors import Conflict, NotFound, TooManyRequests, ValidationFailed
from app.feedback.scale import LEVELS
from app.feedback.service import levels_given, rating_panel
from app.identity import directory
from app.pages import login_required, page_actor
from app.registry import certificates, queries
from app.security import throttle
from app.web import db_session, keep_writes_on_error

bp = Blueprint("portal", __name__)


def init_app(app: Flask) -> None:
    """The applicant's pages (their modules register on ``bp`` when this package is imported)."""
    app.register_blueprint(bp)


@bp.get("/guide/<code>")
def guide(code: str) -> str:
    page_actor(required=False)
    session = db_session()
    version = current_version(session, code)
    return render_template("portal/guide.html", guide=service_guide(version_definition(version)),
                           version=version.version_no, diagram=diagram_svg(session, version.id),
                           lane_names=lane_names(session, version.id))


@bp.get("/guide/<code>/process.bpmn")
def guide_process(code: str) -> Response:
    """The BPMN of the type's current version, for the bpmn-js viewer on the guide (public, like the guide)."""
    session = db_session()
    response = Response(version_xml(session, current_version(session, code).id), mimetype="application/xml")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/info")
def info() -> str:
    """信息公开: fee standards, the laws the office applies and the FAQ of every type, from the definitions."""
    page_actor(required=False)
    guides = [service_guide(d) for _, d in enabled_definitions(db_session())]
    laws = list(dict.fromkeys(basis for g in guides for basis in g["legal_basis"]))
    return render_template("portal/info.html", guides=guides, laws=laws)


@bp.get("/terms")
def terms() -> str:
    page_actor(required=False)
    return render_template("portal/terms.html")


@bp.route("/track", methods=["GET", "POST"])
@throttle.track
def track() -> Any:
    """线下查询 (no login): business number + the name and ID number of a party."""
    page_actor(required=False)
    result, errors, message = None, {}, None
    values = {k: (request.form.get(k) or "").strip() for k in ("business_no", "name", "id_number")}
    status = 200
    if request.method == "POST":
        keep_writes_on_error()  # the audit of a miss and the miss itself (growing delays) stand on the 404
        try:
            result = track_case(db_session(), **values)
        except ValidationFailed as exc:
            errors, message, status = exc.errors, exc.message, 422
        except (NotFound, TooManyRequests) as exc:
            message, status = exc.message, exc.status
    return render_template("portal/track.html", result=result, errors=errors, message=message, values=values), status


@bp.get("/my/applications")
@login_required
def my_applications() -> str:
    session, actor = db_session(), page_actor()
    actor.require("application:read_own")
    items = [case_summary(session, c) for c in cases_of_applicant(session, actor)]
    return render_template("portal/my_applications.html", items=items)


@bp.get("/my/applications/<case_id>")
@login_required
def my_application(case_id: str) -> Any:
    return case_page(case_id)


def case_page(case_id: str, *, errors: dict[str, list[str]] | None = None, values: dict[str, str] | None = None,
              status: int = 200) -> Any:
    """The applicant's case page: status, notices, payment, delivery choice and tracking, certificates."""
    session, actor = db_session(), page_actor()
    case = get_case(session, actor, case_id)
    mine = is_party(actor, case)
    may_edit = mine and consent.may_edit(definition_of(session, case), actor, case)  # the draft's own author
    return render_template("portal/my_application.html", case=case_summary(session, case), may_edit=may_edit,
                           certificates=certificates.certificates_of_case(session, case.id, actor),
                           events=timeline(session, case), notices=notices.notices_of_case(session, case),
                           bill=payments.statement(session, case), is_party=mine,
                           delivery=receiving.delivery_view(session, actor, case, unmasked=mine),
                           address=receiving.address_of(case) if mine else None, methods=receiving.METHODS,
                           rating=rating_panel(session, actor, case),
                           errors=errors or {}, values=values or {}), status


@bp.get("/my/units")
@login_required
def my_units() -> str:
    return render_template("portal/my_units.html", units=queries.own_units(db_session(), page_actor()))


@bp.route("/my/no-property", methods=["GET", "POST"])
@login_required
def no_property() -> Any:
    """无房证明: issued as a signed PDF with the same verification as certificates."""
    session, actor = db_session(), page_actor()
    actor.require("application:create")  # applicants' pages: staff and courts are refused outright
    error, purpose = None, (request.form.get("purpose") or "").strip()
    if request.method == "POST":
        if len(purpose) < 2:
            error = "请填写用途（如：购房资格审核、子女入学）"
        else:
            keep_writes_on_error()  # a refused query keeps its audit entry
            try:
                cert = certificates.issue_no_property(session, current_app.extensions["storage"], actor,
                                                      purpose=purpose)
            except Conflict as exc:
                error = exc.message
            else:
                flash(f"已出具无房证明 {cert.number}", "success")
                return redirect(url_for("portal.no_property", issued=cert.id))
    issued = request.args.get("issued")
    return render_template("portal/no_property.html", error=error, purpose=purpose, issued=issued), (
        422 if error else 200)


@bp.get("/my/certificates/<certificate_id>.pdf")
@login_required
def certificate_pdf(certificate_id: str) -> Response:
    cert = certificates.certificate_for_download(db_session(), page_actor(), certificate_id)
    content = current_app.extensions["storage"].get(cert.storage_key, tenant_id=cert.tenant_id)
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename=certificate-{cert.id}.pdf"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/appointments", methods=["GET", "POST"])
@login_required
def appointments_page() -> Any:
    """预约: choose a hall, a business type and a half-day with places left; see and cancel one's bookings."""
    session, actor = db_session(), page_actor()
    actor.require("application:create")
    halls = appointments.offices()
    tenant_id = request.values.get("tenant_id") or next(iter(halls))
    errors: dict[str, list[str]] = {}
    message = None
    if request.method == "POST":
        day_half = (request.form.get("slot") or "").split("|")
        try:
            if len(day_half) != 2:
                raise ValidationFailed("请选择预约时段", field="slot")
            booked = appointments.book(session, actor, tenant_id=tenant_id,
                                       business_type=request.form.get("business_type") or "",
                                       day=date.fromisoformat(day_half[0]), half=day_half[1])
        except (ValidationFailed, Conflict, NotFound) as exc:
            errors, message = exc.errors or {}, exc.message
        else:
            flash(f"预约成功，预约码 {booked.code}。请在预约时段携带身份证件到{halls[tenant_id]['name']}办理。",
                  "success")
            return redirect(url_for("portal.appointments_page"))
    types = [d for _, d in enabled_definitions(session) if d.applicant_mode not in ("嘱托", "内部")]
    mine = appointments.my_appointments(session, actor)
    return render_template("portal/appointments.html", halls=halls, tenant_id=tenant_id, types=types,
                           slots=appointments.slots(session, tenant_id),
                           mine=mine, halves=appointments.HALVES,
                           rated=levels_given(session, actor, mine), levels=LEVELS,
                           errors=errors, message=message), (422 if message else 200)


@bp.post("/appointments/<appointment_id>/cancel")
@login_required
def cancel_appointment(appointment_id: str) -> Any:
    appointments.cancel(db_session(), page_actor(), appointment_id)
    flash("预约已取消。", "info")
    return redirect(url_for("portal.appointments_page"))


def landing_context() -> dict[str, Any]:
    """The portal's front page: the districts served here and the types one can apply for online."""
    session = db_session()
    types = [d for _, d in enabled_definitions(session)]
    categories: dict[str, list[BusinessTypeDef]] = {}
    for d in types:
        if d.applicant_mode not in ("嘱托", "内部"):
            categories.setdefault(d.category, []).append(d)
    entrusted = [d for d in types if d.applicant_mode == "嘱托"]
    return {"districts": directory.districts(session), "categories": categories, "entrusted": entrusted}


from app.portal import account as _account  # noqa: E402,F401  (registers the account pages on bp)
from app.portal import apply as _apply  # noqa: E402,F401  (registers the application pages on bp)
from app.portal import follow as _follow  # noqa: E402,F401  (payment, delivery, notices)
from app.portal import province_views as _province  # noqa: E402,F401  (全省无房证明 at a province)
from app.portal import rating_views as _rating  # noqa: E402,F401  (好差评: the case page's form, the SMS link)
from app.portal import signing_views as _signing  # noqa: E402,F401  (inquiry, contract, face check, signature)
from app.portal import steps as _steps  # noqa: E402,F401  (the step-by-step application)
