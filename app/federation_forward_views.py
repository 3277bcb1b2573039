"""The peer endpoints of applications across levels (docs/federation.md "Applications across levels"):

- ``POST /federation/applications`` — at a province, from the national platform: checked for completeness and
  routed to the city of the unit; at a city, from its province: filed like an application of its own portal.
- ``POST /federation/reports`` — progress, results and e-certificates from the level below (app/federation/reports.py),
  and the register-log checkpoints a city pushes to its province.

Signed requests only (``peer_required``); CSRF-exempt like every peer endpoint.

And, at the national platform, the applicant's pages of interface navigation (``/national/apply``,
``/national/my``): the form generated from the type's definition (the one form renderer), materials per the
checklist, the applicant's pledge as the consent; sent to the province of the unit, the city's 业务号 shown.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, url_for

from app.cases import intake
from app.catalog.definitions import BusinessTypeDef
from app.clock import CHINA
from app.db import new_id, utcnow
from app.errors import DomainError, NotFound, PermissionDenied
from app.federation import applications, checkpoint_store, forwarding, reports
from app.federation_views import peer_required
from app.form_render import posted_values
from app.identifiers import division_name
from app.pages import csrf, login_required, page_actor
from app.portal.account import verified_required
from app.security.throttle import limiter
from app.web import db_session, settings

bp = Blueprint("federation_forward", __name__, url_prefix="/federation")
national = Blueprint("national", __name__, url_prefix="/national")
PLEDGE = "本人承诺：所填信息和所提交的材料真实、合法、有效，同意经全国平台、省级平台转送至不动产所在地登记机构办理。"
MAX_FILE_BYTES = 10 * 1024 * 1024


def init_app(app: Flask) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(national)


@bp.post("/applications")
@limiter.exempt
@peer_required
def accept_application() -> tuple[dict[str, Any], int]:
    """An application from the level above: routed (province) or filed (city); the answer names the city, the
    case id there, its 业务号 and status. The same origin and reference again answers the same."""
    config = settings()
    filing = applications.parse_filing(request.get_json(silent=True))
    if config.platform_level == "city":
        if g.peer.level != "province" or g.peer.code != config.platform_code[:2] + "0000":
            raise PermissionDenied("只接受本省平台转来的申请", code="peer_not_allowed")
        return applications.accept_at_city(db_session(), current_app.extensions["storage"], filing,
                                           forwarded_by=g.peer, own_code=config.platform_code), 200
    if config.platform_level == "province":
        if g.peer.level != "national":
            raise PermissionDenied("只接受全国平台转来的申请", code="peer_not_allowed")
        return forwarding.route_down(db_session(), filing, own_code=config.platform_code,
                                     signing_key=config.federation_signing_key), 200
    raise PermissionDenied("全国平台不接收下转的申请", code="peer_not_allowed")


@bp.post("/reports")
@limiter.exempt
@peer_required
def receive_report() -> dict[str, Any]:
    """A progress step, result, e-certificate or register-log checkpoint from the level below."""
    config = settings()
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    if body.get("topic") == checkpoint_store.TOPIC:
        return checkpoint_store.receive(db_session(), g.peer, body, own_level=config.platform_level)
    return reports.receive(db_session(), g.peer, body, own_code=config.platform_code,
                           own_level=config.platform_level)


# ---------------------------------------------------------------------------------------------- /national


@national.before_request
def _national_only() -> None:
    """Before sign-in and verification: below the national level these pages do not exist for anyone."""
    if settings().platform_level != "national":
        raise NotFound("本平台不提供全国平台的跨层级申请", code="not_national")


def _definition(code: str) -> BusinessTypeDef:
    for definition in applications.cross_level_types(db_session()):
        if definition.code == code:
            return definition
    raise NotFound("该登记类型不能通过全国平台申请", code="business_type_unknown")


@national.get("/apply")
@login_required
@verified_required
def choose() -> Any:
    """Step 1: the type and the unit code (its first digits say which province and city handle it)."""
    _national_only()
    page_actor().require("application:create")
    types = applications.cross_level_types(db_session())
    code = request.args.get("business_type") or ""
    unit_code = (request.args.get("unit_code") or "").replace(" ", "").upper()
    errors: dict[str, list[str]] = {}
    if "business_type" in request.args:
        if code not in {d.code for d in types}:
            errors["business_type"] = ["请选择登记类型"]
        if not re.fullmatch(r"[0-9]{6}[0-9A-Z]{22}", unit_code):
            errors["unit_code"] = ["请填写 28 位不动产单元号（见不动产权证书）"]
        if not errors:
            return redirect(url_for("national.apply", code=code, unit_code=unit_code))
    return render_template("national/choose.html", types=types, code=code, unit_code=unit_code,
                           errors=errors), (422 if errors else 200)


def _uploads(definition: BusinessTypeDef) -> tuple[list[applications.Upload], dict[str, list[str]]]:
    uploads: list[applications.Upload] = []
    errors: dict[str, list[str]] = {}
    for item in definition.materials:
        if item.generated:
            continue
        for upload in request.files.getlist(f"material-{item.code}"):
            content = upload.read(MAX_FILE_BYTES + 1)
            if not content:
                continue
            if len(content) > MAX_FILE_BYTES:
                errors.setdefault(f"materials.{item.code}", []).append("文件不能超过 10 MB")
                continue
            uploads.append(applications.Upload(item.code, upload.filename or item.code, content))
    return uploads, errors


@national.route("/apply/<code>", methods=["GET", "POST"])
@login_required
@verified_required
def apply(code: str) -> Any:
    """Step 2: the form generated from the type's definition, the materials of its checklist and the pledge;
    sent to the province of the unit, which routes it to the city. The hidden reference makes a second click
    (or a retry after an error) the same application, never a second one."""
    _national_only()
    session, actor = db_session(), page_actor()
    actor.require("application:create")
    definition = _definition(code)
    schema = definition.application_schema
    unit_code = (request.values.get("unit_code") or "").replace(" ", "")
    subject = applications.applicant_subject(session, actor.user_id or "")
    values = {**intake.prefill_for(session, actor, schema), "unit_code": unit_code}  # as the portal prefills
    ref, status = request.form.get("ref") or new_id(), 200
    errors: dict[str, Any] = {}
    if request.method == "POST":
        values = {**values, **posted_values(schema, request.form), "unit_code": unit_code}
        uploads, errors = _uploads(definition)
        if not request.form.get("pledge"):
            errors["pledge"] = ["请阅读并勾选申请承诺"]
        if not applications.REF_PATTERN.match(ref):
            ref = new_id()
        body = applications.build_body(
            origin=settings().platform_code, ref=ref, business_type=code, unit_code=unit_code, form=values,
            applicant=subject, uploads=uploads, agreed_at=utcnow().astimezone(CHINA).isoformat(), statement=PLEDGE)
        try:
            filing = applications.parse_filing(body)
            errors.update(applications.completeness_problems(definition, filing))  # all problems at once
            if not errors:
                # the same form sent twice (a second click, a retry) is the application already filed
                existing = applications.find_filed(session, filing.origin, filing.ref)
                row = existing or forwarding.file_from_national(
                    session, filing, applicant_user_id=actor.user_id or "", own_code=settings().platform_code,
                    signing_key=settings().federation_signing_key)
                flash(f"申请已转送至不动产所在地登记机构，业务号 {row.business_no}。", "success")
                return redirect(url_for("national.mine"))
        except DomainError as exc:
            errors.update(exc.errors or {"_form": [exc.message]})
            status = exc.status
        status = status if status != 200 else 422
    return render_template("national/apply.html", definition=definition, schema=schema, values=values,
                           errors=errors, unit_code=unit_code, ref=ref, pledge=PLEDGE), status


@national.get("/my")
@login_required
def mine() -> Any:
    """The person's applications filed here: where each went, its 业务号, the steps and e-certificates fed back
    from below (Beijing times)."""
    _national_only()
    actor, session = page_actor(), db_session()
    rows = applications.filings_of(session, actor.user_id or "")
    names = {d.code: d.name for d in applications.cross_level_types(session)}
    places = {r.city_code: division_name(r.city_code) or r.city_code for r in rows}
    return render_template("national/my.html", rows=rows, names=names, places=places)
