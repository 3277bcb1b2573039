"""代理人 under a 授权委托书 (细则 12; issue 19): the demo 房屋经纪机构 records the 委托书 张三 gave it — notarised —
and files his flat's sale for him (a case with an agent: the 委托书 and the agent's 经办人 are asked for); 张三 and
the buyer still confirm (invited by SMS); the agent submits, and 司法 confirms the 公证书 with the other
departments' checks, which waives the 委托书 scan; when 司法 cannot answer the case waits and resumes. Refusals
name the field; the agent sees only the cases it filed for its clients; a revoked 委托书 files nothing more."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from portal_account_helpers import last_sms
from support.cases import make_application_forms
from support.forms import transfer_form, upload_missing
from support.servers import LiveServer, simulator_control

from app.demo import LI_SI, ZHANG_SAN
from app.identifiers import make_id_card, make_unit_code

NOTARISED = "(2025)浙杭西证字第000101号"  # simulator/data.py: 张三's 委托书公证
SOLD_UNIT = transfer_form()["unit_code"]
CLERK_ID = make_id_card("330106", date(1992, 5, 20), 17)  # the agent's 经办人 (代理人)
SALE = transfer_form(seller_name=ZHANG_SAN["name"], seller_id_number=ZHANG_SAN["id_number"],  # typed by the agent
                     agent_name="周经办", agent_id_number=CLERK_ID)
OTHER_UNIT = make_unit_code("330106", 1, 1, "GB", 100, 1, 102)


def attorney(who: dict[str, str] = ZHANG_SAN, **more: Any) -> dict[str, Any]:
    today = date.today()
    return {"principal_name": who["name"], "principal_id_number": who["id_number"],
            "business_types": ["transfer_resale"], "unit_codes": [SOLD_UNIT],
            "valid_from": (today - timedelta(days=30)).isoformat(),
            "valid_until": (today + timedelta(days=180)).isoformat(), "notarial_no": NOTARISED, **more}


def recorded(agent: Any, **more: Any) -> str:
    resp = agent.post("/api/v1/powers-of-attorney", json=attorney(**more))
    assert resp.status_code == 201, resp.get_json()
    return str(resp.get_json()["id"])


def file(agent: Any, power_of_attorney_id: str | None, business_type: str = "transfer_resale",
         form: dict[str, Any] | None = None) -> Any:
    return agent.post("/api/v1/applications", json={"business_type": business_type, "form": form or SALE,
                                                    "power_of_attorney_id": power_of_attorney_id})


def ready_to_submit(login: Any, agent: Any, case_id: str) -> None:
    """Scans uploaded, seller and buyer confirmed (what the agent's clients do on their phones)."""
    upload_missing(agent, case_id)
    for username in ("zhangsan", "lisi"):
        assert login(username).post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    make_application_forms(agent.client.application)


def notarial_checks(agent: Any, case_id: str) -> list[dict[str, Any]]:
    items = agent.get(f"/api/v1/applications/{case_id}/verifications").get_json()["items"]
    return [c for c in items if c["source"] == "notarial"]


def test_an_agent_sells_a_flat_for_its_client_under_a_notarised_power_of_attorney(
        login: Any, page_login: Any, simulator: LiveServer) -> None:
    agent = login("agent")
    poa_id = recorded(agent)
    listed = agent.get("/api/v1/powers-of-attorney").get_json()["items"]
    assert [(p["id"], p["principal_name"]) for p in listed] == [(poa_id, "张*")]  # masked

    created = file(agent, poa_id)
    assert created.status_code == 201, created.get_json()
    case = created.get_json()
    assert case["channel"] == "institution"
    assert case["power_of_attorney"]["id"] == poa_id and case["power_of_attorney"]["notarial_no"] == NOTARISED
    clerk_view = login("xh_acceptor").get(f"/api/v1/applications/{case['id']}")
    assert clerk_view.status_code == 200 and clerk_view.get_json()["power_of_attorney"]["principal_name"] == "张*"
    assert case["form"]["has_agent"] is True  # a case with an agent: the 经办人 and the 委托书 are asked for
    assert "agent_identity" in case["materials_missing"]
    # the notarised 委托书 of the disposing seller waits for 司法's check at submission: deferred, not asked
    assert "power_of_attorney" in case["materials_deferred"] and "power_of_attorney" not in case["materials_missing"]
    assert notarial_checks(agent, case["id"]) == []  # 司法 is asked at submission, not at filing

    upload_missing(agent, case["id"])
    for who, role in ((ZHANG_SAN, "seller"), (LI_SI, "buyer")):
        sent = agent.post(f"/api/v1/applications/{case['id']}/invitations",
                          json={"phone": who["phone"], "party_role": role})
        assert sent.status_code == 201, sent.get_json()
        assert "/invite/" in last_sms(simulator.url, who["phone"], "case_invitation")["params"]["link"]
    not_yet = agent.post(f"/api/v1/applications/{case['id']}/submit")
    assert not_yet.status_code in (409, 422), not_yet.get_json()  # the client has not confirmed
    refused = agent.post(f"/api/v1/applications/{case['id']}/confirm")
    assert refused.status_code == 403 and refused.get_json()["code"] == "not_a_party"  # the agent signs nothing
    for username in ("zhangsan", "lisi"):
        assert login(username).post(f"/api/v1/applications/{case['id']}/confirm").status_code == 200
    make_application_forms(agent.client.application)
    submitted = agent.post(f"/api/v1/applications/{case['id']}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["business_no"] and submitted.get_json()["status"] == "accepting"
    [notarial] = notarial_checks(agent, case["id"])
    assert notarial["department"] == "司法" and notarial["result"] == "一致" and notarial["subject_role"] == "seller"
    waived = agent.get(f"/api/v1/applications/{case['id']}").get_json()["materials_waived"]
    assert [w["code"] for w in waived if w["source"] == "notarial"] == ["power_of_attorney"]
    page = page_login("xh_acceptor").get(f"/workbench/cases/{case['id']}").get_data(as_text=True)
    assert f"代理办理：授权委托书（委托人 张*，公证书 {NOTARISED}，委托期限至" in page  # what 受理 checks


def test_the_agent_sees_only_the_cases_it_filed_for_its_clients(login: Any, simulator: LiveServer) -> None:
    agent = login("agent")
    mine = file(agent, recorded(agent)).get_json()["id"]
    own = login("zhangsan").post("/api/v1/applications", json={"business_type": "mortgage_first", "form": {
        "unit_code": OTHER_UNIT, "mortgagor_name": ZHANG_SAN["name"], "mortgagor_id_number": ZHANG_SAN["id_number"]}})
    assert own.status_code == 201, own.get_json()
    other = own.get_json()["id"]  # 张三's own application, not filed through the agent
    assert agent.get(f"/api/v1/applications/{other}").status_code == 404
    assert agent.patch(f"/api/v1/applications/{other}", json={"form": {"use": "住宅"}}).status_code == 404
    assert [c["id"] for c in agent.get("/api/v1/applications").get_json()["items"]] == [mine]
    assert login("zhangsan").get(f"/api/v1/applications/{mine}").status_code == 200  # the client sees his case


def test_filing_is_refused_with_the_field_that_is_wrong(login: Any, simulator: LiveServer, seeded: Any) -> None:
    agent = login("agent")
    missing = file(agent, None)
    assert missing.status_code == 422
    assert missing.get_json()["errors"]["power_of_attorney_id"] == ["代理办理须选择已备案的授权委托书"]

    poa_id = recorded(agent)
    kind = file(agent, poa_id, "mortgage_first", {"unit_code": SOLD_UNIT, "mortgagor_name": ZHANG_SAN["name"],
                                                   "mortgagor_id_number": ZHANG_SAN["id_number"]})
    assert kind.status_code == 422
    assert kind.get_json()["errors"]["business_type"] == ["授权委托书的委托事项不包括该业务类型"]
    unit = file(agent, poa_id, form={**SALE, "unit_code": OTHER_UNIT})
    assert unit.status_code == 422
    assert unit.get_json()["errors"]["unit_code"] == ["授权委托书的委托范围不包括该不动产单元"]

    unnotarised = file(agent, recorded(agent, notarial_no=None))
    assert unnotarised.status_code == 422
    assert "须经公证" in unnotarised.get_json()["errors"]["power_of_attorney_id"][0]

    draft = file(agent, poa_id).get_json()["id"]  # an edit stays within the 委托书 too
    moved = agent.patch(f"/api/v1/applications/{draft}", json={"form": {"unit_code": OTHER_UNIT}})
    assert moved.status_code == 422
    assert moved.get_json()["errors"]["unit_code"] == ["授权委托书的委托范围不包括该不动产单元"]
    assert agent.get(f"/api/v1/applications/{draft}").get_json()["unit_code"] == SOLD_UNIT  # nothing changed

    # The buyer's 委托书 needs no 公证: he disposes of nothing (细则 12 is about disposing); its scan is asked for.
    buyer_side = file(agent, recorded(agent, who=LI_SI, notarial_no=None))
    assert buyer_side.status_code == 201, buyer_side.get_json()
    assert "power_of_attorney" in buyer_side.get_json()["materials_missing"]

    from app.casefile.attorney_models import PowerOfAttorney

    with seeded.app_context(), seeded.extensions["db"].unit_of_work() as session:  # the 委托书 has run out
        session.get(PowerOfAttorney, poa_id).valid_until = date.today() - timedelta(days=1)
    expired = file(agent, poa_id)
    assert expired.status_code == 422 and "已于" in expired.get_json()["errors"]["power_of_attorney_id"][0]
    assert "到期" in expired.get_json()["errors"]["power_of_attorney_id"][0]


def test_recording_a_power_of_attorney_checks_each_field(login: Any) -> None:
    agent = login("agent")
    bad = agent.post("/api/v1/powers-of-attorney", json=attorney(
        principal_id_number="33010619800101001", business_types=["no_such_type"], unit_codes=["123"],
        valid_until=(date.today() - timedelta(days=1)).isoformat()))
    assert bad.status_code == 422
    errors = bad.get_json()["errors"]
    assert errors["principal_id_number"] == ["身份证号应为18位"]
    assert errors["business_types"] == ["没有该业务类型：no_such_type"]
    assert errors["unit_codes"] == ["123：不动产单元代码应为28位"]
    assert errors["valid_until"] == ["委托期限已届满，不能备案"]
    not_an_agent = login("bank").post("/api/v1/powers-of-attorney", json=attorney())
    assert not_an_agent.status_code == 403 and not_an_agent.get_json()["code"] == "not_an_agent"
    assert login("bank").get("/api/v1/powers-of-attorney").status_code == 403


def test_a_notarisation_justice_does_not_confirm_refuses_the_submission(login: Any, simulator: LiveServer) -> None:
    agent = login("agent")
    unknown = file(agent, recorded(agent, notarial_no="(2025)浙杭西证字第999999号"))
    assert unknown.status_code == 201, unknown.get_json()
    ready_to_submit(login, agent, unknown.get_json()["id"])
    refused = agent.post(f"/api/v1/applications/{unknown.get_json()['id']}/submit")
    assert refused.status_code == 422 and "未查询到公证书" in refused.get_json()["errors"]["notarial_no"][0]

    simulator_control(simulator, "sifa", "mismatch")  # 司法 answers, but its record differs
    case_id = file(agent, recorded(agent)).get_json()["id"]
    ready_to_submit(login, agent, case_id)
    differs = agent.post(f"/api/v1/applications/{case_id}/submit")
    assert differs.status_code == 422
    assert differs.get_json()["errors"]["notarial_no"] == ["该公证书不是委托人的授权委托书公证，请核对公证书编号"]
    assert agent.get(f"/api/v1/applications/{case_id}").get_json()["status"] == "draft"  # nothing submitted


def test_when_justice_cannot_answer_the_case_waits_and_resumes(login: Any, seeded: Any, simulator: LiveServer) -> None:
    """DESIGN.md: a department that cannot answer never fails the request — the case waits and resumes."""
    from sqlalchemy import select

    from app.integrations.models import Interface
    from app.jobs import recheck_verifications, run_job

    with seeded.extensions["db"].unit_of_work() as session:  # one attempt, as an operator would set it
        sifa = session.execute(select(Interface).where(Interface.code == "sifa")).scalar_one()
        sifa.max_retries, sifa.breaker_threshold = 0, 5
    agent = login("agent")
    simulator_control(simulator, "sifa", "fail")
    created = file(agent, recorded(agent))
    assert created.status_code == 201, created.get_json()  # filing asks 司法 nothing
    case_id = created.get_json()["id"]
    ready_to_submit(login, agent, case_id)
    submitted = agent.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    case = agent.get(f"/api/v1/applications/{case_id}").get_json()
    assert case["status"] == "awaiting_check" and case["business_no"]
    [pending] = notarial_checks(agent, case_id)
    assert pending["result"] == "未核验" and pending["pending"] is True
    assert "power_of_attorney" in case["materials_deferred"]  # not asked for while 司法 has not answered

    simulator_control(simulator, "sifa", "ok")
    run_job(seeded.extensions["db"], "verifications", recheck_verifications)
    case = agent.get(f"/api/v1/applications/{case_id}").get_json()
    assert case["status"] == "accepting", case["status"]
    checks = notarial_checks(agent, case_id)
    assert checks[-1]["result"] == "一致" and not any(c["pending"] for c in checks)  # the waiting one resolved
    assert "power_of_attorney" in [w["code"] for w in case["materials_waived"]]


def test_a_revoked_power_of_attorney_files_nothing_more(login: Any, simulator: LiveServer) -> None:
    agent = login("agent")
    by_agent = recorded(agent)
    draft = file(agent, by_agent).get_json()["id"]  # a draft filed before the revocation
    assert login("bank").post(f"/api/v1/powers-of-attorney/{by_agent}/revoke",
                              json={"reason": "不相干的机构"}).status_code == 404  # not its 委托书
    assert login("lisi").post(f"/api/v1/powers-of-attorney/{by_agent}/revoke",
                              json={"reason": "不是委托人"}).status_code == 404
    short = agent.post(f"/api/v1/powers-of-attorney/{by_agent}/revoke", json={"reason": ""})
    assert short.status_code == 422 and "reason" in short.get_json()["errors"]
    revoked = agent.post(f"/api/v1/powers-of-attorney/{by_agent}/revoke", json={"reason": "委托事项已办结"})
    assert revoked.status_code == 200 and revoked.get_json()["revoke_reason"] == "委托事项已办结"
    assert revoked.get_json()["revoked_at"]
    refused = file(agent, by_agent)
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["power_of_attorney_id"] == ["该授权委托书已撤销，不能再据此代理申请"]
    again = agent.post(f"/api/v1/powers-of-attorney/{by_agent}/revoke", json={"reason": "再次撤销"})
    assert again.status_code == 409 and again.get_json()["code"] == "already_revoked"

    by_principal = recorded(agent)  # 张三 withdraws the mandate from his own account
    assert login("zhangsan").post(f"/api/v1/powers-of-attorney/{by_principal}/revoke",
                                  json={"reason": "本人自行办理"}).status_code == 200
    assert file(agent, by_principal).status_code == 422

    at_window = recorded(agent)  # … or at the registry's window, where the clerk records it
    assert login("xh_acceptor").post(f"/api/v1/powers-of-attorney/{at_window}/revoke",
                                     json={"reason": "委托人到窗口申请撤销委托"}).status_code == 200
    assert file(agent, at_window).status_code == 422
    listed = {p["id"]: p for p in agent.get("/api/v1/powers-of-attorney").get_json()["items"]}
    assert all(listed[i]["revoked_at"] for i in (by_agent, by_principal, at_window))
    edited = agent.patch(f"/api/v1/applications/{draft}", json={"form": {"remarks": "补充说明"}})
    assert edited.status_code == 422  # the draft cannot go on under the revoked 委托书
    assert edited.get_json()["errors"]["power_of_attorney_id"] == ["该授权委托书已撤销，不能再据此代理申请"]
