"""Register searches (查询) per DOMAIN R20 (条例 27–28; 细则 97–99): who sees what, and a trail of every query.

Three views of a unit, chosen per unit from who is asking:

* ``holder`` — a current owner (by the blind index of the verified ID number): everything about their own
  property, every current right with its holders (masked by default; ``unmask`` shows them in full).
* ``staff`` — a clerk with ``unit:read``, only inside their office (the session's tenant scope): every current
  right with masked holders.
* ``interested`` — anyone else allowed to apply (``application:create``: buyers, heirs, parties to a suit,
  banks): the natural status, the owners' masked names and the restrictions (查封/抵押/预告/异议).

Non-holders must state a purpose (查询目的); every query — own units, one unit, a search — is written to the
audit log with who asked, what (unit codes, search terms) and why. Use cases never commit.
"""
from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, selectinload

from app.errors import PermissionDenied, ValidationFailed
from app.identifiers import format_unit_code
from app.identity.actor import Actor
from app.registry.models import RealtyUnit, RegisterEntry, Right, doubled_location
from app.registry.service import (
    current_rights_by_unit,
    flags_of,
    holds_title,
    mortgage_ranks,
    unit_by_code,
    units_of_holder,
)
from app.right_types import REGISTERED_TITLES
from app.security import audit
from app.security.masking import mask_id_number, mask_name, mask_uscc
from app.vocabulary import RightStatus

PURPOSES = ("交易", "继承", "诉讼", "仲裁", "办理登记")
OWN = "本人查询"
STAFF_DEFAULT_PURPOSE = "办理登记"
RESTRICTIONS = {"seizure": "查封", "mortgage": "抵押", "advance_notice": "预告", "objection": "异议",
                "advance_mortgage": "预抵押"}
SEARCH_LIMIT = 50


def _check_purpose(purpose: str | None, *, required: bool) -> str | None:
    text = (purpose or "").strip()
    if not text:
        if required:
            raise ValidationFailed(f"请说明查询目的（purpose）：{'、'.join(PURPOSES)}", code="purpose_required",
                                   field="purpose")
        return None
    if text not in PURPOSES:
        raise ValidationFailed(f"查询目的“{text}”无效，应为 {'、'.join(PURPOSES)}", code="purpose_invalid",
                               field="purpose")
    return text


def _view(actor: Actor, rights: list[Right]) -> str:
    """Which view of a unit the actor gets, from the unit's current rights (its holders)."""
    if holds_title(rights, actor.id_number_bidx):
        return "holder"
    if actor.has("unit:read"):
        return "staff"  # the session's tenant scope already hid other offices' units
    if actor.has("application:create"):
        return "interested"
    raise PermissionDenied("您没有查询该不动产单元的权限", code="forbidden")


def _check_unmask(actor: Actor, views: list[str], unmask: bool) -> None:
    if unmask and not actor.has("pii:unmask") and any(v != "holder" for v in views):
        raise PermissionDenied("只有权利人本人或有权限的人员可以查看完整的个人信息", code="forbidden")


def _holder_json(holder: Any, unmask: bool) -> dict[str, Any]:
    mask_id = mask_uscc if holder.kind == "org" else mask_id_number
    return {"name": holder.name if unmask else mask_name(holder.name),
            "id_number": holder.id_number if unmask else mask_id(holder.id_number),
            "kind": holder.kind, "share_mode": holder.share_mode, "share": holder.share}


