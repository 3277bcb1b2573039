"""税务: the signed 完税 callback (bad signatures refused, duplicates harmless), the escalation timer when
完税 does not come, reconciliation of a lost callback, and the result pushed after 登簿."""
from __future__ import annotations

import json
import os
import time
import urllib.request
from dataclasses import replace
from typing import Any

from helpers import draft_transfer, verifications
from support.cases import complete_stage
from support.servers import simulator_control
from support.waiting import wait_for

from app.cases.sharing import tax


def _signed(body: dict[str, Any], secret: str | None = None) -> tuple[bytes, dict[str, str]]:
    secret = secret or os.environ["TAX_CALLBACK_SECRET"]
    raw = json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    return raw, {"Content-Type": "application/json", "X-Timestamp": stamp,
                 "X-Signature": tax.signature(secret, stamp, raw)}


def test_a_callback_with_a_bad_signature_is_refused(client: Any, submitted_transfer: dict) -> None:
    body = {"business_no": submitted_transfer["business_no"], "status": "完税", "voucher_no": "FAKE"}
    raw, headers = _signed(body, secret="not-the-secret")
    resp = client.post("/api/v1/callbacks/tax", data=raw, headers=headers)
    assert resp.status_code == 401 and resp.get_json()["code"] == "bad_signature"
    unsigned = client.post("/api/v1/callbacks/tax", json=body)
    assert unsigned.status_code == 401
    stale_raw, stale = _signed(body)
    stale["X-Timestamp"] = str(int(time.time()) - 3600)
    stale["X-Signature"] = tax.signature(os.environ["TAX_CALLBACK_SECRET"], stale["X-Timestamp"], stale_raw)
    assert client.post("/api/v1/callbacks/tax", data=stale_raw, headers=stale).status_code == 401


