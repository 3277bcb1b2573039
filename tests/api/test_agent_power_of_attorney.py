"""代理人 under a 授权委托书 (细则 12; issue 19): the demo 房屋经纪机构 records the 委托书 张三 gave it — notarised,
司法 confirms the 公证书 — and files his flat's sale for him; 张三 and the buyer still confirm (invited by SMS);
the agent submits. Refusals name the field; the agent sees only the cases it filed for its clients."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from portal_account_helpers import last_sms
from support.cases import make_application_forms
from support.forms import transfer_form, upload_missing
from support.servers import LiveServer, simulator_control

from app.demo import LI_SI, ZHANG_SAN
from app.identifiers import make_unit_code

NOTARISED = "(2025)浙杭西证字第000101号"  # simulator/data.py: 张三's 委托书公证
SOLD_UNIT = transfer_form()["unit_code"]
SALE = transfer_form(seller_name=ZHANG_SAN["name"], seller_id_number=ZHANG_SAN["id_number"])  # typed by the agent
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
    checks = agent.get(f"/api/v1/applications/{case['id']}/verifications").get_json()["items"]
    [notarial] = [c for c in checks if c["source"] == "notarial"]
    assert notarial["department"] == "司法" and notarial["result"] == "一致"

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
    assert submitted.get_json()["business_no"]
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

    unknown = file(agent, recorded(agent, notarial_no="(2025)浙杭西证字第999999号"))
    assert unknown.status_code == 422 and "未查询到公证书" in unknown.get_json()["errors"]["notarial_no"][0]
    unnotarised = file(agent, recorded(agent, notarial_no=None))
    assert unnotarised.status_code == 422
    assert "须经公证" in unnotarised.get_json()["errors"]["power_of_attorney_id"][0]

    draft = file(agent, poa_id).get_json()["id"]  # an edit stays within the 委托书 too
    moved = agent.patch(f"/api/v1/applications/{draft}", json={"form": {"unit_code": OTHER_UNIT}})
    assert moved.status_code == 422
    assert moved.get_json()["errors"]["unit_code"] == ["授权委托书的委托范围不包括该不动产单元"]
    assert agent.get(f"/api/v1/applications/{draft}").get_json()["unit_code"] == SOLD_UNIT  # nothing changed

    # The buyer's 委托书 needs no 公证: he disposes of nothing (细则 12 is about disposing).
    buyer_side = file(agent, recorded(agent, who=LI_SI, notarial_no=None))
    assert buyer_side.status_code == 201, buyer_side.get_json()

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


def test_when_justice_cannot_confirm_the_notarisation_nothing_is_filed(login: Any, simulator: LiveServer) -> None:
    agent = login("agent")
    poa_id = recorded(agent)
    simulator_control(simulator, "sifa", "mismatch")  # 司法 answers, but its record differs
    differs = file(agent, poa_id)
    assert differs.status_code == 422
    assert differs.get_json()["errors"]["notarial_no"] == ["该公证书不是委托人的授权委托书公证，请核对公证书编号"]
    simulator_control(simulator, "sifa", "fail")  # 司法 down: a clear answer to try again, no draft left
    down = file(agent, poa_id)
    assert down.status_code == 503 and "暂不可用" in down.get_json()["detail"], down.get_json()
    assert agent.get("/api/v1/applications").get_json()["items"] == []
    simulator_control(simulator, "sifa", "ok")
    assert file(agent, poa_id).status_code == 201
