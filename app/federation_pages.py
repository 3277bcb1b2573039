"""Pages of the federation (issue 20) for people: the national entrance and the definition packages' admin page.

The national entrance (全国网上“一窗办事”平台, PLATFORM_LEVEL=national): choose a province, a city (or county)
and a business type — or type a 不动产单元代码, whose first six digits tell the county — and 去办理 navigates the
signed-in, verified applicant to the province platform, which passes them on to the city (link navigation,
app/federation/navigation.py). The page lists the person's navigations. Interface navigation (a form filled
here and forwarded through the province's API) is ``/national/apply``.

业务定义包 (``/admin/federation/definitions``): a province's analyst publishes types as signed packages; a city's
analyst sees the province's packages with what the city did with each (已采用 / 本地覆盖 / 未采用) and adopts
or keeps its own version (app/federation/packages.py).
"""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for

from app.casefile.status import status_label
from app.catalog.service import enabled_definitions
from app.errors import DomainError, PermissionDenied, ValidationFailed
from app.federation import collected, navigation, packages
from app.federation.signing import private_key
from app.identifiers import division_name
from app.pages import hop_page, login_required, page_actor, user_of
from app.web import db_session, settings

bp = Blueprint("national_entrance", __name__, url_prefix="/national")
admin_bp = Blueprint("federation_admin", __name__, url_prefix="/admin/federation")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)


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
    if actor.kind == "staff":
        raise PermissionDenied("工作人员账户不能在此办理业务，请使用个人账户登录", code="applicants_only")
    if not actor.id_number_bidx:
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
    return hop_page(hop.action, hop.fields, f"{row.business_type_name} · {target.target_name}")



# ------------------------------------------------------------------ 业务定义包 (province publishes, city adopts)

def _analyst(permission: str) -> Any:
    actor = page_actor()
    actor.require(permission)
    return actor


@admin_bp.get("/definitions")
@login_required
def definitions() -> Any:
    actor = _analyst("defs:read")
    config, session = settings(), db_session()
    if config.platform_level == "province":
        published = {p.business_type: p for p in packages.latest_packages(session)}
        return render_template("admin/federation_definitions.html", level="province", published=published,
                               types=_all_types(), can_manage=actor.has("defs:manage"))
    if config.platform_level != "city":
        abort(404)
    error, found = None, []
    try:
        province = packages.province_peer(session, config.platform_code)
        found = packages.fetch_list(province, private_key(config.federation_signing_key), config.platform_code)
    except DomainError as exc:
        error = exc.message
    return render_template("admin/federation_definitions.html", level="city", found=found, error=error,
                           status=packages.local_status(session), can_manage=actor.has("defs:manage"))


def _all_types() -> list[tuple[str, str, int]]:
    return [(d.code, d.name, version_no) for version_no, d in enabled_definitions(db_session())]


@admin_bp.post("/definitions/<code>/publish")
@login_required
def publish(code: str) -> Any:
    actor = _analyst("defs:manage")
    config = settings()
    if config.platform_level != "province":
        abort(404)
    row, made = packages.publish(db_session(), code, key=private_key(config.federation_signing_key),
                                 own_code=config.platform_code, actor_id=actor.user_id)
    flash(f"{code}：{'已发布' if made else '该版本已发布'}第 {row.version} 版业务定义包。", "success")
    return redirect(url_for("federation_admin.definitions"))


@admin_bp.post("/definitions/<code>/adopt")
@login_required
def adopt(code: str) -> Any:
    """Fetch (a signed call, before any write), verify and install the province's package."""
    actor = _analyst("defs:manage")
    config, session = settings(), db_session()
    if config.platform_level != "city":
        abort(404)
    try:
        province = packages.province_peer(session, config.platform_code)
        package = packages.fetch(province, private_key(config.federation_signing_key), config.platform_code, code)
        _row, message = packages.adopt(session, package, root=settings().definitions_root, actor_id=actor.user_id,
                                       force=request.form.get("force") == "1")
    except DomainError as exc:
        flash(f"未采用：{exc.message}", "error")
        return redirect(url_for("federation_admin.definitions"))
    flash(f"已采用{package.province}第 {package.version} 版：{message}", "success")
    return redirect(url_for("federation_admin.definitions"))


@admin_bp.post("/definitions/<code>/override")
@login_required
def override(code: str) -> Any:
    actor = _analyst("defs:manage")
    if settings().platform_level != "city":
        abort(404)
    session = db_session()
    if request.form.get("off") == "1":
        packages.clear_override(session, code, actor_id=actor.user_id)
        flash(f"{code}：已取消本地覆盖。", "success")
    else:
        packages.mark_override(session, code, request.form.get("reason") or "本地版本", actor_id=actor.user_id)
        flash(f"{code}：已设为本地覆盖，省级版本不再自动采用。", "success")
    return redirect(url_for("federation_admin.definitions"))


# ------------------------------------------------------------------ 各市归集 (a province's view of what it collects)

def _collected_filter() -> tuple[collected.CollectedFilter, dict[str, list[str]]]:
    """The list's filters from the query string; a malformed date or page is named, not a 500."""
    args, errors = request.args, {}
    days: dict[str, date | None] = {}
    for name in ("date_from", "date_to"):
        text = (args.get(name) or "").strip()
        try:
            days[name] = date.fromisoformat(text) if text else None
        except ValueError:
            days[name], errors[name] = None, ["日期格式应为 YYYY-MM-DD"]
    try:
        page = max(1, int(args.get("page") or 1))
        per_page = min(max(1, int(args.get("per_page") or 50)), collected.MAX_PER_PAGE)
    except ValueError:
        page, per_page = 1, 50
    return collected.CollectedFilter(
        city=(args.get("city") or "").strip()[:6], business_type=(args.get("business_type") or "").strip()[:64],
        status=(args.get("status") or "").strip()[:32], business_no=(args.get("business_no") or "").strip()[:32],
        date_from=days["date_from"], date_to=days["date_to"], page=page, per_page=per_page), errors


@admin_bp.get("/collected")
def collected_cases() -> Any:
    """各市归集: the cases, checkpoints and reporting health of this province's cities (operators; province only —
    absent elsewhere, 404 before sign-in like the national pages)."""
    if settings().platform_level != "province":
        abort(404)
    return _collected_page()


@login_required
def _collected_page() -> Any:
    _analyst("interface:read")
    session = db_session()
    wanted, errors = _collected_filter()
    found = collected.collected_cases(session, wanted)
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "admin/ops/federation_collected.html", found=found, wanted=wanted, errors=errors, query=query,
        cities=collected.city_names(session), types=collected.type_names(session),
        statuses=collected.statuses(session), counts=collected.counts_by_city_and_status(session),
        health=collected.city_health(session), checkpoints=collected.city_checkpoints(session),
        relay=collected.relay_backlog(session), status_label=status_label), 422 if errors else 200
