"""Link navigation (issue 20 §1): the national entrance sends a verified applicant to the province, which
passes them on to the city that does the chosen business, each hop with a fresh signed identity assertion
carrying the same navigation claim (origin platform, its reference, business type, target division).

National: ``resolve_target`` (a province and a city/county chosen, or a 不动产单元代码 whose first six digits
tell the county) and ``start_navigation`` (stores the navigation, signs the assertion for the province).
Province: ``pass_on`` (the target is one of its cities: a fresh assertion for that city). City: ``landing``
(the target is here: the page that starts the type's application, and the origin to keep in the session).
Each hop is a browser POST of an auto-submitted form, so the assertion never sits in a URL or an access log.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import DomainError, PermissionDenied, ValidationFailed
from app.federation import assertion, peers
from app.federation.forward_models import FederatedCase, FederatedStatus
from app.federation.models import FederationPeer
from app.federation.nav_models import Navigation
from app.identifiers import (
    Division,
    InvalidIdentifier,
    check_division_code,
    check_unit_code,
    division_level,
    division_name,
    division_parent,
    divisions_under,
)
from app.security import audit

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.identity.models import User

ARRIVE_PATH = "/federation/arrive"
NAVIGATED_LABEL = "已导航至办理地，待提交申请"


class NavigationRefused(DomainError):
    """A navigation that cannot go where it asks (the target is not under this platform, or the platform
    below is not connected); ``code`` says which."""

    status = 403
    code = "navigation_refused"


@dataclass(frozen=True)
class Target:
    """Where a navigation goes: the province platform that passes it on, the city platform that does the
    business, and the division chosen (the city itself or a county under it)."""

    province: peers.Peer
    city_code: str
    target_code: str
    unit_code: str | None = None

    @property
    def target_name(self) -> str:
        return _full_name(self.target_code)


@dataclass(frozen=True)
class Hop:
    """The next step of the browser: a form auto-submitted (POST) to another platform's ``/federation/arrive``."""

    action: str
    fields: dict[str, str]


def _full_name(code: str) -> str:
    """省 市 区 as people read an address (浙江省杭州市西湖区)."""
    names, current = [], code
    while current:
        names.append(division_name(current) or current)
        current = division_parent(current) or ""
    return "".join(reversed(names))


def province_of(code: str) -> str:
    return code[:2] + "0000"


def city_of(code: str) -> str:
    """The city-level platform of a division: a county's prefecture (a 直辖市's district: its ``xx01 00``
    municipal code), a prefecture itself."""
    if division_level(code) == "prefecture":
        return code
    parent = division_parent(code) or ""
    return parent if division_level(parent) == "prefecture" else code[:4] + "00"


def connected_provinces(session: Session) -> list[peers.Peer]:
    """The province platforms this national entrance knows (configured peers), by code."""
    return [p for p in peers.list_peers(session) if p.level == "province"]


def cities_of(province_code: str) -> list[Division]:
    """The cities to choose from under a province (a 直辖市 has its districts directly)."""
    return divisions_under(province_code)


def counties_of(city_code: str) -> list[Division]:
    return [d for d in divisions_under(city_code) if d.level == "county"]


def _province_peer(session: Session, code: str) -> peers.Peer:
    row = session.get(FederationPeer, code)
    if row is None or row.level != "province":
        raise ValidationFailed(f"{division_name(code) or code}尚未接入全国平台，请到当地平台办理", field="province",
                               code="province_not_connected")
    return peers.get_peer(session, code)


def resolve_target(session: Session, *, province: str = "", target: str = "", unit_code: str = "") -> Target:
    """The target of a navigation from what the applicant chose: a 不动产单元代码 (its first six digits are
    the county, hence the city and the province) wins over the province/city/county choice."""
    unit: str | None = None
    if unit_code.strip():
        try:
            unit = check_unit_code(unit_code)
        except InvalidIdentifier as exc:
            raise ValidationFailed(exc.message, field="unit_code", code="unit_code_invalid") from exc
        target = unit[:6]
    else:
        try:
            target = check_division_code(target)
        except InvalidIdentifier as exc:
            raise ValidationFailed(f"请选择办理地区：{exc.message}", field="target", code="target_invalid") from exc
        if division_level(target) == "province":
            raise ValidationFailed("请选择到市或区县", field="target", code="target_invalid")
        if province and province_of(target) != province:
            raise ValidationFailed("所选地区不在所选省份内", field="target", code="target_invalid")
    return Target(_province_peer(session, province_of(target)), city_of(target), target, unit)


