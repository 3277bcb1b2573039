"""The endpoints other platforms use: ``/federation/ping`` (a signed request, answered only for a trusted
peer) and ``/federation/arrive`` (an upper platform's identity assertion signs the applicant in here).

``peer_required`` is the decorator every peer-to-peer endpoint wears: it authenticates the request with the
sender's configured public key (app/federation/peers.py) before the view runs and hands the view the peer.
Both are CSRF-exempt: no browser cookie authorises them, only the signature.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Flask, g, redirect, request
from flask import session as cookie_session

from app.errors import PermissionDenied
from app.federation import assertion, navigation, packages, peers
from app.federation.navigation import NavigationRefused
from app.federation.signing import FederationRefused, private_key
from app.pages import csrf, hop_page, render_error_page, safe_next, start_page_session, wants_html
from app.security.throttle import limiter
from app.web import db_session, settings

F = TypeVar("F", bound=Callable[..., Any])
bp = Blueprint("federation", __name__, url_prefix="/federation")


def init_app(app: Flask) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)


def peer_required(view: F) -> F:
    """Run ``view`` only for a request signed by a configured peer (``g.peer``); else problem JSON 401 with
    peer_unknown / signature_invalid / wrong_audience / request_expired / request_replayed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        config = settings()
        path = request.full_path if request.query_string else request.path
        g.peer = peers.authenticate_request(
            db_session(), own_code=config.platform_code, skew_seconds=config.federation_skew_seconds,
            method=request.method, path=path, headers=request.headers, body=request.get_data(cache=True))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@bp.route("/ping", methods=["GET", "POST"])
@limiter.exempt
@peer_required
def ping() -> dict[str, Any]:
    """Who answers here, for a peer checking its link (and the proof that its key is accepted)."""
    config = settings()
    return {"platform": config.platform_code, "level": config.platform_level, "peer": g.peer.code,
            "echo": (request.get_json(silent=True) or {}).get("echo") if request.is_json else None}


@bp.route("/arrive", methods=["GET", "POST"])
def arrive() -> Any:
    """Link navigation from an upper platform: a good assertion signs the person in (their account found by
    ID number, or made, verified by the assertion) and goes on to ``next``; a bad one is refused with why.
    POST (an auto-submitted form) keeps the assertion out of proxies' access logs; GET works for a link.
    An assertion carrying a navigation claim goes on: a province passes the person to the target's city with a
    fresh assertion, the city lands them on the chosen type's application (app/federation/navigation.py)."""
    config = settings()
    session = db_session()
    try:
        arrival = assertion.arrive_navigated(session, request.values.get("assertion") or "",
                                             own_code=config.platform_code,
                                             skew_seconds=config.federation_skew_seconds)
        hop, landing = None, None
        if arrival.navigation is not None and config.platform_level == "province":
            hop = navigation.pass_on(session, arrival, key=private_key(config.federation_signing_key),
                                     own_code=config.platform_code)
        elif arrival.navigation is not None and config.platform_level == "city":
            landing = navigation.landing(arrival, own_code=config.platform_code)
    except (FederationRefused, NavigationRefused) as exc:
        if wants_html():
            return render_error_page(403, f"无法通过上级平台身份认证进入：{exc.message}")
        raise
    start_page_session(arrival.user)
    if hop is not None:
        return hop_page(hop.action, hop.fields, "办理地平台")
    if landing is not None:
        path, origin = landing
        cookie_session["federation_origin"] = origin  # the draft it starts takes it as its origin (app/portal/apply.py)
        return redirect(path)
    return redirect(safe_next(request.values.get("next")))


@bp.get("/definitions")
@limiter.exempt
@peer_required
def definitions() -> dict[str, Any]:
    """A province's signed business-type packages, newest of each type, for its cities (docs/federation.md)."""
    _province_serves(g.peer)
    return {"province": settings().platform_code,
            "packages": [{"type": p.business_type, "name": p.name, "version": p.version, "sha256": p.package_sha256,
                          "published_at": p.published_at} for p in packages.latest_packages(db_session())]}


@bp.get("/definitions/<code>/<int:version>")
@limiter.exempt
@peer_required
def definition_package(code: str, version: int) -> dict[str, Any]:
    """One package: its canonical text, exactly as signed, and the province's signature."""
    _province_serves(g.peer)
    row = packages.package_of(db_session(), code, version)
    return {"package": row.package, "signature": row.signature, "sha256": row.package_sha256}


def _province_serves(peer: peers.Peer) -> None:
    config = settings()
    if config.platform_level != "province" or not packages.may_fetch(peer, config.platform_code):
        raise PermissionDenied("本平台不向该平台提供业务定义包", code="packages_not_served")


# -- Cross-city questions (issue 20 §1): the city answers its province (app/federation/province_queries.py) ----

@bp.post("/queries/no-property")
@limiter.exempt
@peer_required
def no_property_query() -> dict[str, Any]:
    """The province asks whether a person holds a current ownership in this city's register (the province-wide
    无房证明). Audited here without personal data."""
    from app.federation.province_queries import answer_no_property

    return answer_no_property(db_session(), g.peer, request.get_json(silent=True) or {},
                              own_code=settings().platform_code)
