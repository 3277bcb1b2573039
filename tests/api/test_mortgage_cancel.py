"""抵押权注销登记: the mortgagee (the demo bank) applies alone; after 登簿 the mortgage is history, the unit is
no longer flagged mortgaged, and no certificate is issued. A bank without a mortgage on the unit is refused."""
from __future__ import annotations

from typing import Any

from support.cases import complete_stage
from support.forms import upload_missing


def _unit(n: int) -> str:
    from app.identifiers import make_unit_code

    return make_unit_code("330106", 1, 1, "GB", 100, 1, 100 + n)


def test_the_bank_cancels_its_mortgage_on_the_demo_unit(login: Any) -> None:
    from app.demo import BANK

    bank, clerk = login("bank"), login("xh_acceptor")
    unit_code = _unit(5)
    assert clerk.get(f"/api/v1/units/{unit_code}").get_json()["flags"]["mortgaged"] is True
    created = bank.post("/api/v1/applications", json={"business_type": "mortgage_cancel",
                                                      "form": {"unit_code": unit_code, "reason": "debt_repaid"}})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    detail = bank.get(f"/api/v1/applications/{case_id}").get_json()
    assert detail["form"]["mortgagee_uscc"] == BANK["id_number"]  # prefilled from the bank's identity
    upload_missing(bank, case_id)  # materials first: a signature covers them (app/casefile/consent.py)
    assert bank.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    submitted = bank.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    business_no = submitted.get_json()["business_no"]
    assert business_no[10:12] == "40"

    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿"),
                            ("xh_certifier", "缮证")]:
        resp = complete_stage(login(username), business_no, stage)
        assert resp.status_code == 200, resp.get_json()
    unit = clerk.get(f"/api/v1/units/{unit_code}").get_json()
    assert unit["flags"]["mortgaged"] is False and unit["flags"]["has_current_title"] is True
    assert not [r for r in unit["rights"] if r["type"] == "mortgage"]
    case = bank.get(f"/api/v1/applications/{case_id}").get_json()
    assert case["status"] == "completed", case["status"]


def test_a_bank_without_a_mortgage_on_the_unit_is_refused(login: Any) -> None:
    bank = login("bank")
    created = bank.post("/api/v1/applications", json={"business_type": "mortgage_cancel",
                                                      "form": {"unit_code": _unit(1), "reason": "debt_repaid"}})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(bank, case_id)  # materials first: a signature covers them (app/casefile/consent.py)
    assert bank.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    refused = bank.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 422, refused.get_json()
    body = refused.get_json()
    assert "不是" in str(body) and "抵押权" in str(body), body


def test_a_wrong_proof_number_is_refused(login: Any) -> None:
    bank = login("bank")
    created = bank.post("/api/v1/applications", json={"business_type": "mortgage_cancel", "form": {
        "unit_code": _unit(5), "proof_no": "浙(2023)西湖区不动产证明第9999999号", "reason": "debt_repaid"}})
    case_id = created.get_json()["id"]
    upload_missing(bank, case_id)  # materials first: a signature covers them (app/casefile/consent.py)
    assert bank.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    refused = bank.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 422, refused.get_json()
    assert "9999999" in str(refused.get_json())
