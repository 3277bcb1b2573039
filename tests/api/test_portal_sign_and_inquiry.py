"""Before submission: the 询问笔录 (defined in business.yaml, validated, stored encrypted, shown to the clerk
and as PDFs), the 交易合同 (blank and filled online, attached as the contract material), the face check
through the face adapter and the e-signature (drawn or typed) that confirms the application."""
from __future__ import annotations

import hashlib
import io
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from support.forms import transfer_form
from support.servers import simulator_control
from test_portal_apply import drawn_png, photo_jpeg
from test_portal_pages import csrf, sign_in

from app.demo import ZHANG_SAN
from app.security.models import AuditEntry


def _draft(seeded: Any, login: Any) -> tuple[FlaskClient, str]:
    created = login("zhangsan").post("/api/v1/applications", json={
        "business_type": "transfer_resale", "form": transfer_form(location="杭州市文三路1号")})
    assert created.status_code == 201, created.get_json()
    seller = seeded.test_client()
    sign_in(seller, "zhangsan")
    return seller, created.get_json()["id"]


def test_the_guide_lists_the_inquiry_and_offers_the_blank_contract(client: FlaskClient) -> None:
    guide = client.get("/guide/transfer_resale").get_data(as_text=True)
    assert "询问笔录" in guide and "本次申请是否为申请人的真实意思表示？" in guide
    blank = client.get("/guide/transfer_resale/contract.pdf")
    assert blank.status_code == 200 and blank.data.startswith(b"%PDF") and blank.mimetype == "application/pdf"


