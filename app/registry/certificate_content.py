"""What a certificate says, read from the register book only (DOMAIN §4.2, §4.3, §4.5 R16): the unit (and
its recorded outline for the 附图), the right created by the case's 登簿, its holders and the entry's time.
Never from the application form.

Returns the register page's rows, the 附记 page's lines, the 附图's plan and the masked summary the public
verification page shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.clock import CHINA
from app.db import transaction_cache
from app.identifiers import format_unit_code
from app.identity.models import Tenant
from app.registry.certificate_plan import UnitPlan
from app.registry.models import RealtyUnit, RegisterEntry, Right, RightHolder
from app.registry.unit_plan import polygons_of
from app.right_types import BUILDING_TITLES, REGISTERED_TITLES, RIGHT_TYPES
from app.security.masking import mask_name
from app.vocabulary import RightStatus

MORTGAGE_KINDS = {"general": "一般抵押", "maximum": "最高额抵押"}
ID_KINDS = {"person": "身份证", "org": "统一社会信用代码"}
# 权利其他状况: the building particulars a right's details may carry (from a first registration or a survey).
BUILDING_DETAILS = {"structure": "房屋结构", "floor": "所在层", "total_floors": "总层数", "completed": "竣工时间"}
REGISTER_PREVAILS = "本证书记载事项与不动产登记簿不一致的，以不动产登记簿为准（《民法典》第二百一十七条）。"


@dataclass(frozen=True)
class Content:
    rows: list[tuple[str, str]]  # the register page (a proof's ends with its 附记)
    summary: dict[str, Any]  # masked: safe for the public verification page
    holder_bidx: list[str]
    notes: list[str] | None = None  # the 附记 page of a 不动产权证书
    plan_page: bool = False  # certificates of a unit (not the 无房证明) end with the 附图 page
    plan: UnitPlan | None = None  # None: the book holds no outline for the unit


def office_name(session: Session, tenant_id: str) -> str:
    """``杭州市西湖区不动产登记中心`` for a district, ``杭州市不动产登记中心`` for the city. Kept for the
    transaction (the 申请书 and the certificate ask for it several times in one step; issue 18)."""
    return _office(session, tenant_id)[1]


def registration_office(session: Session, tenant_id: str) -> Tenant | None:
    """The office (tenant) itself, read with its name in one statement and kept for the transaction."""
    return _office(session, tenant_id)[0]


def _office(session: Session, tenant_id: str) -> tuple[Tenant | None, str]:
    offices = transaction_cache(session, "offices")
    if tenant_id not in offices:
        parent = aliased(Tenant)
        row = session.execute(select(Tenant, parent).outerjoin(parent, parent.code == Tenant.parent_code)
                              .where(Tenant.code == tenant_id)).first()
        if row is None:
            return None, "不动产登记中心"
        remember_office(session, row[0], row[1])
    found: tuple[Tenant | None, str] = offices[tenant_id]
    return found


def remember_office(session: Session, tenant: Tenant, parent: Tenant | None) -> None:
    """Keep an office read with something else (its parent names the city) for ``office_name`` and
    ``registration_office`` in this transaction."""
    name = f"{parent.name if parent else ''}{tenant.name}不动产登记中心"
    transaction_cache(session, "offices")[tenant.code] = (tenant, name)


def chinese_date(at: datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y年%m月%d日")


def chinese_time(at: datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y年%m月%d日 %H:%M")


def _area(value: Decimal | None) -> str:
    return f"{Decimal(value).quantize(Decimal('0.01'))}" if value is not None else "—"


def _term(end: str | None, right_type: str) -> str:
    if not end:
        return "—"
    land_right = RIGHT_TYPES.get(right_type, "国有建设用地使用权").split("/")[0]
    year, month, day = (end.split("-") + ["", ""])[:3]
    return f"{land_right} 至{year}年{month}月{day}日止" if day else f"至{end}止"


def _area_text(unit: RealtyUnit, right_type: str) -> str:
    """面积 as the certificate prints it: the parcel's area (共有 for a flat's shared parcel) and the building's."""
    shared = "共有宗地面积" if right_type == "ownership" else "宗地面积"
    land = f"{shared} {_area(unit.land_area_m2)}㎡" if unit.land_area_m2 is not None else None
    if right_type not in BUILDING_TITLES:
        return land or f"宗地面积 {_area(unit.area_m2)}㎡"
    return " / ".join(part for part in (land, f"房屋建筑面积 {_area(unit.area_m2)}㎡") if part)


