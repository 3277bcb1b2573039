"""The invited co-applicant (issue 17): he sees what he is asked to sign read-only, his counterpart's personal
data masked and his own whole, and may change nothing (403 on every write, pages and API alike). Where the
type lets co-applicants edit (``co_applicants_edit``), the page says before saving whose signatures the edit
will void, and the edit texts the other signer (naming the editor) and puts "…修改了申请信息，…需重新签名" on
the timeline with its time."""
from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from portal_account_helpers import post_form, sms_outbox
from support.forms import PDF, transfer_form, upload_missing
from test_portal_pages import sign_in

from app.casefile.models import Case
from app.catalog import service
from app.demo import LI_SI, ZHANG_SAN
from app.security.masking import mask_id_number


def _signed_draft(login: Any) -> str:
    """张三's draft selling his flat to 李四, both signed (account signature)."""
    seller = login("zhangsan")
    created = seller.post("/api/v1/applications", json={"business_type": "transfer_resale", "form": transfer_form()})
    assert created.status_code == 201, created.get_json()
    case_id: str = created.get_json()["id"]
    upload_missing(seller, case_id)
    for username in ("zhangsan", "lisi"):
        assert login(username).post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    return case_id


def _page_of(seeded: Any, username: str) -> Any:
    client = seeded.test_client()
    sign_in(client, username)
    return client


def _confirmed(login: Any, case_id: str) -> dict[str, bool]:
    case = login("zhangsan").get(f"/api/v1/applications/{case_id}").get_json()
    return {p["role"]: p["confirmed"] for p in case["parties"]}


def _texts(simulator_url: str, phone: str) -> list[dict[str, Any]]:
    return [m for m in sms_outbox(simulator_url) if m["phone"] == phone and m["template"] == "case_content_changed"]


@pytest.fixture
def co_applicants_edit(seeded: Any) -> Any:
    """transfer_resale as a type whose co-applicants may edit: its cached definition with the flag set (the
    shipped definition keeps the default; parsing the flag is tested in tests/unit/test_definition_runtime.py)."""
    def enable(case_id: str) -> None:
        with seeded.extensions["db"].unit_of_work() as session:
            version_id = session.get(Case, case_id).process_version_id
            definition = service.definition_by_version(session, version_id)
        patch.setitem(service._definitions, version_id, dataclasses.replace(definition, co_applicants_edit=True))

    with pytest.MonkeyPatch.context() as patch:
        yield enable


def test_the_co_applicant_reads_his_counterpart_masked_and_may_change_nothing(
        login: Any, seeded: Any, simulator: Any) -> None:
    case_id = _signed_draft(login)
    buyer = _page_of(seeded, "lisi")
    page = buyer.get(f"/my/applications/{case_id}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="read-only"' in html and "申请表（可修改）" not in html and 'id="resign-notice"' not in html
    assert f'action="/my/applications/{case_id}/form"' not in html and 'name="file"' not in html
    assert ZHANG_SAN["id_number"] not in html and ZHANG_SAN["name"] not in html and ZHANG_SAN["phone"] not in html
    assert mask_id_number(ZHANG_SAN["id_number"]) in html  # the seller, masked
    assert LI_SI["id_number"] in html and LI_SI["name"] in html  # his own data, whole
    assert 'id="sign"' in html  # he reviews and signs

    edit = post_form(buyer, f"/my/applications/{case_id}/form", {"price": "1"})
    assert edit.status_code == 403 and "请联系创建人" in edit.get_data(as_text=True)
    upload = post_form(buyer, f"/my/applications/{case_id}/materials",
                       {"code": "sale_contract", "file": (io.BytesIO(PDF), "contract.pdf")},
                       content_type="multipart/form-data")
    assert upload.status_code == 403
    answers = {"voluntary": "否", "co_owners_agree": "无其他共有人", "disputes": "否", "price_true": "是",
               "remarks": "无"}
    assert post_form(buyer, f"/my/applications/{case_id}/inquiry", answers).status_code == 403
    inquiry_page = buyer.get(f"/my/applications/{case_id}/inquiry").get_data(as_text=True)
    assert 'id="inquiry-save"' not in inquiry_page
    steps = buyer.get(f"/my/applications/{case_id}/steps/info")
    assert steps.status_code == 302 and steps.headers["Location"].endswith(f"/my/applications/{case_id}/edit")

    api_buyer = login("lisi")
    refused = api_buyer.client.put(f"/api/v1/applications/{case_id}/inquiry", json={"answers": answers},
                                   headers=api_buyer.headers)
    assert refused.status_code == 403 and refused.get_json()["code"] == "creator_only"
    assert _confirmed(login, case_id) == {"seller": True, "buyer": True}  # nothing changed
    assert _texts(simulator.url, ZHANG_SAN["phone"]) == []


def test_where_co_applicants_may_edit_the_seller_is_texted_and_the_timeline_says_who_and_when(
        login: Any, seeded: Any, simulator: Any, co_applicants_edit: Any) -> None:
    case_id = _signed_draft(login)
    co_applicants_edit(case_id)
    buyer = _page_of(seeded, "lisi")
    html = buyer.get(f"/my/applications/{case_id}/edit").get_data(as_text=True)
    assert "申请表（可修改）" in html and 'id="read-only"' not in html
    assert "转让方（张*）已签名确认，保存修改后其签名失效，将收到短信通知，须重新签名确认；您本人也须重新签名" in html

    before = datetime.now(UTC).replace(microsecond=0)
    saved = post_form(buyer, f"/my/applications/{case_id}/form", {"price": "2300000"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:800]
    assert _confirmed(login, case_id) == {"seller": False, "buyer": False}

    [text] = _texts(simulator.url, ZHANG_SAN["phone"])
    assert text["params"]["changes"] == "成交价格（元）：2350000 → 2300000"
    assert text["params"]["editor"] == "受让方（李*）" and text["params"]["role"] == "转让方"
    assert _texts(simulator.url, LI_SI["phone"]) == []  # he made the change

    events = login("zhangsan").get(f"/api/v1/applications/{case_id}/progress").get_json()["events"]
    [event] = [e for e in events if e["kind"] == "content_changed"]
    assert event["message"] == ("受让方（李*）修改了申请信息，转让方、受让方需重新签名。"
                                "修改内容：成交价格（元）：2350000 → 2300000")
    at = datetime.fromisoformat(event["at"])
    assert (at if at.tzinfo else at.replace(tzinfo=UTC)) >= before  # when: the event's own time
    seller_page = _page_of(seeded, "zhangsan").get(f"/my/applications/{case_id}").get_data(as_text=True)
    assert "受让方（李*）修改了申请信息，转让方、受让方需重新签名" in seller_page
    assert login("zhangsan").post(f"/api/v1/applications/{case_id}/submit").status_code == 409


def test_the_author_is_told_before_saving_that_the_others_will_sign_again(login: Any, seeded: Any) -> None:
    case_id = _signed_draft(login)
    seller = _page_of(seeded, "zhangsan")
    for path in (f"/my/applications/{case_id}/edit", f"/my/applications/{case_id}/steps/info"):
        html = seller.get(path).get_data(as_text=True)
        assert "受让方（李*）已签名确认，保存修改后其签名失效" in html, path
    materials = seller.get(f"/my/applications/{case_id}/edit").get_data(as_text=True)
    assert "受让方（李*）已签名确认，上传或删除材料后其签名失效" in materials  # uploads void signatures too
