"""更正登记 (细则 79–81): the holder corrects the unit's particulars; the entry keeps before → after, the old
title is revoked and a corrected one issued from the book; no correction once a later 处分/预告/查封 exists (R9)."""
from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select
from support.cases import file_application, take_through

from app.demo import BANK, ZHANG_SAN
from app.identifiers import make_unit_code
from app.registry.book import append_entry
from app.registry.models import RealtyUnit, RegisterEntry, Right, RightHolder


def unit(n: int) -> str:
    return make_unit_code("330106", 1, 1, "GB", 100, 1, 100 + n)


def correction_form(unit_code: str, **fix: Any) -> dict[str, Any]:
    return {"unit_code": unit_code, "error_description": "登记簿记载的建筑面积与实测面积不符",
            "evidence": "杭州市测绘院测绘成果更正报告（2026）第88号", **fix}


def test_a_holder_corrects_the_area_and_gets_a_corrected_title(login: Any, db: Any) -> None:
    resp = file_application(login, "zhangsan", "correction", correction_form(unit(3), corrected_area_m2=70.5))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["fee_items"] == [] and resp.get_json()["business_no"][10:12] == "50"
    take_through(login, resp.get_json()["business_no"])
    with db.unit_of_work() as session:
        realty = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == unit(3))).scalar_one()
        assert str(realty.area_m2) == "70.50"
        entry = session.execute(select(RegisterEntry).where(RegisterEntry.unit_id == realty.id)
                                .order_by(RegisterEntry.seq.desc())).scalars().first()
        assert entry.kind == "correction" and entry.change["unit"] == {"area_m2": ["69.00", "70.5"]}
    owner = login("zhangsan")
    [cert] = owner.get(f"/api/v1/applications/{resp.get_json()['id']}").get_json()["certificates"]
    assert cert["kind"] == "title" and cert["status"] == "valid"
    pdf = owner.get(f"/api/v1/certificates/{cert['id']}/pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "70.50" in text and ZHANG_SAN["name"][0] in text

    unchanged = file_application(login, "zhangsan", "correction", correction_form(unit(3), corrected_area_m2=70.5))
    business_no = unchanged.get_json()["business_no"]
    take_through(login, business_no, ("受理", "审核"))
    from support.cases import complete_stage
    from support.personas import STAFF

    refused = complete_stage(login(STAFF["登簿"]), business_no, "登簿")
    assert refused.status_code == 409 and "无需更正" in refused.get_json()["detail"]


def test_no_correction_after_a_later_mortgage(login: Any, db: Any) -> None:
    with db.unit_of_work() as session:  # a mortgage recorded after the ownership (R9)
        realty = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == unit(2))).scalar_one()
        right = Right(unit_id=realty.id, tenant_id=realty.tenant_id, right_type="mortgage", status="current",
                      business_no="202633010690009999", details={})
        right.ensure_id()
        holder = RightHolder(right_id=right.id, tenant_id=realty.tenant_id, position=0, kind="org")
        holder.ensure_id()
        holder.name, holder.id_number = BANK["name"], BANK["id_number"]
        right.holders.append(holder)
        session.add(right)
        session.flush()
        append_entry(session, realty, business_no=right.business_no, kind="mortgage",
                     change={"created": {"right_id": right.id, "type": "mortgage"}, "ended": []}, recorded_by=None)
    resp = file_application(login, "zhangsan", "correction", correction_form(unit(2), corrected_use="非住宅"))
    assert resp.status_code == 422
    assert "已办理抵押权，不能办理更正登记" in resp.get_json()["errors"]["unit_code"][0]


def test_a_correction_must_say_what_to_correct(login: Any) -> None:
    created = login("zhangsan").post("/api/v1/applications", json={"business_type": "correction",
                                                                   "form": correction_form(unit(1))})
    case_id = created.get_json()["id"]
    resp = login("zhangsan").post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 422
    assert resp.get_json()["errors"]["corrected_area_m2"] == [
        "请至少填写以下一项：更正后的坐落、更正后的建筑面积（平方米）、更正后的用途"]
