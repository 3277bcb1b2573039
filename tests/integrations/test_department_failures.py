"""A department that is slow or down: bounded waits, a breaker that opens, and nothing lost — the submission
is made, the case waits (等待部门核验, not accepted on unverified data) and recovers when the department is
back and the verification job has asked again."""
from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from helpers import draft_mortgage, draft_transfer, interface_row, verifications
from page_fixtures import PageUser
from support.cases import complete_stage
from support.servers import simulator_control
from support.waiting import wait_for


def _recheck(app: Any) -> Any:
    """One run of the verification job (what the scheduler runs every minute)."""
    from app.jobs import recheck_verifications, run_job

    return run_job(app.extensions["db"], "verifications", recheck_verifications)


def _received(simulator: Any, subscriber: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{simulator.url}/_control/state", timeout=5) as resp:
        return json.load(resp)["received"].get(subscriber, [])  # type: ignore[no-any-return]


def _count(app: Any, model: Any, *where: Any) -> int:
    from sqlalchemy import func, select

    with app.extensions["db"].unit_of_work() as session:
        return int(session.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def test_a_slow_department_times_out_within_the_interface_policy_and_the_case_waits(
        login: Any, seeded: Any, simulator: Any) -> None:
    interface_row(seeded, "gongan", timeout_ms=300, max_retries=1, breaker_threshold=5)
    seller, buyer = login("zhangsan"), login("lisi")
    case_id = draft_transfer(seller, buyer)
    simulator_control(simulator, "gongan", "slow", delay_s=1.5)
    started = time.monotonic()
    resp = seller.post(f"/api/v1/applications/{case_id}/submit")
    elapsed = time.monotonic() - started
    assert resp.status_code == 200, resp.get_json()
    assert elapsed < 4  # two people × (two attempts of 0.3 s + a short back-off), not 4 × the department's 1.5 s
    calls = login("admin").get("/api/v1/interfaces/calls", query_string={"interface": "gongan"}).get_json()["items"]
    assert calls[0]["outcome"] == "timeout" and calls[0]["attempts"] == 2 and calls[0]["latency_ms"] >= 600
    case = seller.get(f"/api/v1/applications/{case_id}").get_json()
    assert case["status"] == "awaiting_check" and case["status_label"] == "等待部门核验"
    identity = [v for v in verifications(seller, case_id)["items"] if v["source"] == "identity"]
    assert {v["result"] for v in identity} == {"未核验"} and all(v["pending"] for v in identity)
    assert any("部门服务暂不可用" in (f["found"] or "") for f in identity[0]["fields"])


def test_department_down_at_submission_the_case_waits_and_proceeds_when_it_is_back(
        login: Any, seeded: Any, simulator: Any) -> None:
    """The acceptance scenario: fail → submit → waits (not accepted on unverified data) → ok → job → proceeds."""
    from app.casefile.models import CaseEvent
    from app.integrations.verification_models import MaterialWaiver, VerificationSnapshot

    interface_row(seeded, "gongan", max_retries=0, breaker_threshold=5)
    seller, buyer, acceptor = login("zhangsan"), login("lisi"), login("xh_acceptor")
    case_id = draft_transfer(seller, buyer)
    simulator_control(simulator, "gongan", "fail")
    resp = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 200, resp.get_json()
    business_no = resp.get_json()["business_no"]

    case = seller.get(f"/api/v1/applications/{case_id}").get_json()
    assert case["status"] == "awaiting_check"
    assert {"seller_identity", "buyer_identity"} <= set(case["materials_deferred"])  # not asked for: deferred
    assert any(e["kind"] == "verification_pending" and "等待部门核验" in e["message"]
               for e in seller.get(f"/api/v1/applications/{case_id}/progress").get_json()["events"])
    page = PageUser(seeded.test_client(), "xh_acceptor").get(f"/workbench/cases/{case_id}")
    assert page.status_code == 200 and 'id="verification-waiting"' in page.get_data(as_text=True)
    seeded.config["WTF_CSRF_ENABLED"] = False
    refused = complete_stage(acceptor, business_no, "受理")
    assert refused.status_code == 409 and refused.get_json()["code"] == "verification_pending"
    assert "公安" in refused.get_json()["detail"] and "不能予以受理" in refused.get_json()["detail"]

    report = _recheck(seeded)  # still down: nothing changes, nothing duplicated
    assert report.waiting == 2 and report.checked == 0
    pending = (VerificationSnapshot.case_id == case_id, VerificationSnapshot.retry_state == "pending")
    assert _count(seeded, VerificationSnapshot, *pending) == 2

    simulator_control(simulator, "gongan", "ok")
    interface_row(seeded, "gongan", breaker_state="closed", failure_count=0)
    report = _recheck(seeded)
    assert report.checked == 2 and report.resumed == [case_id]
    again = _recheck(seeded)  # a second run (or a second process) finds nothing left
    assert again.cases == 0 and again.checked == 0
    assert _count(seeded, VerificationSnapshot, *pending) == 0
    assert _count(seeded, VerificationSnapshot, VerificationSnapshot.case_id == case_id,
                  VerificationSnapshot.source == "identity", VerificationSnapshot.retry_state.is_(None)) == 2
    assert _count(seeded, MaterialWaiver, MaterialWaiver.case_id == case_id,
                  MaterialWaiver.material_code.in_(["seller_identity", "buyer_identity"])) == 2
    assert _count(seeded, CaseEvent, CaseEvent.case_id == case_id, CaseEvent.kind == "verification_completed") == 1

    case = seller.get(f"/api/v1/applications/{case_id}").get_json()
    assert case["status"] == "accepting"
    assert {w["code"] for w in case["materials_waived"]} >= {"seller_identity", "buyer_identity"}
    shown = verifications(seller, case_id)["items"]
    assert [v["result"] for v in shown if v["source"] == "identity" and not v["pending"]
            and v["retry_state"] is None] == ["一致", "一致"]
    from app.jobs import deliver_outbox, run_job

    run_job(seeded.extensions["db"], "outbox", lambda s: deliver_outbox(s))
    texts = [m["body"]["message"] for m in _received(simulator, "sms") if m["body"]["business_no"] == business_no]
    assert any("等待部门核验" in t for t in texts) and any("免提交" in t and "公安" in t for t in texts)
    assert complete_stage(acceptor, business_no, "受理").status_code == 200
    assert seller.get(f"/api/v1/applications/{case_id}").get_json()["status"] == "reviewing"


def test_a_department_back_with_a_different_record_requires_the_material_again(
        login: Any, seeded: Any, simulator: Any) -> None:
    interface_row(seeded, "zhujian", max_retries=0)
    seller, buyer, acceptor = login("zhangsan"), login("lisi"), login("xh_acceptor")
    case_id = draft_transfer(seller, buyer)
    simulator_control(simulator, "zhujian", "fail")
    business_no = seller.post(f"/api/v1/applications/{case_id}/submit").get_json()["business_no"]
    assert "sale_contract" in seller.get(f"/api/v1/applications/{case_id}").get_json()["materials_deferred"]

    simulator_control(simulator, "zhujian", "mismatch")  # back, but its record differs (another price)
    interface_row(seeded, "zhujian", breaker_state="closed", failure_count=0)
    assert _recheck(seeded).resumed == [case_id]
    case = seller.get(f"/api/v1/applications/{case_id}").get_json()
    assert case["status"] == "accepting" and "sale_contract" not in case["materials_deferred"]
    assert "sale_contract" not in {w["code"] for w in case["materials_waived"]}
    events = seller.get(f"/api/v1/applications/{case_id}/progress").get_json()["events"]
    assert any("住建不一致" in e["message"] and "需补充提交" in e["message"] for e in events)
    resp = complete_stage(acceptor, business_no, "受理", decision="correct", correction_items=["sale_contract"])
    assert resp.status_code == 200, resp.get_json()  # the acceptor asks for the contract


def test_the_job_waits_for_the_breaker_before_asking_again(login: Any, seeded: Any, simulator: Any) -> None:
    interface_row(seeded, "gongan", max_retries=0, breaker_threshold=2, breaker_cooldown_s=3600)
    seller, buyer, admin = login("zhangsan"), login("lisi"), login("admin")
    case_id = draft_transfer(seller, buyer)
    simulator_control(simulator, "gongan", "fail")
    assert seller.post(f"/api/v1/applications/{case_id}/submit").status_code == 200
    gongan = next(i for i in admin.get("/api/v1/interfaces").get_json()["items"] if i["code"] == "gongan")
    assert gongan["breaker_state"] == "open" and gongan["failure_count"] == 2

    simulator_control(simulator, "gongan", "ok")  # back, but the breaker still protects until its cooldown
    calls_before = len(admin.get("/api/v1/interfaces/calls", query_string={"interface": "gongan"}).get_json()["items"])
    report = _recheck(seeded)
    assert report.waiting == 2 and report.checked == 0
    calls = admin.get("/api/v1/interfaces/calls", query_string={"interface": "gongan"}).get_json()["items"]
    assert len(calls) == calls_before  # the job did not even knock
    assert seller.get(f"/api/v1/applications/{case_id}").get_json()["status"] == "awaiting_check"

    interface_row(seeded, "gongan", breaker_cooldown_s=0)  # cooldown over: the trial call goes through
    result = seeded.test_cli_runner().invoke(args=["verifications", "recheck"])
    assert "恢复受理 1 件" in result.output, result.output
    gongan = next(i for i in admin.get("/api/v1/interfaces").get_json()["items"] if i["code"] == "gongan")
    assert gongan["breaker_state"] == "closed" and gongan["failure_count"] == 0
    assert seller.get(f"/api/v1/applications/{case_id}").get_json()["status"] == "accepting"


def test_a_mortgage_waits_for_市场监管_and_the_bank_licence_is_waived_once_it_answers(
        login: Any, seeded: Any, simulator: Any) -> None:
    interface_row(seeded, "shichang", max_retries=0)
    owner, case_id = draft_mortgage(login)
    simulator_control(simulator, "shichang", "fail")
    assert owner.post(f"/api/v1/applications/{case_id}/submit").status_code == 200
    case = owner.get(f"/api/v1/applications/{case_id}").get_json()
    assert case["status"] == "awaiting_check"
    licence = [v for v in verifications(owner, case_id)["items"] if v["source"] == "business_licence"]
    assert [(v["subject_role"], v["result"], v["pending"]) for v in licence] == [("mortgagee", "未核验", True)]
    assert all(v["result"] == "一致" for v in verifications(owner, case_id)["items"] if v["source"] == "identity")

    simulator_control(simulator, "shichang", "ok")
    interface_row(seeded, "shichang", breaker_state="closed", failure_count=0)
    assert _recheck(seeded).resumed == [case_id]
    case = owner.get(f"/api/v1/applications/{case_id}").get_json()
    assert case["status"] == "accepting"
    assert any(w["source"] == "business_licence" for w in case["materials_waived"])


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
