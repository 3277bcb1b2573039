"""Verification service tasks after submission: snapshots with per-field marks, and the materials they waive."""
from __future__ import annotations

from typing import Any

from helpers import draft_transfer, verifications
from support.cases import complete_stage
from support.servers import simulator_control


def test_a_transfer_needs_no_identity_contract_or_tax_upload_when_the_departments_confirm(
        login: Any) -> None:
    seller, buyer = login("zhangsan"), login("lisi")
    draft = seller.get("/api/v1/applications").get_json()["items"]
    assert draft == []
    case_id = draft_transfer(seller, buyer)
    case = seller.get(f"/api/v1/applications/{case_id}").get_json()
    uploaded = {m["code"] for m in case.get("materials", [])}
    assert not uploaded & {"seller_identity", "buyer_identity", "sale_contract", "tax_voucher"}
    assert case["materials_deferred"] == ["buyer_identity", "sale_contract", "seller_identity", "tax_voucher"]

    resp = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 200, resp.get_json()
    found = verifications(seller, case_id)
    by_source = {(s["source"], s["subject_role"]): s for s in found["items"]}
    identity = by_source[("identity", "buyer")]
    assert identity["department"] == "公安" and identity["result"] == "一致"
    assert {f["label"]: f["mark"] for f in identity["fields"]} == {"姓名": "一致", "公民身份号码": "一致"}
    assert identity["fields"][0]["declared"] == "李*"  # personal data masked in the listing
    contract = by_source[("contract", None)]
    assert contract["result"] == "一致" and len(contract["fields"]) == 8
    waived = {w["code"]: w for w in found["waivers"]}
    assert {"seller_identity", "buyer_identity", "sale_contract"} <= set(waived)
    assert "公安部门身份核验一致" in waived["buyer_identity"]["reason"]
    assert seller.get(f"/api/v1/applications/{case_id}").get_json()["materials_missing"] == []


def test_the_clerk_downloads_a_printable_snapshot(login: Any, submitted_transfer: dict) -> None:
    import io

    from pypdf import PdfReader

    acceptor = login("xh_acceptor")
    items = verifications(acceptor, submitted_transfer["id"])["items"]
    tax = next(s for s in items if s["source"] == "tax")
    resp = acceptor.get(f"/api/v1/applications/{submitted_transfer['id']}/verifications/{tax['id']}/pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(resp.data)).pages[0].extract_text()
    assert "部门共享信息核验记录" in text and "税务" in text and "一致" in text
    assert submitted_transfer["business_no"] in text


def test_a_wrong_name_for_an_id_number_blocks_submission_with_a_clear_message(login: Any, seeded: Any) -> None:
    seller, buyer = login("zhangsan"), login("lisi")
    case_id = draft_transfer(seller, buyer)
    assert seller.patch(f"/api/v1/applications/{case_id}", json={"form": {"buyer_name": "李五"}}).status_code == 200
    assert seller.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200  # changed: signed again
    assert buyer.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200  # same ID number, so it is 李四
    resp = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 422, resp.get_json()
    problem = resp.get_json()
    assert problem["code"] == "identity_mismatch"
    assert problem["detail"] == "受让方身份核验不一致：姓名与公民身份号码不符（公安部门核验），请核对后重新提交"
    assert problem["errors"] == {"buyer_name": [problem["detail"]]}
    case = seller.get(f"/api/v1/applications/{case_id}").get_json()
    assert case["status"] == "draft" and case["business_no"] is None  # nothing was submitted


def test_an_identity_mismatch_from_the_department_blocks_and_is_logged(login: Any, seeded: Any,
                                                                     simulator: Any) -> None:
    seller, buyer = login("zhangsan"), login("lisi")
    case_id = draft_transfer(seller, buyer)
    simulator_control(simulator, "gongan", "mismatch")
    resp = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["code"] == "identity_mismatch"
    assert "身份核验不一致" in resp.get_json()["detail"]
    assert seller.get(f"/api/v1/applications/{case_id}").get_json()["status"] == "draft"
    calls = login("admin").get("/api/v1/interfaces/calls", query_string={"interface": "gongan"}).get_json()["items"]
    assert calls and calls[0]["operation"] == "identity.verify" and calls[0]["outcome"] == "ok"
    assert calls[0]["case_id"] == case_id and "*" in calls[0]["request"]["id_number"]


def test_a_contract_mismatch_is_marked_and_the_contract_stays_required(login: Any, seeded: Any,
                                                                     simulator: Any) -> None:
    seller, buyer = login("zhangsan"), login("lisi")
    case_id = draft_transfer(seller, buyer)
    simulator_control(simulator, "zhujian", "mismatch")
    resp = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 200, resp.get_json()
    found = verifications(login("xh_acceptor"), case_id)
    contract = next(s for s in found["items"] if s["source"] == "contract")
    marks = {f["label"]: f["mark"] for f in contract["fields"]}
    assert contract["result"] == "不一致" and marks["成交价格（元）"] == "不一致" and marks["网签合同编号"] == "一致"
    assert "sale_contract" not in {w["code"] for w in found["waivers"]}
    business_no = resp.get_json()["business_no"]
    assert complete_stage(login("xh_acceptor"), business_no, "受理", decision="correct",
                          correction_items=["网签合同成交价格与住建备案不一致，请上传买卖合同"]).status_code == 200
    assert seller.get(f"/api/v1/applications/{case_id}").get_json()["materials_missing"] == ["sale_contract"]


def test_a_declared_marriage_confirmed_by_civil_affairs_waives_the_marriage_certificate(login: Any) -> None:
    seller, buyer = login("zhangsan"), login("lisi")
    case_id = draft_transfer(seller, buyer, seller_marital_status="已婚", buyer_marital_status="未婚")
    assert seller.post(f"/api/v1/applications/{case_id}/submit").status_code == 200
    found = verifications(seller, case_id)
    marriage = {s["subject_role"]: s["result"] for s in found["items"] if s["source"] == "marriage"}
    assert marriage == {"seller": "一致", "buyer": "一致"}
    assert "marriage_certificate" in {w["code"] for w in found["waivers"]}
