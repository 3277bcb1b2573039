"""缮证 issues a signed certificate read from the register book; a later transfer revokes it; anyone can
verify it by its QR code; only the holder and the office's staff can download it."""
from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from pypdf import PdfReader
from support.cases import complete_stage
from support.forms import transfer_form, upload_missing

TITLE_NO = re.compile(r"^浙\((\d{4})\)西湖区不动产权第(\d{7})号$")
PROOF_NO = re.compile(r"^浙\((\d{4})\)西湖区不动产证明第(\d{7})号$")
STAGES = [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿"), ("xh_certifier", "缮证")]


def finish(login: Any, business_no: str) -> None:
    for username, stage in STAGES:
        resp = complete_stage(login(username), business_no, stage)
        assert resp.status_code == 200, resp.get_json()


def certificate_of(api: Any, case_id: str) -> dict[str, Any]:
    certs = api.get(f"/api/v1/applications/{case_id}").get_json()["certificates"]
    assert len(certs) == 1, certs
    return certs[0]


def verify_code_of(app: Flask, certificate_id: str) -> str:
    from app.registry.models import Certificate

    with app.extensions["db"].unit_of_work() as session:
        return session.get_one(Certificate, certificate_id).verify_code


def transfer_back_to_zhangsan(login: Any, unit_code: str) -> str:
    from app.demo import ZHANG_SAN

    seller, buyer = login("lisi"), login("zhangsan")
    form = transfer_form(unit_code=unit_code, buyer_name=ZHANG_SAN["name"], buyer_id_number=ZHANG_SAN["id_number"],
                         contract_no="WQ2026-000456")
    created = seller.post("/api/v1/applications", json={"business_type": "transfer_resale", "form": form})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(seller, case_id)
    for api in (seller, buyer):
        assert api.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    submitted = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    finish(login, submitted.get_json()["business_no"])
    return case_id


def test_a_completed_transfer_issues_a_signed_title_certificate_that_says_what_the_register_says(
        seeded: Flask, login: Any, submitted_transfer: dict) -> None:
    from app.identifiers import format_unit_code
    from app.registry.models import RealtyUnit, Right
    from app.registry.signing import trust_root, validate_certificate_pdf

    office_root = trust_root(seeded.extensions["signing_keys"])  # the verifier's shipped root

    finish(login, submitted_transfer["business_no"])
    cert = certificate_of(login("lisi"), submitted_transfer["id"])
    assert cert["kind"] == "title" and cert["status"] == "valid"
    assert TITLE_NO.match(cert["number"]), cert["number"]

    resp = login("lisi").get(f"/api/v1/certificates/{cert['id']}/pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    pdf = resp.data
    ok, details = validate_certificate_pdf(pdf, root=office_root)
    assert ok, details

    with seeded.extensions["db"].unit_of_work() as session:
        right = session.query(Right).filter_by(business_no=submitted_transfer["business_no"]).one()
        unit = session.get_one(RealtyUnit, right.unit_id)
        assert right.cert_no == cert["number"]
        book = {"number": cert["number"], "unit_code": format_unit_code(unit.unit_code), "location": unit.location,
                "holder": right.holders[0].name, "share_mode": right.holders[0].share_mode,
                "id_number": right.holders[0].id_number, "business_no": right.business_no,
                "area": f"共有宗地面积 {unit.land_area_m2:.2f}㎡ / 房屋建筑面积 {unit.area_m2:.2f}㎡"}
    register, remarks, plan = (page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    lines = [line.strip() for line in register.splitlines()]
    assert "不动产权证书" in lines and book["number"] in lines
    assert lines[lines.index("权利人") + 1] == book["holder"] == "李四"
    assert lines[lines.index("共有情况") + 1] == book["share_mode"]
    assert lines[lines.index("坐落") + 1] == book["location"]
    assert lines[lines.index("不动产单元号") + 1] == book["unit_code"]
    assert lines[lines.index("面积") + 1] == book["area"]
    assert "杭州市西湖区不动产登记中心" in register
    notes = [line.strip() for line in remarks.splitlines()]  # the 附记 page: what the book records beside it
    assert f"业务号：{book['business_no']}" in notes and f"权利人：李四，身份证：{book['id_number']}" in notes
    assert "宗地图" in plan and "房产分户图" in plan  # the 附图, drawn from the unit's outline


def test_a_certificate_changed_after_signing_is_invalid(seeded: Flask, login: Any, submitted_transfer: dict) -> None:
    from app.registry.signing import trust_root, validate_certificate_pdf

    office_root = trust_root(seeded.extensions["signing_keys"])  # the verifier's shipped root

    finish(login, submitted_transfer["business_no"])
    cert = certificate_of(login("lisi"), submitted_transfer["id"])
    pdf = bytearray(login("lisi").get(f"/api/v1/certificates/{cert['id']}/pdf").data)
    start, length = (int(n) for n in re.search(rb"/ByteRange \[\s*(\d+)\s+(\d+)", pdf).groups())  # type: ignore[union-attr]
    assert start == 0 and length > 1000
    pdf[length // 2] ^= 0x01  # one bit inside the signed range
    ok, details = validate_certificate_pdf(bytes(pdf), root=office_root)
    assert not ok and details["intact"] is False
    assert validate_certificate_pdf(b"%PDF-1.4 not really", root=office_root)[0] is False


def test_verification_shows_valid_then_revoked_once_the_unit_is_transferred_again(
        seeded: Flask, client: Any, login: Any, submitted_transfer: dict) -> None:
    finish(login, submitted_transfer["business_no"])
    first = certificate_of(login("lisi"), submitted_transfer["id"])
    code = verify_code_of(seeded, first["id"])

    shown = client.get("/api/v1/certificates/verify", query_string={"code": code}).get_json()
    assert shown["status"] == "valid" and shown["number"] == first["number"]
    assert shown["holders"] == ["李*"] and shown["kind"] == "title"
    assert shown["unit_code"].replace(" ", "") == submitted_transfer["unit_code"]
    page = client.get(f"/verify/{code}")
    assert page.status_code == 200 and "有效" in page.text and "李*" in page.text and "李四" not in page.text

    second_case = transfer_back_to_zhangsan(login, submitted_transfer["unit_code"])
    second = certificate_of(login("zhangsan"), second_case)
    assert int(TITLE_NO.match(second["number"])[2]) == int(TITLE_NO.match(first["number"])[2]) + 1  # type: ignore[index]

    shown = client.get("/api/v1/certificates/verify", query_string={"code": code}).get_json()
    assert shown["status"] == "revoked" and shown["status_label"] == "已注销"
    assert "已注销" in client.get(f"/verify/{code}").text
    assert certificate_of(login("lisi"), submitted_transfer["id"])["status"] == "revoked"
    assert certificate_of(login("zhangsan"), second_case)["status"] == "valid"


def test_an_unknown_code_is_reported_as_unknown(client: Any) -> None:
    assert client.get("/api/v1/certificates/verify", query_string={"code": "NOSUCHCODE"}).get_json() == \
        {"status": "unknown", "status_label": "未找到"}
    page = client.get("/verify/NOSUCHCODE")
    assert page.status_code == 200 and "未找到" in page.text


def test_the_pdf_is_downloadable_by_the_holder_and_the_office_only(client: Any, login: Any,
                                                                  submitted_transfer: dict) -> None:
    finish(login, submitted_transfer["business_no"])
    cert = certificate_of(login("lisi"), submitted_transfer["id"])
    path = f"/api/v1/certificates/{cert['id']}/pdf"
    assert login("lisi").get(path).status_code == 200
    assert login("xh_acceptor").get(path).status_code == 200
    assert login("zhangsan").get(path).status_code == 404  # the seller no longer holds it
    assert login("yh_certifier").get(path).status_code == 404  # another district's clerk
    assert login("bank").get(path).status_code == 404
    assert client.get(path).status_code == 401


def test_a_first_mortgage_issues_a_registration_proof(seeded: Flask, login: Any) -> None:
    from app.demo import BANK
    from app.identifiers import make_unit_code
    from app.registry.signing import trust_root, validate_certificate_pdf

    office_root = trust_root(seeded.extensions["signing_keys"])  # the verifier's shipped root

    owner, bank = login("zhangsan"), login("bank")
    form = {"unit_code": make_unit_code("330106", 1, 1, "GB", 100, 1, 102),
            "cert_no": "浙(2015)西湖区不动产权第0000002号", "use": "住宅", "mortgagee_name": BANK["name"],
            "mortgagee_uscc": BANK["id_number"],
            "mortgage_kind": "一般抵押", "debt_amount": 1_200_000, "debt_start": "2026-12-01",
            "debt_end": "2046-11-30", "guarantee_scope": "主债权及利息", "transfer_restricted": False,
            "contract_no": "DY2026-0099"}
    created = owner.post("/api/v1/applications", json={"business_type": "mortgage_first", "form": form})
    case_id = created.get_json()["id"]
    upload_missing(owner, case_id)
    for api in (owner, bank):
        assert api.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    finish(login, owner.post(f"/api/v1/applications/{case_id}/submit").get_json()["business_no"])

    cert = certificate_of(owner, case_id)
    assert cert["kind"] == "proof" and PROOF_NO.match(cert["number"]), cert
    pdf = bank.get(f"/api/v1/certificates/{cert['id']}/pdf")
    assert pdf.status_code == 200
    assert validate_certificate_pdf(pdf.data, root=office_root)[0]
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "不动产登记证明" in text and "抵押权" in text and BANK["name"] in text
    assert "1200000.00元" in text and "张三" in text  # the owner is the 义务人
    assert owner.get(f"/api/v1/certificates/{cert['id']}/pdf").status_code == 404  # the bank holds the proof