def unit_view(unit: RealtyUnit, rights: list[Right], view: str, *, unmask: bool = False) -> dict[str, Any]:
    """The unit as the given view may see it (natural status and flags for everyone). ``rights``: its current
    rights with their holders, loaded for a whole page at once (``current_rights_by_unit``): no query here."""
    data: dict[str, Any] = {
        "unit_code": unit.unit_code, "unit_code_display": format_unit_code(unit.unit_code), "view": view,
        "location": unit.location, "use": unit.use, "area_m2": float(unit.area_m2), "right_nature": unit.right_nature,
        "land_term_end": unit.land_term_end, "tenant_id": unit.tenant_id, "flags": flags_of(rights),
        "restrictions": [label for t, label in RESTRICTIONS.items() if any(r.right_type == t for r in rights)]}
    if view == "interested":
        data["holders"] = [{"name": mask_name(h.name), "share_mode": h.share_mode, "share": h.share}
                           for r in rights if r.right_type in REGISTERED_TITLES for h in r.holders]
        return data
    ranks = mortgage_ranks(rights)
    data["rights"] = [{"type": r.right_type, "business_no": r.business_no, "cert_no": r.cert_no,
                       "amount_yuan": float(r.amount_yuan) if r.amount_yuan is not None else None,
                       "since": r.created_at.isoformat(), "details": r.details or {}, "rank": ranks.get(r.id),
                       "holders": [_holder_json(h, unmask) for h in r.holders]}
                      for r in rights]
    return data