def test_the_inquiry_is_answered_validated_flagged_and_printed(seeded: Any, login: Any, simulator: Any) -> None:
    seller, case_id = _draft(seeded, login)
    path = f"/my/applications/{case_id}/inquiry"
    partial = seller.post(path, data={"csrf_token": csrf(seller, path), "voluntary": "也许"})
    text = partial.get_data(as_text=True)
    assert partial.status_code == 422 and "请从选项中选择" in text
    summary = text.split('id="error-summary"')[1].split("</div>")[0]  # at the top, each linked to its question
    assert summary.count("请回答此项") == 4 and '<a href="#q-disputes">' in summary
    assert text.count("请回答此项") == 8  # and again beside each question

    api = login("zhangsan")
    answers = {"voluntary": "是", "co_owners_agree": "有其他共有人且均已同意", "disputes": "否", "price_true": "是",
               "remarks": "房屋目前出租，承租人已书面放弃优先购买权"}
    saved = api.client.put(f"/api/v1/applications/{case_id}/inquiry", headers=api.headers, json={"answers": answers})
    assert saved.status_code == 200, saved.get_json()
    flagged = {i["code"] for i in saved.get_json()["items"] if i["flag"]}
    assert flagged == {"co_owners_agree"}  # not what a clean case answers: the clerk must check it
    edit = seller.get(f"/my/applications/{case_id}/edit").get_data(as_text=True)
    assert "已完成" in edit and "查看笔录（PDF）" in edit
    pdf = seller.get(f"/my/applications/{case_id}/inquiry.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    clerk = seeded.test_client()
    sign_in(clerk, "xh_acceptor")
    page = clerk.get(f"/workbench/cases/{case_id}").get_data(as_text=True)
    assert "有其他共有人且均已同意" in page and "请核实" in page
    assert clerk.get(f"/workbench/cases/{case_id}/inquiry.pdf").data.startswith(b"%PDF")


def test_the_contract_is_filled_online_from_the_form_and_attached(seeded: Any, login: Any) -> None:
    incomplete = login("zhangsan").post("/api/v1/applications", json={
        "business_type": "transfer_resale", "form": transfer_form()}).get_json()["id"]
    seller, case_id = _draft(seeded, login)
    refused = seller.get(f"/my/applications/{incomplete}/contract.pdf")
    assert refused.status_code == 422 and "坐落" in refused.get_data(as_text=True)
    preview = seller.get(f"/my/applications/{case_id}/contract.pdf")
    assert preview.status_code == 200 and preview.data.startswith(b"%PDF")
    edit = f"/my/applications/{case_id}/edit"
    attached = seller.post(f"/my/applications/{case_id}/contract", data={"csrf_token": csrf(seller, edit)})
    assert attached.status_code == 302
    shown = login("zhangsan").get(f"/api/v1/applications/{case_id}").get_json()
    contracts = [m for m in shown["materials"] if m["code"] == "sale_contract"]
    assert len(contracts) == 1 and contracts[0]["content_type"] == "application/pdf"
    again = seller.post(f"/my/applications/{case_id}/contract", data={"csrf_token": csrf(seller, edit)})
    assert again.status_code == 302  # regenerated: still one contract
    shown = login("zhangsan").get(f"/api/v1/applications/{case_id}").get_json()
    assert [m["code"] for m in shown["materials"]].count("sale_contract") == 1


def test_signing_needs_a_passed_face_check_and_a_real_signature(seeded: Any, login: Any, simulator: Any) -> None:
    seller, case_id = _draft(seeded, login)
    edit = f"/my/applications/{case_id}/edit"
    early = seller.post(f"/my/applications/{case_id}/confirm",
                        data={"csrf_token": csrf(seller, edit), "pledge": "yes", "typed_name": ZHANG_SAN["name"],
                              "typed_confirm": "yes"})
    assert early.status_code == 422 and "请先完成人脸核验" in early.get_data(as_text=True)

    not_image = seller.post(f"/my/applications/{case_id}/face", content_type="multipart/form-data",
                            data={"csrf_token": csrf(seller, edit), "photo": (io.BytesIO(b"%PDF-1.4"), "x.pdf")})
    assert not_image.status_code == 422 and "JPG 或 PNG" in not_image.get_data(as_text=True)
    simulator_control(simulator, "face", "mismatch")
    try:
        other = seller.post(f"/my/applications/{case_id}/face", content_type="multipart/form-data",
                            data={"csrf_token": csrf(seller, edit), "photo": (io.BytesIO(photo_jpeg()), "me.jpg")})
    finally:
        simulator_control(simulator, "face", "ok")
    assert other.status_code == 422 and "人脸核验未通过" in other.get_data(as_text=True)
    passed = seller.post(f"/my/applications/{case_id}/face", content_type="multipart/form-data",
                         data={"csrf_token": csrf(seller, edit), "photo": (io.BytesIO(photo_jpeg()), "me.jpg")})
    assert passed.status_code == 302

    blank = seller.post(f"/my/applications/{case_id}/confirm", data={
        "csrf_token": csrf(seller, edit), "pledge": "yes", "signature_png": drawn_png(blank=True)})
    assert blank.status_code == 422 and "请在签名区内手写签名" in blank.get_data(as_text=True)
    wrong_name = seller.post(f"/my/applications/{case_id}/confirm",
                             data={"csrf_token": csrf(seller, edit), "pledge": "yes", "typed_name": "王五",
                                   "typed_confirm": "yes"})
    assert wrong_name.status_code == 422 and "与申请表一致的本人姓名" in wrong_name.get_data(as_text=True)
    unticked = seller.post(f"/my/applications/{case_id}/confirm",
                           data={"csrf_token": csrf(seller, edit), "pledge": "yes", "typed_name": ZHANG_SAN["name"]})
    assert unticked.status_code == 422
    signed = seller.post(f"/my/applications/{case_id}/confirm",
                         data={"csrf_token": csrf(seller, edit), "pledge": "yes", "signature_png": drawn_png()})
    assert signed.status_code == 302

    page = seller.get(edit).get_data(as_text=True)
    assert "已签名" in page and "手写签名" in page and f"/my/applications/{case_id}/signatures/seller.png" in page
    image = seller.get(f"/my/applications/{case_id}/signatures/seller.png")
    assert image.status_code == 200 and image.mimetype == "image/png"
    party = next(p for p in login("zhangsan").get(f"/api/v1/applications/{case_id}?unmask=1").get_json()["parties"]
                 if p["role"] == "seller")
    assert party["signed"] and party["face_checked"] and party["signature_kind"] == "drawn"
    assert party["signature_sha256"] == hashlib.sha256(image.data).hexdigest()
    assert seller.get(f"/my/applications/{case_id}/signatures/buyer.png").status_code == 404  # not signed yet
    with seeded.extensions["db"].unit_of_work() as session:
        entries = session.execute(select(AuditEntry).where(AuditEntry.object_id == case_id)
                                  .order_by(AuditEntry.seq)).scalars().all()
    signs = [e.after for e in entries if e.action == "case.sign"]
    assert signs == [{"role": "seller", "kind": "drawn", "sha256": party["signature_sha256"],
                      "content_sha256": party["signed_content_sha256"], "material_id": signs[0]["material_id"]}]
    faces = [e.after for e in entries if e.action == "case.face_check"]
    assert [f["passed"] for f in faces] == [False, True]  # the refused check is kept in the audit log too

    clerk = seeded.test_client()
    sign_in(clerk, "xh_acceptor")
    workbench = clerk.get(f"/workbench/cases/{case_id}").get_data(as_text=True)
    assert "手写签名" in workbench and "人脸核验通过" in workbench and party["signature_sha256"][:16] in workbench


def test_the_api_confirmation_is_an_account_signature(login: Any) -> None:
    seller = login("zhangsan")
    case_id = seller.post("/api/v1/applications",
                          json={"business_type": "transfer_resale", "form": transfer_form()}).get_json()["id"]
    shown = seller.post(f"/api/v1/applications/{case_id}/confirm").get_json()
    party = next(p for p in shown["parties"] if p["role"] == "seller")
    assert party["signed"] and party["signature_kind"] == "account" and len(party["signature_sha256"]) == 64


def test_changing_the_application_after_signing_asks_for_new_signatures(login: Any) -> None:
    seller = login("zhangsan")
    case_id = seller.post("/api/v1/applications",
                          json={"business_type": "transfer_resale", "form": transfer_form()}).get_json()["id"]
    seller.post(f"/api/v1/applications/{case_id}/confirm")
    same = seller.patch(f"/api/v1/applications/{case_id}", json={"form": {"price": 2_350_000}}).get_json()
    assert next(p for p in same["parties"] if p["role"] == "seller")["signed"]  # nothing changed
    changed = seller.patch(f"/api/v1/applications/{case_id}", json={"form": {"price": 2_000_000}}).get_json()
    assert not any(p["signed"] or p["confirmed"] for p in changed["parties"])