def _other_status(unit: RealtyUnit, right: Right) -> str:
    parts = [f"房屋建筑面积 {_area(unit.area_m2)}㎡"] if right.right_type in BUILDING_TITLES else []
    details = right.details or {}
    parts += [f"{label} {details[key]}" for key, label in BUILDING_DETAILS.items() if details.get(key)]
    if unit.land_area_m2 is not None and right.right_type == "ownership":
        parts.append("宗地面积为本宗地全体业主共有")
    return "；".join(parts) or "—"


def _holder_note(holder: RightHolder) -> str:
    share = f"，份额 {holder.share}" if holder.share else ""
    return f"权利人：{holder.name}，{ID_KINDS.get(holder.kind, '证件号码')}：{holder.id_number}{share}"


def unit_plan(unit: RealtyUnit) -> UnitPlan | None:
    """The 附图 from the book: the unit's recorded outline and areas, or None when it holds no outline."""
    if not unit.outline:
        return None
    return UnitPlan(parcel=polygons_of(unit.outline, "parcel"), building=polygons_of(unit.outline, "building"),
                    parcel_area=_area(unit.land_area_m2) if unit.land_area_m2 is not None else None,
                    building_area=_area(unit.area_m2))


def _holders_text(right: Right) -> tuple[str, str]:
    names = "、".join(h.name or "" for h in right.holders)
    modes = {h.share_mode for h in right.holders}
    if any(h.share for h in right.holders):
        mode = "按份共有（" + "、".join(f"{h.name} {h.share}" for h in right.holders if h.share) + "）"
    else:
        mode = "、".join(sorted(modes)) or "单独所有"
    return names, mode


RECORDED_AT = "right_recorded_at"  # transaction cache: right id → when its 登簿 was recorded (certificates.py)


def recorded_at(session: Session, right: Right) -> datetime:
    known = transaction_cache(session, RECORDED_AT)
    if right.id in known:  # read with the right (certificates._recorded_right)
        found: datetime = known[right.id]
        return found
    entry = session.execute(
        select(RegisterEntry).where(RegisterEntry.unit_id == right.unit_id,
                                    RegisterEntry.business_no == right.business_no)
        .order_by(RegisterEntry.seq.desc())
    ).scalars().first()
    return entry.recorded_at if entry is not None else right.created_at


def _obligors(session: Session, unit: RealtyUnit, right: Right | None = None) -> str:
    """The 义务人: the title holders; for a right resting on a buyer's 预告 (预购商品房抵押预告, detail
    ``advance_notice_proof_no``) the buyer holding that notice, who is not yet on the title."""
    notice_no = ((right.details or {}).get("advance_notice_proof_no") if right is not None else None) or ""
    if notice_no and right is not None and right.right_type != "mortgage":
        notices = session.execute(select(Right).where(Right.unit_id == unit.id, Right.right_type == "advance_notice",
                                                      Right.cert_no == notice_no)).scalars().all()
        if notices:
            return "、".join(h.name or "" for r in notices for h in r.holders) or "—"
    owners = session.execute(select(Right).where(Right.unit_id == unit.id, Right.status == RightStatus.CURRENT,
                                                 Right.right_type.in_(REGISTERED_TITLES))).scalars().all()
    return "、".join(h.name or "" for r in owners for h in r.holders) or "—"


