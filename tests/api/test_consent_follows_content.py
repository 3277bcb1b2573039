"""Nothing a party signed can change without that party signing again (issue 13 §1).

A change of the form, the parties, the unit or the materials after a party confirmed — in a draft, in 补正,
by a material upload or by a clerk's field correction — voids the confirmations; submission, resubmission
and 登簿 refuse with 409 ``confirmation_required`` naming who must sign again; each party is told field by
field (timeline + SMS) and signs again; then the case goes on."""
from __future__ import annotations

import io
from typing import Any

import pytest
from portal_account_helpers import sms_outbox
from sqlalchemy import select
from support.cases import complete_stage, take_through
from support.forms import PDF, transfer_form, upload_material, upload_missing
from support.personas import PASSWORD
from test_portal_pages import sign_in

from app.demo import LI_SI, ZHANG_SAN
from app.identity.service import create_user
from app.security.models import AuditEntry
from simulator.data import WANG_FANG


@pytest.fixture
def wangfang(seeded: Any) -> None:
    """王芳, a verified applicant who is not a party of the transfer until the seller names her buyer."""
    with seeded.extensions["db"].unit_of_work() as session:
        create_user(session, username="wangfang", password=PASSWORD, roles=["applicant"], real_name=WANG_FANG["name"],
                    id_number=WANG_FANG["id_number"], phone=WANG_FANG["phone"])


def _case(api: Any, case_id: str) -> dict[str, Any]:
    return api.get(f"/api/v1/applications/{case_id}").get_json()  # type: ignore[no-any-return]


def _parties(api: Any, case_id: str) -> dict[str, dict[str, Any]]:
    return {p["role"]: p for p in _case(api, case_id)["parties"]}


def _changes(api: Any, case_id: str) -> list[str]:
    events = api.get(f"/api/v1/applications/{case_id}/progress").get_json()["events"]
    return [e["message"] for e in events if e["kind"] == "content_changed"]


def _texts(simulator_url: str, phone: str) -> list[dict[str, Any]]:
    return [m for m in sms_outbox(simulator_url) if m["phone"] == phone and m["template"] == "case_content_changed"]


def _signed_draft(login: Any) -> str:
    seller, buyer = login("zhangsan"), login("lisi")
    created = seller.post("/api/v1/applications", json={"business_type": "transfer_resale", "form": transfer_form()})
    assert created.status_code == 201, created.get_json()
    case_id: str = created.get_json()["id"]
    upload_missing(seller, case_id)
    for party in (seller, buyer):
        assert party.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    return case_id


def test_a_price_change_in_correction_voids_both_signatures_until_both_sign_again(
        login: Any, seeded: Any, simulator: Any, submitted_transfer: dict) -> None:
    no, case_id = submitted_transfer["business_no"], submitted_transfer["id"]
    signed = _parties(login("zhangsan"), case_id)
    assert {p["signed_content_sha256"] for p in signed.values()} != {None}
    take_through(login, no, ("受理",))
    assert complete_stage(login("xh_reviewer"), no, "审核", "correct",
                          correction_items=["请核对成交价格"]).status_code == 200

    seller = login("zhangsan")
    assert seller.patch(f"/api/v1/applications/{case_id}", json={"form": {"price": 1}}).status_code == 200
    parties = _parties(seller, case_id)
    for party in parties.values():  # no longer "已确认" with the old signature hash
        assert not party["confirmed"] and not party["signed"] and party["confirmation_voided"]
        assert party["signature_sha256"] is None and party["signed_content_sha256"] is None

    refused = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 409, refused.get_json()
    body = refused.get_json()
    assert body["code"] == "confirmation_required"
    assert "转让方（张*）" in body["detail"] and "受让方（李*）" in body["detail"]
    assert _case(seller, case_id)["status"] == "correcting"

    assert _changes(seller, case_id) == [
        "转让方（张*）修改了申请信息，转让方、受让方需重新签名。修改内容：成交价格（元）：2350000 → 1"]
    told = _texts(simulator.url, LI_SI["phone"])
    assert [t["params"]["changes"] for t in told] == ["成交价格（元）：2350000 → 1"]
    assert told[0]["params"]["business_no"] == no and told[0]["params"]["role"] == "受让方"
    assert _texts(simulator.url, ZHANG_SAN["phone"]) == []  # he made the change himself

    for party in (seller, login("lisi")):
        assert party.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    resubmitted = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert resubmitted.status_code == 200, resubmitted.get_json()
    assert resubmitted.get_json()["status"] == "accepting"
    renewed = _parties(seller, case_id)
    assert renewed["seller"]["signed_content_sha256"] == renewed["buyer"]["signed_content_sha256"]
    assert renewed["seller"]["signed_content_sha256"] != signed["seller"]["signed_content_sha256"]

    clerk = seeded.test_client()
    sign_in(clerk, "xh_acceptor")
    page = clerk.get(f"/workbench/cases/{case_id}").get_data(as_text=True)
    assert "自上次受理/审核以来申请内容的变更" in page and "成交价格（元）：2350000 → 1" in page
    with seeded.extensions["db"].unit_of_work() as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "case.content_changed")).scalar_one()
        assert entry.after["voided"] == ["buyer", "seller"] and entry.before["sha256"] != entry.after["sha256"]


