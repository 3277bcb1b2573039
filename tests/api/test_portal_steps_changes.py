"""Going back inside the step-by-step application (issue 17) without JavaScript: the applicant changes the
chosen unit after having gone further (told what that did to his answers, the rest kept) and deletes an
uploaded material on its page to upload it again; 核对's 修改 links lead there and back to 核对."""
from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient
from support.cases import complete_stage
from support.forms import scan_jpeg, transfer_form
from test_portal_apply import drawn_png, photo_jpeg, unit
from test_portal_pages import sign_in
from test_portal_steps import post

from app.casefile.models import Case
from app.identifiers import make_unit_code


def draft_with_contract(seeded: Any, login: Any) -> tuple[FlaskClient, str]:
    """张三's sale of unit 1, its 申请信息 filled (原证书号 typed), the 不动产权证书 uploaded, the contract
    generated and his own signature given."""
    created = login("zhangsan").post("/api/v1/applications", json={
        "business_type": "transfer_resale", "form": transfer_form(cert_no="浙（2020）杭州市不动产权第0000101号",
                                                                   location="杭州市文三路101号")})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    seller = seeded.test_client()
    sign_in(seller, "zhangsan")
    steps = f"/my/applications/{case_id}/steps"
    uploaded = post(seller, f"{steps}/material-title_certificate", {"file": (io.BytesIO(scan_jpeg()), "cert.jpg")},
                    content_type="multipart/form-data")
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[-1500:]
    assert post(seller, f"{steps}/contract", {}).status_code == 302
    assert post(seller, f"{steps}/face", {"photo": (io.BytesIO(photo_jpeg()), "me.jpg")},
                content_type="multipart/form-data").status_code == 302
    assert post(seller, f"{steps}/sign", {"signature_png": drawn_png(), "pledge": "yes"}).status_code == 302
    return seller, case_id


def stored(seeded: Any, case_id: str) -> tuple[dict[str, Any], list[str], list[bool]]:
    with seeded.extensions["db"].unit_of_work() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return dict(case.form_data), sorted(m.code for m in case.materials), [p.signed_at is not None
                                                                              for p in case.parties]


def test_the_applicant_changes_the_unit_after_going_further(seeded: Any, login: Any) -> None:
    seller, case_id = draft_with_contract(seeded, login)
    steps = f"/my/applications/{case_id}/steps"
    form, codes, _ = stored(seeded, case_id)
    assert "sale_contract" in codes and "title_certificate" in codes

    check = seller.get(f"{steps}/check").get_data(as_text=True)
    assert f'href="{steps}/unit?return_to=check">修改<span class="visually-hidden">不动产</span>' in check
    page = seller.get(f"{steps}/unit?return_to=check").get_data(as_text=True)
    assert f'id="step-back" href="{steps}/check"' in page  # coming from 核对, back leads there
    assert f'name="pick" value="{unit(2)}"' in page and f'name="pick" value="{unit(1)}"' not in page  # his others
    assert 'id="resign-notice"' in page  # said before: his signature goes with the change
    assert f'href="{steps}/material-title_certificate?return_to=check">不动产权证书' in page

    seized = post(seller, f"{steps}/unit", {"pick": unit(4), "return_to": "check"})
    html = seized.get_data(as_text=True)
    assert seized.status_code == 422 and '<a href="#unit_code">' in html and "已被查封" in html
    elsewhere = make_unit_code("330110", 1, 1, "GB", 100, 1, 101)  # 余杭区: another office's
    other = post(seller, f"{steps}/unit", {"unit_code": elsewhere, "return_to": "check"})
    assert other.status_code == 422 and "不属于本申请的办理辖区" in other.get_data(as_text=True)
    assert stored(seeded, case_id)[0]["unit_code"] == unit(1)  # nothing changed by a refusal

    changed = post(seller, f"{steps}/unit", {"pick": unit(2), "return_to": "check"})
    assert changed.status_code == 302 and changed.headers["Location"] == f"{steps}/check"
    after, codes, signed = stored(seeded, case_id)
    assert after["unit_code"] == unit(2) and after["location"] != form["location"] and "102" in after["location"]
    assert "cert_no" not in after  # the old unit's certificate number is not carried over
    assert {k: after[k] for k in ("buyer_name", "price", "contract_no")} == {
        k: form[k] for k in ("buyer_name", "price", "contract_no")}  # what stays valid is kept
    assert "sale_contract" not in codes and "title_certificate" in codes  # the contract named the old unit
    assert not any(signed)  # the content changed: signatures void
    told = seller.get(f"{steps}/check").get_data(as_text=True)
    for said in ("已更换为", "坐落、房屋用途已按登记簿更新", "原不动产权证书号属原不动产，已清空",
                 "合同已删除，请重新生成", "已上传的材料仍保留（不动产权证书）"):
        assert said in told, told[told.find("已更换为"):][:400]
    assert unit(2) in told
    same = post(seller, f"{steps}/unit", {"pick": unit(2)})  # the same unit again: nothing to change
    assert same.status_code == 302 and same.headers["Location"] == f"{steps}/parties"