def start_navigation(session: Session, user: User, business_type: str, business_type_name: str, target: Target,
                     *, key: Ed25519PrivateKey, own_code: str) -> tuple[Navigation, Hop]:
    """Record the navigation (person, type, target, time) and sign the assertion that takes the person to
    the province platform. Only a verified applicant is navigated: the platforms below will not ask again."""
    if user.verified_at is None or not user.id_number or not user.real_name:
        raise PermissionDenied("请先完成实名认证再办理", code="verification_required")
    row = Navigation(user_id=user.id, business_type_code=business_type, business_type_name=business_type_name,
                     target_code=target.target_code, province_code=target.province.code, city_code=target.city_code,
                     unit_code=target.unit_code)
    row.ensure_id()
    session.add(row)
    # The person's row among their cross-level applications (/national/my): the city reports the case the
    # navigation starts under this reference, and the province relays its progress and certificates here.
    followed = FederatedCase(origin_code=own_code, origin_ref=row.id, content_sha256="", business_type=business_type,
                             unit_code=target.unit_code or "", applicant_user_id=user.id, city_code=target.city_code,
                             status=FederatedStatus.NAVIGATED, status_label=NAVIGATED_LABEL, steps=[], certificates=[])
    followed.ensure_id()
    session.add(followed)
    session.flush()
    claim = assertion.Navigation(own_code, row.id, business_type, target.target_code, target.unit_code)
    subject = assertion.Subject(user.real_name, user.id_number, user.verification_level or "identity",
                                user.verified_at.isoformat())
    token = assertion.issue(key, issuer=own_code, audience=target.province.code, subject=subject,
                            navigation=claim.claim())
    audit.record(session, actor_id=user.id, action="federation.navigation_started", object_type="federation_navigation",
                 object_id=row.id, after={"business_type": business_type, "target": target.target_code,
                                          "province": target.province.code, "city": target.city_code})
    return row, Hop(target.province.base_url + ARRIVE_PATH, {"assertion": token, "next": "/"})


def navigations_of(session: Session, user_id: str, limit: int = 20) -> list[Navigation]:
    """The person's navigations here, newest first (the entrance lists them: type, where to, when)."""
    return list(session.execute(select(Navigation).where(Navigation.user_id == user_id)
                                .order_by(Navigation.created_at.desc()).limit(limit)).scalars())


def pass_on(session: Session, arrival: assertion.Arrival, *, key: Ed25519PrivateKey, own_code: str) -> Hop:
    """At the province: a navigation the national platform started, to one of its cities, goes on with a fresh
    assertion for that city (same person, same navigation claim); one from elsewhere, a target outside the
    province or an unconnected city is refused."""
    navigation = arrival.navigation
    assert navigation is not None
    if arrival.issuer.level != "national" or navigation.origin != arrival.issuer.code:
        raise NavigationRefused("导航须由全国平台发起", code="wrong_issuer")
    if province_of(navigation.target) != own_code:
        raise NavigationRefused("办理地区不在本省，无法转到该地区平台", code="wrong_target")
    city = session.get(FederationPeer, city_of(navigation.target))
    if city is None or city.level != "city":
        raise NavigationRefused(f"{division_name(city_of(navigation.target)) or '该市'}尚未接入本省平台",
                                code="city_not_connected")
    token = assertion.issue(key, issuer=own_code, audience=city.code, subject=arrival.subject,
                            navigation=navigation.claim())
    audit.record(session, actor_id=arrival.user.id, action="federation.navigation_passed_on",
                 object_type="user", object_id=arrival.user.id,
                 after={"origin": navigation.origin, "ref": navigation.ref, "type": navigation.business_type,
                        "city": city.code})
    return Hop(city.base_url.rstrip("/") + ARRIVE_PATH, {"assertion": token, "next": "/"})


def landing(arrival: assertion.Arrival, *, own_code: str) -> tuple[str, dict[str, str]]:
    """At the city: the page that starts the chosen type's application (with the unit code when one was
    given) and the origin to keep in the person's session, so that the case can later report back. Only its own
    province passes a navigation on to a city."""
    navigation = arrival.navigation
    assert navigation is not None
    if arrival.issuer.code != province_of(own_code):
        raise NavigationRefused("导航须经本省平台转来", code="wrong_issuer")
    if city_of(navigation.target) != own_code:
        raise NavigationRefused("办理地区不属于本平台", code="wrong_target")
    path = f"/apply/{navigation.business_type}"
    if navigation.unit_code:
        path += "?" + urlencode({"unit_code": navigation.unit_code})
    origin = {"platform": navigation.origin, "ref": navigation.ref, "via": arrival.issuer.code,
              "type": navigation.business_type, "target": navigation.target}
    return path, origin