def test_replacing_the_buyer_in_a_draft_is_refused_at_submission_naming_who_must_sign(
        login: Any, simulator: Any, wangfang: None) -> None:
    case_id = _signed_draft(login)
    seller = login("zhangsan")
    changed = seller.patch(f"/api/v1/applications/{case_id}", json={"form": {
        "buyer_name": WANG_FANG["name"], "buyer_id_number": WANG_FANG["id_number"]}})
    assert changed.status_code == 200, changed.get_json()

    refused = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 409 and refused.get_json()["code"] == "confirmation_required"
    assert "转让方（张*）" in refused.get_json()["detail"] and "受让方（王*）" in refused.get_json()["detail"]
    [message] = _changes(seller, case_id)
    assert message.startswith("转让方（张*）修改了申请信息，转让方、受让方需重新签名。"
                              "修改内容：受让方姓名：李* → 王*；受让方身份证号：")
    assert WANG_FANG["id_number"] not in message and LI_SI["id_number"] not in message  # masked
    assert [t["params"]["role"] for t in _texts(simulator.url, LI_SI["phone"])] == ["受让方"]  # the replaced buyer
    assert login("lisi").get(f"/api/v1/applications/{case_id}").status_code == 404

    for username in ("zhangsan", "wangfang"):
        assert login(username).post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    assert seller.post(f"/api/v1/applications/{case_id}/submit").status_code == 200


def test_a_material_uploaded_after_signing_voids_the_signatures(login: Any) -> None:
    case_id = _signed_draft(login)
    seller = login("zhangsan")
    upload_material(seller, case_id, "sale_contract")
    assert not any(p["confirmed"] for p in _parties(seller, case_id).values())
    assert _changes(seller, case_id) == [
        "转让方（张*）修改了申请信息，转让方、受让方需重新签名。修改内容：上传材料：存量房买卖合同（网签备案）"]
    refused = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 409 and refused.get_json()["code"] == "confirmation_required"


def test_an_unchanged_save_keeps_the_signatures(login: Any) -> None:
    case_id = _signed_draft(login)
    seller = login("zhangsan")
    assert seller.patch(f"/api/v1/applications/{case_id}", json={"form": {"price": 2_350_000}}).status_code == 200
    assert all(p["confirmed"] for p in _parties(seller, case_id).values())
    assert _changes(seller, case_id) == []
    assert seller.post(f"/api/v1/applications/{case_id}/submit").status_code == 200


def test_a_clerks_field_correction_voids_the_signatures_and_recording_waits_for_both(
        login: Any, seeded: Any, simulator: Any, wangfang: None, submitted_transfer: dict) -> None:
    no, case_id = submitted_transfer["business_no"], submitted_transfer["id"]
    take_through(login, no, ("受理",))
    reviewer = login("xh_reviewer")
    task = reviewer.get("/api/v1/tasks", query_string={"business_no": no, "stage": "审核"}).get_json()["items"][0]
    assert reviewer.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    corrected = reviewer.patch(f"/api/v1/applications/{case_id}/fields", json={"form": {"price": 2_400_000}})
    assert corrected.status_code == 200, corrected.get_json()
    assert not any(p["confirmed"] for p in corrected.get_json()["parties"])
    assert {t["params"]["role"] for t in _texts(simulator.url, ZHANG_SAN["phone"]) + _texts(
        simulator.url, LI_SI["phone"])} == {"转让方", "受让方"}
    assert complete_stage(reviewer, no, "审核").status_code == 200
    buyer_page = seeded.test_client()
    sign_in(buyer_page, "lisi")
    assert 'id="resign"' in buyer_page.get(f"/my/applications/{case_id}").get_data(as_text=True)
    page = buyer_page.get(f"/my/applications/{case_id}/edit").get_data(as_text=True)
    assert "成交价格（元）：2350000 → 2400000" in page and 'id="sign-form"' in page  # he signs again online

    refused = complete_stage(login("xh_recorder"), no, "登簿")
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["code"] == "confirmation_required"
    assert "转让方（张*）" in refused.get_json()["detail"]
    assert _case(login("zhangsan"), case_id)["status"] == "recording"  # nothing written

    never_voided = login("wangfang").post(f"/api/v1/applications/{case_id}/confirm")
    assert never_voided.status_code == 404  # not a party: nothing to see
    for username in ("zhangsan", "lisi"):
        assert login(username).post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    again = login("zhangsan").post(f"/api/v1/applications/{case_id}/confirm")
    assert again.status_code == 409 and again.get_json()["code"] == "case_not_editable"  # already current
    take_through(login, no, ("登簿", "缮证"))
    assert _case(login("zhangsan"), case_id)["status"] == "completed"


