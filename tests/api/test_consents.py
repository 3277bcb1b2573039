"""Consent comes from the one who must consent (R2 预告权利人, R6 抵押权人): online by the holder's own
account, or a paper consent the 受理 clerk checks and records; an uploaded file alone names nobody."""
from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select
from support.cases import complete_stage
from support.forms import transfer_form
from support.personas import PASSWORD
from test_portal_apply import drawn_png, photo_jpeg
from test_registration_rules import WANG_WU, add_right, prepare, results_by_code, unit, upload_and_sign_again

from app.demo import BANK, DEVELOPER, LI_SI, ZHOU_JIE
from app.identity.service import create_user
from app.security.audit import AuditEntry


def transfer_draft(login: Any, unit_code: str) -> tuple[Any, str]:
    return prepare(login, "transfer_resale", transfer_form(unit_code=unit_code), "lisi")


def test_a_refusal_names_the_rule_and_its_basis_and_stays_on_the_draft(login: Any, db: Any) -> None:
    add_right(db, unit(1), "advance_notice", [WANG_WU], kind="person")
    owner, case_id = transfer_draft(login, unit(1))
    refused = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["code"] == "rule_blocked" and body["rule"] == "advance_notice"
    assert body["basis"] == "《民法典》第二百二十一条；《不动产登记暂行条例实施细则》第八十五条"
    assert [r["code"] for r in body["rules"]] == ["advance_notice"] and body["rules"][0]["message"] in body["detail"]
    draft = owner.get(f"/api/v1/applications/{case_id}").get_json()
    assert draft["status"] == "draft"
    assert results_by_code(draft)["advance_notice"]["severity"] == "block"
    with db.unit_of_work() as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "case.rule_refused",
                                                         AuditEntry.object_id == case_id)).scalar_one()
        assert entry.after["rules"] == ["advance_notice"]


def test_a_paper_consent_counts_once_the_clerk_records_the_registered_holder(login: Any, db: Any) -> None:
    add_right(db, unit(1), "advance_notice", [WANG_WU], kind="person")
    owner, case_id = transfer_draft(login, unit(1))
    upload_and_sign_again(login, owner, case_id, "advance_notice_consent")
    submitted = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    pending = results_by_code(submitted.get_json())["advance_notice"]
    assert pending["severity"] == "warn" and "受理人员核验" in pending["message"]
    business_no = submitted.get_json()["business_no"]

    clerk = login("xh_acceptor")
    unchecked = complete_stage(clerk, business_no, "受理")
    assert unchecked.status_code == 409
    assert unchecked.get_json()["code"] == "rule_blocked_at_acceptance"
    assert unchecked.get_json()["rule"] == "advance_notice" and "第八十五条" in unchecked.get_json()["basis"]

    needed = clerk.get(f"/api/v1/applications/{case_id}/consents").get_json()["items"]
    assert [(n["right_type"], n["consented"], [h["name"] for h in n["holders"]]) for n in needed] == [
        ("advance_notice", False, ["王*"])]
    right_id = needed[0]["right_id"]
    wrong = clerk.post(f"/api/v1/applications/{case_id}/paper-consents",
                       json={"right_id": right_id, "consenter_name": LI_SI["name"],
                             "consenter_id_number": LI_SI["id_number"]})
    assert wrong.status_code == 422 and wrong.get_json()["code"] == "consenter_not_holder"
    misnamed = clerk.post(f"/api/v1/applications/{case_id}/paper-consents",
                          json={"consenter_name": "王六", "consenter_id_number": WANG_WU["id_number"]})
    assert misnamed.status_code == 422 and misnamed.get_json()["code"] == "consenter_not_holder"
    recorded = clerk.post(f"/api/v1/applications/{case_id}/paper-consents",
                          json={"consenter_name": WANG_WU["name"], "consenter_id_number": WANG_WU["id_number"]})
    assert recorded.status_code == 201, recorded.get_json()
    assert recorded.get_json()["items"][0]["holders"][0]["method"] == "paper"

    accepted = complete_stage(clerk, business_no, "受理")
    assert accepted.status_code == 200, accepted.get_json()
    shown = clerk.get(f"/api/v1/applications/{case_id}").get_json()
    result = results_by_code(shown)["advance_notice"]
    assert result["severity"] == "pass" and "纸质书面同意" in result["message"]
    progress = owner.get(f"/api/v1/applications/{case_id}/progress").get_json()["events"]
    assert any(e["kind"] == "consented" for e in progress)


def test_only_the_acceptance_clerk_records_a_paper_consent(login: Any, db: Any) -> None:
    add_right(db, unit(1), "advance_notice", [WANG_WU], kind="person")
    owner, case_id = transfer_draft(login, unit(1))
    upload_and_sign_again(login, owner, case_id, "advance_notice_consent")
    assert owner.post(f"/api/v1/applications/{case_id}/submit").status_code == 200
    consent = {"consenter_name": WANG_WU["name"], "consenter_id_number": WANG_WU["id_number"]}
    assert owner.post(f"/api/v1/applications/{case_id}/paper-consents", json=consent).status_code == 403
    assert login("xh_reviewer").post(f"/api/v1/applications/{case_id}/paper-consents", json=consent).status_code == 403


