"""异议登记: an interested party applies alone; 登簿 records an objection held by the objector, who gets a
不动产登记证明; a later transfer of the unit is accepted with the objection warning (R4)."""
from __future__ import annotations

from typing import Any

from support.cases import complete_stage
from support.forms import transfer_form, upload_material, upload_missing


def _unit(n: int) -> str:
    from app.identifiers import make_unit_code

    return make_unit_code("330106", 1, 1, "GB", 100, 1, 100 + n)


def test_an_objection_is_recorded_certified_and_warns_a_later_transfer(login: Any) -> None:
    objector, unit_code = login("lisi"), _unit(3)
    form = {"unit_code": unit_code, "use": "住宅", "objection_matter": "登记簿记载的权利人应为李四（已付清全部房款）",
            "interest_basis": "李四与张三于 2014 年签订房屋买卖合同"}
    created = objector.post("/api/v1/applications", json={"business_type": "objection", "form": form})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(objector, case_id)
    assert objector.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    submitted = objector.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    body = submitted.get_json()
    business_no = body["business_no"]
    assert business_no[10:12] == "60" and body["fee_total_yuan"] == 40
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿"),
                            ("xh_certifier", "缮证")]:
        resp = complete_stage(login(username), business_no, stage)
        assert resp.status_code == 200, resp.get_json()

    case = objector.get(f"/api/v1/applications/{case_id}").get_json()
    assert case["status"] == "completed"
    [proof] = case["certificates"]
    assert proof["kind"] == "proof" and proof["status"] == "valid"
    unit = login("xh_acceptor").get(f"/api/v1/units/{unit_code}").get_json()
    assert unit["flags"]["objection"] is True and unit["flags"]["has_current_title"] is True

    # 张三 sells the unit anyway: accepted, with the objection warning kept on the case (R4).
    seller = login("zhangsan")
    sale = seller.post("/api/v1/applications", json={"business_type": "transfer_resale",
                                                     "form": transfer_form(unit_code=unit_code)})
    assert sale.status_code == 201, sale.get_json()
    sale_id = sale.get_json()["id"]
    upload_missing(seller, sale_id)
    assert seller.post(f"/api/v1/applications/{sale_id}/confirm").status_code == 200
    assert objector.post(f"/api/v1/applications/{sale_id}/confirm").status_code == 200
    refused = seller.post(f"/api/v1/applications/{sale_id}/submit")  # R4: not without the risk statement
    assert refused.status_code == 422 and "自担风险的书面声明" in refused.get_json()["detail"]
    upload_material(seller, sale_id, "objection_risk_statement")
    for party in (seller, objector):  # the statement joins what they signed: both sign again
        assert party.post(f"/api/v1/applications/{sale_id}/confirm").status_code == 200
    resp = seller.post(f"/api/v1/applications/{sale_id}/submit")
    assert resp.status_code == 200, resp.get_json()
    results = {r["code"]: r for r in resp.get_json()["rule_results"]}
    assert results["objection"]["severity"] == "warn" and "异议登记" in results["objection"]["message"]
