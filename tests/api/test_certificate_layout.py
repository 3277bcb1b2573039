"""The 不动产权证书 and 不动产登记证明 in the layout of the 簿证样式, filled from the demo register book: the register
page's fields in order, the 附记 page, and the 附图 drawn (vector paths) from the unit's recorded outline — or a
statement that the plan is kept in the register when the book holds none."""
from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select
from support.cases import render_certificates

from app.demo import NO_OUTLINE_EVERY
from app.identifiers import format_unit_code, make_unit_code
from app.registry.models import Certificate

TITLE_FIELDS = ["权利人", "共有情况", "坐落", "不动产单元号", "权利类型", "权利性质", "用途", "面积", "使用期限",
                "权利其他状况"]
PROOF_FIELDS = ["证明权利或事项", "权利人（申请人）", "义务人", "坐落", "不动产单元号", "其他", "附记"]
LINE_TO = re.compile(rb"-?\d+(?:\.\d+)? -?\d+(?:\.\d+)? l\s")


def demo_unit_code(n: int, district: str = "330106") -> str:
    return make_unit_code(district, 1, 1, "GB", 100 + (n - 1) // 8, 1 + (n - 1) // 8, 100 + n)


def issued(app: Flask, n: int, right_type: str) -> tuple[list[Any], dict[str, Any]]:
    """Issue (number; then render, sign, store) the certificate of demo unit ``n``'s current ``right_type`` right;
    its pages and what the book says."""
    from app.identity.actor import SYSTEM
    from app.registry.certificates import issue_for_right
    from app.registry.models import RealtyUnit, Right

    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        unit = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == demo_unit_code(n))).scalar_one()
        right = session.execute(select(Right).where(Right.unit_id == unit.id, Right.status == "current",
                                                    Right.right_type == right_type)).scalar_one()
        cert = issue_for_right(session, app.extensions["storage"], right, SYSTEM)
        cert_id, tenant = cert.id, cert.tenant_id
        book = {"number": cert.number, "unit_code": format_unit_code(unit.unit_code), "location": unit.location,
                "holders": [(h.name, h.id_number) for h in right.holders], "business_no": right.business_no,
                "area": unit.area_m2, "land_area": unit.land_area_m2, "outline": unit.outline}
    render_certificates(app)  # 制证, after 缮证's commit
    with app.extensions["db"].unit_of_work() as session:
        key = session.get_one(Certificate, cert_id).storage_key
    pdf = app.extensions["storage"].get(key, tenant_id=tenant)
    return list(PdfReader(io.BytesIO(pdf)).pages), book


def lines_of(page: Any) -> list[str]:
    return [line.strip() for line in page.extract_text().splitlines()]


def in_order(lines: list[str], labels: list[str]) -> list[int]:
    return [lines.index(label) for label in labels]


def test_a_title_certificate_has_the_register_page_the_remarks_and_the_drawn_plan(seeded: Flask) -> None:
    pages, book = issued(seeded, 2, "ownership")
    assert book["outline"] and book["land_area"] is not None
    assert len(pages) == 3
    register, remarks, plan = (lines_of(p) for p in pages)

    positions = in_order(register, TITLE_FIELDS)
    assert positions == sorted(positions)
    value = {label: register[i + 1] for label, i in zip(TITLE_FIELDS, positions, strict=True)}
    assert value["权利人"] == book["holders"][0][0] and value["坐落"] == book["location"]
    assert value["不动产单元号"] == book["unit_code"]  # on one line, unbroken
    assert value["面积"] == f"共有宗地面积 {book['land_area']:.2f}㎡ / 房屋建筑面积 {book['area']:.2f}㎡"
    assert value["使用期限"] == "国有建设用地使用权 至2088年12月31日止"
    assert book["number"] in register and "第 1 页 共 3 页" in register[-1]

    assert remarks[0].replace(" ", "") == "附记" and remarks[1] == book["number"]
    name, id_number = book["holders"][0]
    assert remarks[2:5] == [f"业务号：{book['business_no']}", remarks[3], f"权利人：{name}，身份证：{id_number}"]
    assert remarks[3].startswith("登簿时间：")

    assert plan[0].replace(" ", "") == "附图" and "宗地图" in plan and "房产分户图" in plan
    assert "附图存于不动产登记簿" not in plan
    assert any(f"宗地面积 {book['land_area']:.2f}㎡" in line for line in plan)
    stream = pages[2].get_contents().get_data()
    edges = sum(len(polygon) for part in book["outline"].values() for polygon in part)
    assert len(LINE_TO.findall(stream)) >= edges - 2  # the polygons are paths (moveTo + lineTo …), not an image
    assert "/XObject" not in pages[2]["/Resources"]  # no embedded picture


def test_a_unit_without_a_recorded_outline_says_the_plan_is_kept_in_the_register(seeded: Flask) -> None:
    pages, book = issued(seeded, NO_OUTLINE_EVERY, "ownership")
    assert book["outline"] is None and book["land_area"] is None
    register, _, plan = (lines_of(p) for p in pages)
    assert register[register.index("面积") + 1] == f"房屋建筑面积 {book['area']:.2f}㎡"
    assert "附图存于不动产登记簿" in plan and "宗地图" not in plan
    assert LINE_TO.findall(pages[2].get_contents().get_data()) == []  # nothing drawn


def test_a_registration_proof_has_its_fields_in_order_and_the_plan(seeded: Flask) -> None:
    from app.demo import BANK

    pages, book = issued(seeded, 5, "mortgage")
    assert len(pages) == 2  # the proof keeps its 附记 in the table; the 附图 follows
    proof, plan = (lines_of(p) for p in pages)
    assert proof[0] == "不动产登记证明" and proof[1] == book["number"]
    positions = in_order(proof, PROOF_FIELDS)
    assert positions == sorted(positions)
    assert proof[positions[1] + 1] == BANK["name"]
    assert proof[positions[4] + 1] == book["unit_code"]
    remarks = "".join(proof[positions[6] + 1:])
    assert f"业务号：{book['business_no']}" in remarks
    assert "宗地图" in plan and "房产分户图" in plan