def own_units(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """本人名下的不动产: the units whose current ownership the actor holds."""
    actor.require("unit:read_own")
    units = units_of_holder(session, actor.id_number_bidx) if actor.id_number_bidx else []
    audit.record_access(session, actor_id=actor.user_id, action="query.own_units", object_type="user",
                 object_id=actor.user_id, after={"purpose": OWN, "count": len(units),
                                                 "unit_codes": [u.unit_code for u in units]})
    rights = current_rights_by_unit(session, units)
    return [unit_view(u, rights[u.id], "holder") for u in units]


def show_unit(session: Session, actor: Actor, unit_code: str, *, purpose: str | None = None,
              unmask: bool = False) -> dict[str, Any]:
    """One unit by its code. Clerks who give no purpose are taken to be handling a registration (办理登记)."""
    unit = unit_by_code(session, unit_code)
    rights = current_rights_by_unit(session, [unit])[unit.id]
    view = _view(actor, rights)
    if view == "staff" and not (purpose or "").strip():
        purpose = STAFF_DEFAULT_PURPOSE
    stated = _check_purpose(purpose, required=view != "holder")
    _check_unmask(actor, [view], unmask)
    audit.record_access(session, actor_id=actor.user_id, action="query.unit", object_type="realty_unit",
                 object_id=unit.id, tenant_id=unit.tenant_id,
                 after={"unit_code": unit.unit_code, "purpose": stated or OWN, "view": view, "unmasked": unmask})
    return {**unit_view(unit, rights, view, unmask=unmask), "purpose": stated or OWN}


def _cert_variants(cert_no: str) -> set[str]:
    text = unicodedata.normalize("NFKC", cert_no).replace(" ", "").strip()
    return {text, text.replace("(", "（").replace(")", "）")}


def _location_contains(session: Session, term: str) -> ColumnElement[bool]:
    """坐落 contains ``term`` (LIKE wildcards taken literally). On PostgreSQL a 2-character term is looked for in
    the doubled address, whose trigram index finds it (the term alone has no trigram; models.doubled_location),
    after ``strpos``: the cheap exact test spares most rows the doubling where the planner reads units in code
    order (a common term), and unlike a second LIKE it does not make the planner think the term rare (it
    guesses ⅓ for it), which sent a 1 % term (10k units of 1M) to a bitmap scan and a sort: 130 ms, 1 ms now."""
    if len(term) == 2 and session.get_bind().dialect.name == "postgresql":
        return and_(func.strpos(RealtyUnit.location, term) > 0,
                    doubled_location().contains("".join(c * 2 for c in term), autoescape=True))
    return RealtyUnit.location.contains(term, autoescape=True)


def search_query(session: Session, cert_no: str | None, location: str | None) -> Select[RealtyUnit]:
    """The units of a search page in unit-code order, one more than a page (to tell it was cut short)."""
    stmt = select(RealtyUnit)
    if cert_no:
        stmt = stmt.where(RealtyUnit.id.in_(select(Right.unit_id).where(
            Right.status == RightStatus.CURRENT, Right.cert_no.in_(sorted(_cert_variants(cert_no))))))
    if location:
        stmt = stmt.where(_location_contains(session, location))
    return stmt.order_by(RealtyUnit.unit_code).limit(SEARCH_LIMIT + 1)


def search_units(session: Session, actor: Actor, *, cert_no: str | None = None, location: str | None = None,
                 purpose: str | None = None, unmask: bool = False, read: Session | None = None) -> dict[str, Any]:
    """Units by the exact certificate/proof number of a current right and/or a 坐落 substring (given both,
    a unit must match both). A purpose is required unless every unit found is the actor's own. ``read``: where
    the units and rights are read (a read replica; docs/scaling.md); the access log is written to ``session``."""
    if not (actor.has("unit:read") or actor.has("application:create") or actor.has("unit:read_own")):
        raise PermissionDenied("您没有查询登记簿的权限", code="forbidden")
    cert_no, location = (cert_no or "").strip() or None, (location or "").strip() or None
    if not cert_no and not location:
        raise ValidationFailed("请提供不动产权证书号/登记证明号（cert_no）或坐落（location）",
                               code="search_terms_required", field="cert_no")
    if location is not None and not 2 <= len(location) <= 100:
        raise ValidationFailed("坐落查询词应为 2 至 100 个字符", code="search_terms_invalid", field="location")
    reader = read or session
    found = list(reader.execute(search_query(reader, cert_no, location)).scalars())
    units, truncated = found[:SEARCH_LIMIT], len(found) > SEARCH_LIMIT
    rights = current_rights_by_unit(reader, units)
    views = [_view(actor, rights[u.id]) for u in units]
    own_only = bool(units) and all(v == "holder" for v in views)
    stated = _check_purpose(purpose, required=not own_only)
    _check_unmask(actor, views, unmask)
    audit.record_access(session, actor_id=actor.user_id, action="query.unit_search", object_type="realty_unit",
                 object_id=None, tenant_id=actor.tenant_id,
                 after={"cert_no": cert_no, "location": location, "purpose": stated or OWN, "count": len(units),
                        "unit_codes": [u.unit_code for u in units], "views": sorted(set(views)),
                        "unmasked": unmask})
    return {"items": [unit_view(u, rights[u.id], v, unmask=unmask) for u, v in zip(units, views, strict=True)],
            "count": len(units), "truncated": truncated, "purpose": stated or OWN}


def register_page(session: Session, actor: Actor, unit_code: str) -> dict[str, Any]:
    """The unit's register-book page for a clerk handling a case: the staff view of its current rights plus
    its history — every entry in order and the rights that ended. One audited query (purpose 办理登记)."""
    actor.require("unit:read")
    page = show_unit(session, actor, unit_code, purpose=STAFF_DEFAULT_PURPOSE)
    unit = unit_by_code(session, unit_code)
    entries = session.execute(select(RegisterEntry).where(RegisterEntry.unit_id == unit.id)
                              .order_by(RegisterEntry.seq)).scalars()
    ended = session.execute(select(Right).where(Right.unit_id == unit.id, Right.status == RightStatus.HISTORY)
                            .options(selectinload(Right.holders)).order_by(Right.ended_at)).scalars()
    page["entries"] = [{"seq": e.seq, "business_no": e.business_no, "kind": e.kind,
                        "recorded_at": e.recorded_at.isoformat(), "created": bool((e.change or {}).get("created")),
                        "ended": len((e.change or {}).get("ended") or [])} for e in entries]
    page["history"] = [{"type": r.right_type, "business_no": r.business_no, "cert_no": r.cert_no,
                        "holders": [_holder_json(h, False)["name"] for h in r.holders],
                        "since": r.created_at.isoformat(), "ended_at": r.ended_at.isoformat() if r.ended_at else None,
                        "ended_by": r.ended_by_business_no} for r in ended]
    return page
