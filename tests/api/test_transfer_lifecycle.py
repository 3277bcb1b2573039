"""二手房转移登记 end to end over HTTP: submit → 受理 → 审核 → 登簿 → 缮证, a progress event after each."""
from __future__ import annotations

from typing import Any

from support.cases import complete_stage

from app.clock import beijing_today


def test_a_transfer_goes_from_submission_to_certificate_and_changes_the_owner(login: Any,
                                                                             submitted_transfer: dict) -> None:
    case = submitted_transfer
    business_no = case["business_no"]
    assert business_no.startswith(f"{beijing_today().year}330106")  # the (Beijing) year of submission
    assert case["status"] == "accepting"
    lisi = login("lisi")
    before = lisi.get("/api/v1/units", query_string={"mine": 1}).get_json()["items"]
    assert before == []

    for username, stage, next_status in [("xh_acceptor", "受理", "reviewing"), ("xh_reviewer", "审核", "recording"),
                                         ("xh_recorder", "登簿", "certifying"), ("xh_certifier", "缮证", "completed")]:
        resp = complete_stage(login(username), business_no, stage)
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["case_status"] == next_status

    events = login("zhangsan").get(f"/api/v1/applications/{case['id']}/progress").get_json()["events"]
    steps = [e for e in events if e["kind"] == "step_completed"]
    assert [e["stage"] for e in steps] == ["受理", "审核", "登簿", "缮证"]
    assert events[-1]["status"] == "completed"

    after = lisi.get("/api/v1/units", query_string={"mine": 1}).get_json()["items"]
    assert [u["unit_code"] for u in after] == [case["unit_code"]]
    zhang_units = login("zhangsan").get("/api/v1/units", query_string={"mine": 1}).get_json()["items"]
    assert case["unit_code"] not in [u["unit_code"] for u in zhang_units]
