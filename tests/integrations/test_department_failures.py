"""A department that is slow or down: bounded waits, a breaker that opens and says so in Chinese, and
nothing lost — the draft stays, the case recovers when the department is back."""
from __future__ import annotations

import time
from typing import Any

from conftest import complete_stage, simulator_control, wait_for
from helpers import draft_transfer, interface_row, verifications


def test_a_slow_department_times_out_within_the_interface_policy(login: Any, seeded: Any, simulator: Any) -> None:
    interface_row(seeded, "gongan", timeout_ms=300, max_retries=1)
    seller, buyer = login("zhangsan"), login("lisi")
    case_id = draft_transfer(seller, buyer)
    simulator_control(simulator, "gongan", "slow", delay_s=1.5)
    started = time.monotonic()
    resp = seller.post(f"/api/v1/applications/{case_id}/submit")
    elapsed = time.monotonic() - started
    assert resp.status_code == 503, resp.get_json()
    assert resp.get_json()["detail"] == "公安身份核验服务暂不可用，请稍后重试"
    assert elapsed < 1.5  # two attempts of 0.3 s and one short back-off, not the department's 1.5 s
    calls = login("admin").get("/api/v1/interfaces/calls", query_string={"interface": "gongan"}).get_json()["items"]
    assert calls[0]["outcome"] == "timeout" and calls[0]["attempts"] == 2 and calls[0]["latency_ms"] >= 600
    assert seller.get(f"/api/v1/applications/{case_id}").get_json()["status"] == "draft"


def test_a_failing_department_opens_the_breaker_and_the_case_goes_through_once_it_is_back(
        login: Any, seeded: Any, simulator: Any) -> None:
    interface_row(seeded, "gongan", max_retries=0, breaker_threshold=2, breaker_cooldown_s=3600)
    seller, buyer, admin = login("zhangsan"), login("lisi"), login("admin")
    case_id = draft_transfer(seller, buyer)
    simulator_control(simulator, "gongan", "fail")
    for _ in range(2):
        resp = seller.post(f"/api/v1/applications/{case_id}/submit")
        assert resp.status_code == 503 and resp.get_json()["code"] == "service_unavailable"
    gongan = next(i for i in admin.get("/api/v1/interfaces").get_json()["items"] if i["code"] == "gongan")
    assert gongan["breaker_state"] == "open" and gongan["failure_count"] == 2

    simulator_control(simulator, "gongan", "ok")  # back, but the breaker still protects until its cooldown
    resp = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 503 and "服务暂不可用，请稍后重试" in resp.get_json()["detail"]
    outcomes = [c["outcome"] for c in admin.get("/api/v1/interfaces/calls",
                                                query_string={"interface": "gongan"}).get_json()["items"]]
    assert outcomes[0] == "short_circuit" and outcomes.count("error") == 2

    interface_row(seeded, "gongan", breaker_cooldown_s=0)  # cooldown over: one trial call goes through
    resp = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 200, resp.get_json()
    gongan = next(i for i in admin.get("/api/v1/interfaces").get_json()["items"] if i["code"] == "gongan")
    assert gongan["breaker_state"] == "closed" and gongan["failure_count"] == 0
    assert resp.get_json()["business_no"]


def test_tax_down_at_submission_queues_the_push_and_the_case_waits_then_recovers(
        login: Any, seeded: Any, simulator: Any) -> None:
    from sqlalchemy import update

    from app.db import utcnow
    from app.integrations.models import OutboxMessage
    from app.jobs import deliver_outbox, run_job

    seller, buyer = login("zhangsan"), login("lisi")
    case_id = draft_transfer(seller, buyer)
    simulator_control(simulator, "shuiwu", "fail")
    resp = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 200, resp.get_json()
    business_no = resp.get_json()["business_no"]
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核")]:
        assert complete_stage(login(username), business_no, stage).status_code == 200
    assert seller.get(f"/api/v1/applications/{case_id}").get_json()["status"] == "awaiting_tax"
    db = seeded.extensions["db"]
    report = run_job(db, "outbox", lambda s: deliver_outbox(s))
    assert report.retried >= 1  # 税务 still down: the push stays queued

    simulator_control(simulator, "shuiwu", "ok")
    interface_row(seeded, "shuiwu", breaker_state="closed", failure_count=0)
    with db.unit_of_work() as session:  # the back-off has passed
        session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    report = run_job(db, "outbox", lambda s: deliver_outbox(s))
    assert report.sent >= 1
    wait_for(lambda: seller.get(f"/api/v1/applications/{case_id}").get_json()["status"] == "recording",
             "登簿 after the late 完税")
    assert any(s["source"] == "tax" and s["result"] == "一致" for s in verifications(seller, case_id)["items"])
    assert complete_stage(login("xh_recorder"), business_no, "登簿").status_code == 200
