"""开发企业整幢办理 (issue 19): the developer files the 首次登记 of a whole building in one filing.

The ``first_registration`` type registers one unit: its rules (the developer holds the land right, the flat is
not yet registered), its fee (per 件), its 登簿 entry and its 不动产权证书 are per flat, and a flat may be refused
or corrected without holding back the others. So the building filing opens one case per flat — all in one
transaction, all or nothing — from the register's survey data of the building (坐落, 用途, 测绘面积 of each
flat), with the particulars and the documents the flats share (土地证, 规划核实, 竣工验收备案, 测绘报告 …) given
once, and confirms each with the developer's account signature. The 申请书 of each is made after the commit
(app/cases/application_form.py); the developer then submits each case (POST …/submit), and a refused flat
says so alone. Flats already registered are left out and listed.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.access import definition_of
from app.casefile.models import Case
from app.casefile.storage import Storage
from app.cases.intake import confirm_application, create_application
from app.cases.materials import add_material
from app.errors import ValidationFailed
from app.identity.actor import Actor
from app.registry.models import RealtyUnit
from app.registry.service import current_rights_by_unit
from app.security import audit

BUSINESS_TYPE = "first_registration"
BUILDING_CODE_LENGTH = 24  # 不动产单元代码 without the 4 digits of the room: 行政区划…宗地…F + 幢号
MAX_FLATS = 500
SHARED_FIELDS = ("land_cert_no", "planning_permit_no", "completion_filing_no", "developer_agent_name",
                 "developer_agent_phone")


@dataclass
class BuildingFiling:
    cases: list[Case] = field(default_factory=list)
    already_registered: list[str] = field(default_factory=list)


def flats_of_building(session: Session, building_code: str) -> list[RealtyUnit]:
    """The building's surveyed units in the register, in room order (the survey imported with the land right)."""
    code = (building_code or "").replace(" ", "").upper()
    if len(code) != BUILDING_CODE_LENGTH or code[19] != "F":
        raise ValidationFailed("幢代码应为不动产单元代码的前24位（至“F”和4位幢号）", field="building_code")
    return list(session.execute(select(RealtyUnit).where(RealtyUnit.unit_code.startswith(code, autoescape=True))
                                .order_by(RealtyUnit.unit_code).limit(MAX_FLATS + 1)
                                .execution_options(all_tenants=True)).scalars())


def file_building_first_registration(session: Session, storage: Storage, actor: Actor, building_code: str,
                                     particulars: dict[str, Any], documents: list[tuple[str, str, bytes]]
                                     ) -> BuildingFiling:
    """One draft per flat of the building not yet registered, filled, documented and confirmed. Raises
    ``ValidationFailed`` naming the field (``building_code``, a form field of the first flat that fails, a
    document ``code``); then nothing is stored."""
    actor.require("application:create")
    flats = flats_of_building(session, building_code)
    if not flats:
        raise ValidationFailed("登记簿中没有该幢的房屋测绘成果，请核对幢代码", field="building_code")
    if len(flats) > MAX_FLATS:
        raise ValidationFailed(f"一次最多办理 {MAX_FLATS} 套房屋", field="building_code")
    rights = current_rights_by_unit(session, flats)
    filing = BuildingFiling()
    shared = {k: v for k, v in particulars.items() if k in SHARED_FIELDS and v not in (None, "")}
    for flat in flats:
        if any(r.right_type == "ownership" for r in rights[flat.id]):
            filing.already_registered.append(flat.unit_code)
            continue
        form = {**shared, "unit_code": flat.unit_code, "location": flat.location, "use": flat.use,
                "surveyed_area_m2": float(flat.area_m2)}
        try:
            case = create_application(session, actor, BUSINESS_TYPE, form)
        except ValidationFailed as exc:  # say which flat
            raise ValidationFailed(f"{flat.location}：{exc.message}", errors=exc.errors, code=exc.code) from exc
        definition = definition_of(session, case)
        for code, filename, content in documents:
            add_material(session, storage, actor, case, definition, code=code, filename=filename, content=content)
        confirm_application(session, actor, case)
        filing.cases.append(case)
    if not filing.cases:
        raise ValidationFailed("该幢房屋均已办理首次登记", field="building_code")
    audit.record(session, actor_id=actor.user_id, action="building.first_registration", object_type="building",
                 object_id=flats[0].unit_code[:BUILDING_CODE_LENGTH], tenant_id=flats[0].tenant_id,
                 after={"cases": len(filing.cases), "already_registered": len(filing.already_registered)})
    return filing


def decode_documents(documents: list[dict[str, Any]]) -> list[tuple[str, str, bytes]]:
    """(code, filename, content) of the Base64 documents; a bad one is named by its position."""
    decoded, errors = [], {}
    for n, doc in enumerate(documents, start=1):
        try:
            content = base64.b64decode(str(doc.get("content_base64") or ""), validate=True)
        except (binascii.Error, ValueError):
            errors[f"documents.{n}.content_base64"] = [f"第{n}份材料不是有效的 Base64 编码"]
            continue
        decoded.append((str(doc.get("code") or ""), str(doc.get("filename") or ""), content))
    if errors:
        raise ValidationFailed("材料有误：" + "；".join(m[0] for m in errors.values()), errors=errors)
    return decoded
