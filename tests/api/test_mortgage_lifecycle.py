"""抵押权首次登记: the owner and the bank apply jointly; after 登簿 the unit shows as mortgaged."""
from __future__ import annotations

from typing import Any

from support.cases import complete_stage
from support.forms import upload_missing


def test_a_first_mortgage_is_recorded_and_the_unit_is_flagged_mortgaged(login: Any) -> None:
    from app.demo import BANK
    from app.identifiers import make_unit_code

    owner, bank = login("zhangsan"), login("bank")
    unit_code = make_unit_code("330106", 1, 1, "GB", 100, 1, 102)
    form = {"unit_code": unit_code, "cert_no": "浙(2015)西湖区不动产权第0000002号", "use": "住宅",
            "mortgagee_name": BANK["name"], "mortgagee_uscc": BANK["id_number"], "mortgage_kind": "一般抵押",
            "debt_amount": 1_200_000, "debt_start": "2026-12-01", "debt_end": "2046-11-30",
            "guarantee_scope": "主债权及利息、违约金、损害赔偿金和实现抵押权的费用", "transfer_restricted": False,
            "contract_no": "DY2026-0099"}
    created = owner.post("/api/v1/applications", json={"business_type": "mortgage_first", "form": form})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(owner, case_id)
    assert owner.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    assert bank.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    submitted = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    business_no = submitted.get_json()["business_no"]
    assert business_no[10:12] == "90"
    assert owner.get(f"/api/v1/units/{unit_code}").get_json()["flags"]["mortgaged"] is False

    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿"),
                            ("xh_certifier", "缮证")]:
        resp = complete_stage(login(username), business_no, stage)
        assert resp.status_code == 200, resp.get_json()
    unit = owner.get(f"/api/v1/units/{unit_code}").get_json()
    assert unit["flags"]["mortgaged"] is True and unit["flags"]["has_current_title"] is True
    mortgage = next(r for r in unit["rights"] if r["type"] == "mortgage")
    assert mortgage["amount_yuan"] == 1_200_000 and mortgage["business_no"] == business_no


def test_the_demo_register_has_a_seized_and_a_mortgaged_unit(login: Any) -> None:
    from app.identifiers import make_unit_code

    clerk = login("xh_acceptor")
    seized = clerk.get(f"/api/v1/units/{make_unit_code('330106', 1, 1, 'GB', 100, 1, 104)}").get_json()
    mortgaged = clerk.get(f"/api/v1/units/{make_unit_code('330106', 1, 1, 'GB', 100, 1, 105)}").get_json()
    assert seized["flags"]["seized"] and mortgaged["flags"]["mortgaged"]
    assert len(login("zhangsan").get("/api/v1/units", query_string={"mine": 1}).get_json()["items"]) == 3