def content_for_right(session: Session, right: Right, kind: str) -> Content:
    unit = session.get_one(RealtyUnit, right.unit_id)
    names, mode = _holders_text(right)
    at = recorded_at(session, right)
    unit_code = format_unit_code(unit.unit_code)
    record_note = f"业务号：{right.business_no}；登簿时间：{chinese_time(at)}"
    notes = None
    if kind == "title":
        rows = [("权利人", names), ("共有情况", mode), ("坐落", unit.location), ("不动产单元号", unit_code),
                ("权利类型", RIGHT_TYPES.get(right.right_type, right.right_type)),
                ("权利性质", unit.right_nature or "—"), ("用途", str(right.details.get("use") or unit.use)),
                ("面积", _area_text(unit, right.right_type)), ("使用期限", _term(unit.land_term_end, right.right_type)),
                ("权利其他状况", _other_status(unit, right))]
        notes = [f"业务号：{right.business_no}", f"登簿时间：{chinese_time(at)}",
                 *(_holder_note(h) for h in right.holders), REGISTER_PREVAILS]
    else:
        other = []
        if right.amount_yuan is not None:
            maximum = right.details.get("mortgage_kind") in ("maximum", "最高额抵押")
            label = "最高债权额" if maximum else "被担保主债权数额"
            other.append(f"{label}：{_area(right.amount_yuan)}元")
        if right.details.get("mortgage_kind"):
            kind_label = MORTGAGE_KINDS.get(str(right.details["mortgage_kind"]), right.details["mortgage_kind"])
            other.append(f"抵押方式：{kind_label}")
        start, end = right.details.get("debt_start") or "", right.details.get("debt_end") or ""
        if start or end:
            other.append(f"债务履行期限：{start}至{end}")
        if right.details.get("guarantee_scope"):
            other.append(f"担保范围：{right.details['guarantee_scope']}")
        rows = [("证明权利或事项", RIGHT_TYPES.get(right.right_type, right.right_type)),
                ("权利人（申请人）", names), ("义务人", _obligors(session, unit, right)), ("坐落", unit.location),
                ("不动产单元号", unit_code), ("其他", "；".join(other) or "—"), ("附记", record_note)]
    summary = {"unit_code": unit_code, "location": unit.location,
               "right_type": RIGHT_TYPES.get(right.right_type, right.right_type),
               "holders": [mask_name(h.name) for h in right.holders], "business_no": right.business_no,
               "recorded_at": chinese_date(at)}
    return Content(rows=rows, summary=summary,
                   holder_bidx=[h.id_number_bidx for h in right.holders if h.id_number_bidx],
                   notes=notes, plan_page=True, plan=unit_plan(unit))


def content_no_property(*, name: str, id_number: str, city: str, purpose: str, at: datetime) -> Content:
    rows = [("申请人", name), ("身份证件号码", id_number),
            ("查询范围", f"{city}行政区域内登记簿记载的房屋所有权"),
            ("查询结果", f"经查询不动产登记簿，截至{chinese_time(at)}，申请人名下无现势房屋所有权登记记录。"),
            ("查询用途", purpose)]
    summary = {"holders": [mask_name(name)], "scope": city, "queried_at": chinese_time(at)}
    return Content(rows=rows, summary=summary, holder_bidx=[])


def content_province_no_property(*, name: str, id_number: str, province: str, cities: list[str], purpose: str,
                                 at: datetime) -> Content:
    """The province-wide 无房证明: it names the cities whose registers answered (all the province's cities, or
    it would not be issued)."""
    covered = "、".join(cities)
    rows = [("申请人", name), ("身份证件号码", id_number),
            ("查询范围", f"{province}行政区域内{covered}登记簿记载的房屋所有权（由各市登记机构答复）"),
            ("查询结果", f"经查询{covered}不动产登记簿，截至{chinese_time(at)}，申请人名下无现势房屋所有权登记记录。"),
            ("查询用途", purpose)]
    summary = {"holders": [mask_name(name)], "scope": f"{province}（{covered}）", "queried_at": chinese_time(at)}
    return Content(rows=rows, summary=summary, holder_bidx=[])