def test_a_co_applicant_sees_the_application_read_only_with_his_counterpart_masked(
        login: Any, seeded: Any) -> None:
    case_id = _signed_draft(login)
    buyer = login("lisi")
    refused = buyer.patch(f"/api/v1/applications/{case_id}", json={"form": {"price": 1}})
    assert refused.status_code == 403 and refused.get_json()["code"] == "creator_only"
    upload = buyer.post(f"/api/v1/applications/{case_id}/materials", content_type="multipart/form-data",
                        data={"code": "sale_contract", "file": (io.BytesIO(PDF), "contract.pdf")})
    assert upload.status_code == 403 and upload.get_json()["code"] == "creator_only"
    assert buyer.get(f"/api/v1/applications/{case_id}?unmask=1").status_code == 403
    assert _parties(buyer, case_id)["seller"]["name"] == "张*"
    assert all(p["confirmed"] for p in _parties(buyer, case_id).values())  # nothing changed

    page_client = seeded.test_client()
    sign_in(page_client, "lisi")
    page = page_client.get(f"/my/applications/{case_id}/edit").get_data(as_text=True)
    assert 'id="read-only"' in page and "申请表（可修改）" not in page
    assert ZHANG_SAN["id_number"] not in page and ZHANG_SAN["name"] not in page
    assert 'id="sign"' in page  # he still reviews and signs


def test_a_co_applicants_proposal_accepted_by_the_creator_voids_the_signatures(login: Any) -> None:
    case_id = _signed_draft(login)
    seller, buyer = login("zhangsan"), login("lisi")
    proposed = buyer.post(f"/api/v1/applications/{case_id}/proposals", json={"form": {"price": 2_300_000}})
    assert proposed.status_code == 201, proposed.get_json()
    proposal_id = proposed.get_json()["id"]
    own = seller.post(f"/api/v1/applications/{case_id}/proposals", json={"form": {"price": 1}})
    assert own.status_code == 409 and own.get_json()["code"] == "may_edit"  # the creator edits directly
    assert all(p["confirmed"] for p in _parties(seller, case_id).values())  # a proposal changes nothing yet
    events = seller.get(f"/api/v1/applications/{case_id}/progress").get_json()["events"]
    assert "受让方提出修改建议：成交价格（元）：2350000 → 2300000（待创建人确认）" in [e["message"] for e in events]
    [shown] = seller.get(f"/api/v1/applications/{case_id}/proposals").get_json()["items"]
    assert shown["changes"] == {"price": 2_300_000} and shown["status"] == "pending"

    not_creator = buyer.post(f"/api/v1/applications/{case_id}/proposals/{proposal_id}/accept")
    assert not_creator.status_code == 403 and not_creator.get_json()["code"] == "creator_only"
    accepted = seller.post(f"/api/v1/applications/{case_id}/proposals/{proposal_id}/accept")
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["form"]["price"] == 2_300_000
    assert not any(p["confirmed"] for p in accepted.get_json()["parties"])
    again = seller.post(f"/api/v1/applications/{case_id}/proposals/{proposal_id}/decline")
    assert again.status_code == 409 and again.get_json()["code"] == "proposal_decided"

    assert seller.post(f"/api/v1/applications/{case_id}/submit").status_code == 409
    for party in (seller, buyer):
        assert party.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    assert seller.post(f"/api/v1/applications/{case_id}/submit").status_code == 200