def test_a_repeated_callback_is_idempotent(client: Any, login: Any, submitted_transfer: dict) -> None:
    body = {"business_no": submitted_transfer["business_no"], "status": "完税", "voucher_no": "电子税票X",
            "total": "58750.00", "contract_no": "WQ2026-000123", "unit_code": submitted_transfer["unit_code"]}
    raw, headers = _signed(body)
    resp = client.post("/api/v1/callbacks/tax", data=raw, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["duplicate"] is True
    items = verifications(login("zhangsan"), submitted_transfer["id"])["items"]
    assert len([s for s in items if s["source"] == "tax"]) == 1
    unknown_raw, unknown = _signed({**body, "business_no": "2026330106209999999"})
    assert client.post("/api/v1/callbacks/tax", data=unknown_raw, headers=unknown).status_code == 404


def test_without_完税_the_case_escalates_to_the_reviewer_and_records_once_it_arrives(
        login: Any, seeded: Any, simulator: Any) -> None:
    from app.jobs import deliver_outbox, run_job

    # the deadline is already past: the timer fires
    seeded.extensions["tax"] = replace(seeded.extensions["tax"], wait_working_days=0)
    seller, buyer = login("zhangsan"), login("lisi")
    case_id = draft_transfer(seller, buyer)
    simulator_control(simulator, "shuiwu", "fail")
    business_no = seller.post(f"/api/v1/applications/{case_id}/submit").get_json()["business_no"]
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核")]:
        assert complete_stage(login(username), business_no, stage).status_code == 200
    reviewer = login("xh_reviewer")
    overdue = reviewer.get("/api/v1/tasks", query_string={"business_no": business_no, "stage": "完税"}).get_json()
    assert [t["title"] for t in overdue["items"]] == ["完税催办"]
    assert seller.get(f"/api/v1/applications/{case_id}").get_json()["status_label"] == "待完税"

    simulator_control(simulator, "shuiwu", "ok")
    run_job(seeded.extensions["db"], "outbox", lambda s: deliver_outbox(s))
    wait_for(lambda: any(s["source"] == "tax" for s in verifications(seller, case_id)["items"]), "完税")
    resp = complete_stage(reviewer, business_no, "完税", decision="wait")
    assert resp.status_code == 200 and resp.get_json()["case_status"] == "recording"


def test_a_lost_callback_is_found_by_reconciliation(login: Any, seeded: Any, simulator: Any) -> None:
    seeded.extensions["tax"] = replace(seeded.extensions["tax"], callback_url="http://127.0.0.1:9/lost",
                                       wait_working_days=5)  # 税务 cannot reach us
    seller, buyer = login("zhangsan"), login("lisi")
    case_id = draft_transfer(seller, buyer)
    business_no = seller.post(f"/api/v1/applications/{case_id}/submit").get_json()["business_no"]
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核")]:
        assert complete_stage(login(username), business_no, stage).status_code == 200
    assert seller.get(f"/api/v1/applications/{case_id}").get_json()["status"] == "awaiting_tax"
    result = seeded.test_cli_runner().invoke(args=["tax-waits"])
    assert result.exit_code == 0 and "1 件业务有进展" in result.output, result.output
    assert seller.get(f"/api/v1/applications/{case_id}").get_json()["status"] == "recording"


def test_after_登簿_the_result_is_pushed_to_housing_and_tax(login: Any, seeded: Any, simulator: Any,
                                                            submitted_transfer: dict) -> None:
    import urllib.request

    business_no = submitted_transfer["business_no"]
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿")]:
        assert complete_stage(login(username), business_no, stage).status_code == 200
    result = seeded.test_cli_runner().invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0 and "死信 0 条" in result.output, result.output
    with urllib.request.urlopen(f"{simulator.url}/_control/state", timeout=5) as resp:
        received = json.load(resp)["received"]
    for subscriber in ("zhujian", "shuiwu", "province"):
        results = [m for m in received[subscriber] if m["body"]["topic"] == "registration.result"]
        assert [m["body"]["business_no"] for m in results] == [business_no]
        assert results[0]["key"] == f"result:{submitted_transfer['id']}"


def test_完税催办_can_end_the_case_as_不予登记_with_reasons(login: Any, seeded: Any, simulator: Any) -> None:
    from sqlalchemy import select

    from app.jobs import deliver_outbox, run_job
    from app.security.models import AuditEntry

    seeded.extensions["tax"] = replace(seeded.extensions["tax"], wait_working_days=0)
    seller, buyer, reviewer = login("zhangsan"), login("lisi"), login("xh_reviewer")
    case_id = draft_transfer(seller, buyer)
    simulator_control(simulator, "shuiwu", "fail")  # 完税 never comes
    business_no = seller.post(f"/api/v1/applications/{case_id}/submit").get_json()["business_no"]
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核")]:
        assert complete_stage(login(username), business_no, stage).status_code == 200
    assert seller.get(f"/api/v1/applications/{case_id}").get_json()["status_label"] == "待完税"

    no_reasons = complete_stage(reviewer, business_no, "完税", decision="reject")
    assert no_reasons.status_code == 422, no_reasons.get_json()  # 不予登记 needs its reasons (条例 22)
    resp = complete_stage(reviewer, business_no, "完税", decision="reject",
                          reject_reasons=["申请人逾期未缴纳税款，经催缴仍未完税"])
    assert resp.status_code == 200 and resp.get_json()["case_status"] == "refused", resp.get_json()
    case = seller.get(f"/api/v1/applications/{case_id}").get_json()
    assert case["status_label"] == "不予登记"
    events = seller.get(f"/api/v1/applications/{case_id}/progress").get_json()["events"]
    assert "不予登记" in events[-1]["message"]
    with seeded.extensions["db"].unit_of_work() as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.object_id == case_id,
                                                         AuditEntry.action == "task.complete")
                                .order_by(AuditEntry.seq.desc())).scalars().first()
        assert entry.after["decision"] == "reject" and entry.after["status"] == "refused"
    simulator_control(simulator, "shuiwu", "ok")
    run_job(seeded.extensions["db"], "outbox", lambda s: deliver_outbox(s))
    with urllib.request.urlopen(f"{simulator.url}/_control/state", timeout=5) as state:
        texts = [m["body"] for m in json.load(state)["received"]["sms"]]
    assert any(t["business_no"] == business_no and t["status"] == "refused" for t in texts)  # the applicant is told