def test_the_bank_consents_online_with_its_institution_account(login: Any, db: Any) -> None:
    add_right(db, unit(3), "mortgage", [BANK], details={"transfer_restricted": True})
    owner, case_id = transfer_draft(login, unit(3))
    refused = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 422 and refused.get_json()["rule"] == "mortgage_on_transfer"
    assert "第四百零六条" in refused.get_json()["basis"]
    # A consent document uploaded by the seller names nobody: still refused once submitted without the bank.
    stranger = login("developer")
    assert stranger.post(f"/api/v1/applications/{case_id}/consents").status_code == 404
    given = login("bank").post(f"/api/v1/applications/{case_id}/consents")
    assert given.status_code == 201, given.get_json()
    item = given.get_json()["items"][0]
    assert item["consented"] and item["holders"][0]["method"] == "online"
    assert login("bank").post(f"/api/v1/applications/{case_id}/consents").get_json()["code"] == "already_consented"
    submitted = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    result = results_by_code(submitted.get_json())["mortgage_on_transfer"]
    assert result["severity"] == "warn" and "在平台确认" in result["message"]


def test_a_consent_counts_only_while_its_consenter_holds_the_right(login: Any, db: Any) -> None:
    add_right(db, unit(3), "mortgage", [BANK], details={"transfer_restricted": True})
    owner, case_id = transfer_draft(login, unit(3))
    assert login("bank").post(f"/api/v1/applications/{case_id}/consents").status_code == 201
    # The mortgage is assigned to another institution before submission: the bank's consent no longer counts.
    add_right(db, unit(3), "mortgage", [DEVELOPER], details={"transfer_restricted": True}, end_current=True)
    refused = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 422 and refused.get_json()["rule"] == "mortgage_on_transfer"


def test_a_person_holding_the_advance_notice_consents_with_face_check_and_signature(
        login: Any, db: Any, simulator: Any) -> None:
    with db.unit_of_work() as session:
        create_user(session, username="zhoujie", password=PASSWORD, roles=["applicant"],
                    real_name=ZHOU_JIE["name"], id_number=ZHOU_JIE["id_number"])
    add_right(db, unit(1), "advance_notice", [ZHOU_JIE], kind="person")
    owner, case_id = transfer_draft(login, unit(1))
    holder = login("zhoujie")
    unsigned = holder.post(f"/api/v1/applications/{case_id}/consents", content_type="multipart/form-data",
                           data={"photo": (io.BytesIO(photo_jpeg()), "me.jpg")})
    assert unsigned.status_code == 422 and unsigned.get_json()["errors"].get("signature")
    no_face = holder.post(f"/api/v1/applications/{case_id}/consents", content_type="multipart/form-data",
                          data={"signature": drawn_png()})
    assert no_face.status_code == 422 and no_face.get_json()["errors"].get("photo")
    given = holder.post(f"/api/v1/applications/{case_id}/consents", content_type="multipart/form-data",
                        data={"signature": drawn_png(), "photo": (io.BytesIO(photo_jpeg()), "me.jpg")})
    assert given.status_code == 201, given.get_json()
    assert given.get_json()["items"][0]["holders"] == [
        {"name": "周*", "consented": True, "method": "online", "at": given.get_json()["items"][0]["holders"][0]["at"]}]
    submitted = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert results_by_code(submitted.get_json())["advance_notice"]["severity"] == "pass"
    with db.unit_of_work() as session:
        actions = [e.action for e in session.execute(select(AuditEntry).where(AuditEntry.object_id == case_id))
                   .scalars()]
        assert "case.consent_face_check" in actions and "case.consent" in actions


def test_an_optional_material_with_a_condition_stays_optional(login: Any) -> None:
    owner = login("zhangsan")
    created = owner.post("/api/v1/applications", json={"business_type": "transfer_resale",
                                                       "form": transfer_form(has_mortgage=True)})
    assert created.status_code == 201, created.get_json()
    assert "mortgagee_consent" not in created.get_json()["materials_missing"]


def test_the_acceptance_clerk_records_a_paper_consent_on_the_workbench(login: Any, page_login: Any, db: Any) -> None:
    add_right(db, unit(1), "advance_notice", [WANG_WU], kind="person")
    owner, case_id = transfer_draft(login, unit(1))
    upload_and_sign_again(login, owner, case_id, "advance_notice_consent")
    assert owner.post(f"/api/v1/applications/{case_id}/submit").status_code == 200
    clerk = page_login("xh_acceptor")
    page = clerk.get(f"/workbench/cases/{case_id}").get_data(as_text=True)
    assert "权利人同意" in page and "王*" in page and "未同意" in page and "记录书面同意" in page
    wrong = clerk.post_form(f"/workbench/cases/{case_id}/consents",
                            {"consenter_name": LI_SI["name"], "consenter_id_number": LI_SI["id_number"]})
    assert wrong.status_code == 422 and "不是登记簿记载的该预告登记权利人" in wrong.get_data(as_text=True)
    done = clerk.post_form(f"/workbench/cases/{case_id}/consents",
                           {"consenter_name": WANG_WU["name"], "consenter_id_number": WANG_WU["id_number"]})
    assert done.status_code == 302
    page = clerk.get(f"/workbench/cases/{case_id}").get_data(as_text=True)
    assert "已同意" in page and "纸质书面同意已核验" in page
    assert "记录书面同意" not in page_login("xh_reviewer").get(f"/workbench/cases/{case_id}").get_data(as_text=True)