def test_an_uploaded_material_is_deleted_on_its_page(seeded: Any, login: Any) -> None:
    seller, case_id = draft_with_contract(seeded, login)
    steps = f"/my/applications/{case_id}/steps"
    check = seller.get(f"{steps}/check").get_data(as_text=True)
    path = f"{steps}/material-title_certificate"
    assert f'href="{path}?return_to=check">修改' in check
    page = seller.get(f"{path}?return_to=check").get_data(as_text=True)
    assert f'id="step-back" href="{steps}/check"' in page and "cert.jpg" in page
    with seeded.extensions["db"].unit_of_work() as session:
        case = session.get(Case, case_id)
        assert case is not None
        material_id = next(m.id for m in case.materials if m.code == "title_certificate")
        contract_id = next(m.id for m in case.materials if m.code == "sale_contract")
    assert f'name="remove" value="{material_id}"' in page
    wrong = post(seller, path, {"remove": contract_id, "return_to": "check"})  # another material's id
    assert wrong.status_code == 422 and "材料不存在或已删除" in wrong.get_data(as_text=True)
    removed = post(seller, path, {"remove": material_id, "return_to": "check"})
    assert removed.status_code == 302 and removed.headers["Location"] == f"{path}?return_to=check"
    form, codes, signed = stored(seeded, case_id)
    assert "title_certificate" not in codes and "sale_contract" in codes and not any(signed)
    page = seller.get(removed.headers["Location"]).get_data(as_text=True)
    assert "材料已删除，可重新上传" in page and "cert.jpg" not in page
    again = post(seller, path, {"file": (io.BytesIO(scan_jpeg()), "cert-2.jpg"), "return_to": "check"},
                 content_type="multipart/form-data")
    assert again.status_code == 302 and again.headers["Location"] == f"{steps}/check"  # replaced, back to 核对
    assert "title_certificate" in stored(seeded, case_id)[1]


def test_a_case_in_correction_keeps_its_unit(seeded: Any, login: Any, submitted_transfer: dict) -> None:
    """补正: the office accepted the case for its unit; the steps show it but offer no change."""
    case_id = submitted_transfer["id"]
    assert complete_stage(login("xh_acceptor"), submitted_transfer["business_no"], "受理", "correct",
                          correction_items=["请补充不动产权证书清晰扫描件"]).status_code == 200
    seller = seeded.test_client()
    sign_in(seller, "zhangsan")
    steps = f"/my/applications/{case_id}/steps"
    page = seller.get(f"{steps}/unit").get_data(as_text=True)
    assert 'id="change-unit"' not in page and "补正时不能更换不动产" in page
    refused = post(seller, f"{steps}/unit", {"pick": unit(2)})
    assert refused.status_code == 409 and "补正时不能更换不动产" in refused.get_data(as_text=True)
    assert stored(seeded, case_id)[0]["unit_code"] == unit(1)
