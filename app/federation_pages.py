"""The national entrance (全国网上“一窗办事”平台, PLATFORM_LEVEL=national): choose a province, a city (or county)
and a business type — or type a 不动产单元代码, whose first six digits tell the county — and 去办理 navigates the
signed-in, verified applicant to the province platform, which passes them on to the city (link navigation,
app/federation/navigation.py). The page lists the person's navigations. Interface navigation (a form filled
here and forwarded through the province's API) is ``/national/apply``.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for

from app.catalog.service import enabled_definitions
from app.errors import ValidationFailed
from app.federation import navigation
from app.federation.signing import private_key
from app.identifiers import division_name
from app.pages import page_actor, user_of
from app.security.headers import allow_form_action
from app.web import db_session, settings

bp = Blueprint("national_entrance", __name__, url_prefix="/national")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.before_request
def national_only() -> None:
    if settings().platform_level != "national":
        abort(404)


def _online_types() -> list[tuple[str, str]]:
    """(code, name) of the types an applicant can apply for online (not 嘱托, not 内部)."""
    return [(d.code, d.name) for _, d in enabled_definitions(db_session())
            if d.applicant_mode not in ("嘱托", "内部")]


def _entrance(*, errors: dict[str, list[str]] | None = None, status: int = 200) -> Any:
    session, actor = db_session(), page_actor(required=False)
    province = request.values.get("province", "").strip()
    city = request.values.get("city", "").strip()
    provinces = navigation.connected_provinces(session)
    if province not in {p.code for p in provinces}:
        province, city = "", ""
    cities = navigation.cities_of(province) if province else []
    if city not in {c.code for c in cities}:
        city = ""
    return render_template(
        "national/entrance.html", provinces=provinces, province=province, cities=cities, city=city,
        counties=navigation.counties_of(city) if city else [], types=_online_types(), errors=errors or {},
        values=request.values, division_name=division_name,
        navigations=navigation.navigations_of(session, actor.user_id) if actor and actor.user_id else [],
    ), status


@bp.get("")
def index() -> Any:
    return _entrance()


@bp.post("/go")
def go() -> Any:
    """去办理: sign in first, verify first; then the navigation is recorded and the browser posts the signed
    assertion to the province platform."""
    actor = page_actor(required=False)
    choices = {k: request.form[k] for k in ("province", "city", "target", "unit_code", "business_type")
               if request.form.get(k)}
    back = url_for("national_entrance.index") + ("?" + urlencode(choices) if choices else "")
    if actor is None:
        flash("请先登录，登录后继续办理。", "info")
        return redirect(url_for("accounts.login", next=back))
    if actor.kind == "staff" or not actor.id_number_bidx:
        flash("办理业务前请先完成实名认证。", "info")
        return redirect(url_for("portal.verify", next=back))
    config, session = settings(), db_session()
    types = dict(_online_types())
    code = request.form.get("business_type", "")
    try:
        if code not in types:
            raise ValidationFailed("请选择要办理的业务", field="business_type", code="business_type_invalid")
        target = navigation.resolve_target(
            session, province=request.form.get("province", ""), unit_code=request.form.get("unit_code", ""),
            target=request.form.get("target") or request.form.get("city", ""))
        row, hop = navigation.start_navigation(session, user_of(actor), code, types[code], target,
                                               key=private_key(config.federation_signing_key),
                                               own_code=config.platform_code)
    except ValidationFailed as exc:
        return _entrance(errors={exc.field or "_form": [exc.message]}, status=422)
    allow_form_action(hop.action)
    return render_template("federation/hop.html", hop=hop, where=f"{row.business_type_name} · {target.target_name}")

