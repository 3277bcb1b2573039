"""受理 can refuse (不予受理) or send the case back for 补正; the applicant fixes it and resubmits."""
from __future__ import annotations

import io
from typing import Any

from support.cases import complete_stage
from support.forms import PDF


def test_refusing_at_acceptance_ends_the_case_as_not_accepted(login: Any, submitted_transfer: dict) -> None:
    acceptor = login("xh_acceptor")
    resp = complete_stage(acceptor, submitted_transfer["business_no"], "受理", "reject",
                          reject_reasons=["申请材料与登记簿记载不一致"])
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["case_status"] == "rejected"
    case = login("zhangsan").get(f"/api/v1/applications/{submitted_transfer['id']}").get_json()
    assert case["status_label"] == "不予受理"
    assert acceptor.get("/api/v1/tasks", query_string={"business_no": case["business_no"]}).get_json()["items"] == []


def test_a_refusal_without_reasons_is_refused_with_a_field_message(login: Any, submitted_transfer: dict) -> None:
    resp = complete_stage(login("xh_acceptor"), submitted_transfer["business_no"], "受理", "reject")
    assert resp.status_code == 422
    assert "reject_reasons" in resp.get_json()["errors"]


def test_correction_returns_the_case_to_the_applicant_and_resubmission_reenters_acceptance(
        login: Any, submitted_transfer: dict) -> None:
    business_no, case_id = submitted_transfer["business_no"], submitted_transfer["id"]
    resp = complete_stage(login("xh_acceptor"), business_no, "受理")
    assert resp.status_code == 200
    resp = complete_stage(login("xh_reviewer"), business_no, "审核", "correct",
                          correction_items=["请补充上传清晰的完税凭证"])
    assert resp.get_json()["case_status"] == "correcting"

    seller = login("zhangsan")
    case = seller.get(f"/api/v1/applications/{case_id}").get_json()
    assert case["status_label"] == "待补正"
    assert case["correction_items"] == ["请补充上传清晰的完税凭证"]
    upload = seller.post(f"/api/v1/applications/{case_id}/materials",
                         data={"code": "tax_voucher", "file": (io.BytesIO(PDF), "tax.pdf")},
                         content_type="multipart/form-data")
    assert upload.status_code == 201, upload.get_json()
    for party in (seller, login("lisi")):  # a new material is a change of what both signed: both sign again
        assert party.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    resubmitted = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert resubmitted.status_code == 200, resubmitted.get_json()
    assert resubmitted.get_json()["status"] == "accepting"
    assert resubmitted.get_json()["business_no"] == business_no

    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿"),
                            ("xh_certifier", "缮证")]:
        assert complete_stage(login(username), business_no, stage).status_code == 200
    events = seller.get(f"/api/v1/applications/{case_id}/progress").get_json()["events"]
    assert [e["kind"] for e in events if e["kind"] in ("resubmitted",)] == ["resubmitted"]
    assert events[-1]["status"] == "completed"


def test_recording_can_be_sent_back_to_review(login: Any, submitted_transfer: dict) -> None:
    business_no = submitted_transfer["business_no"]
    complete_stage(login("xh_acceptor"), business_no, "受理")
    complete_stage(login("xh_reviewer"), business_no, "审核")
    resp = complete_stage(login("xh_recorder"), business_no, "登簿", "reject", confirm_record=False)  # no tick needed
    assert resp.get_json()["case_status"] == "reviewing"
