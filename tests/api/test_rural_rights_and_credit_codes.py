"""Rural right types and credit codes of every registering authority (issue 13 §4): a 村集体经济组织 whose
credit code starts with N (its 主体标识码 is not a GB 11714 organisation code) is accepted as an account, in the
register import, in the forms and by the organisation check; the mortgage rule refuses by the unit's registered
right type (民法典 398/399), not by a use someone typed."""
from __future__ import annotations

from typing import Any

from support.cases import complete_stage, file_application
from support.personas import STAFF

# The issue's example: valid under GB 32100, its embedded part fails GB 11714's check.
N_CODE = "N2330104MF00000013"


def mortgage_form(unit_code: str, mortgagor: dict[str, str], mortgagee: dict[str, str], **overrides: Any) -> dict:
    form = {"unit_code": unit_code, "cert_no": "浙(2019)余杭区不动产权第0300001号", "use": "住宅",
            "mortgagor_name": mortgagor["name"], "mortgagor_id_number": mortgagor["id_number"],
            "mortgagee_name": mortgagee["name"], "mortgagee_uscc": mortgagee["id_number"], "mortgage_kind": "一般抵押",
            "debt_amount": 3_000_000, "debt_start": "2026-12-01", "debt_end": "2031-11-30",
            "guarantee_scope": "主债权及利息、违约金、损害赔偿金和实现抵押权的费用", "transfer_restricted": False,
            "contract_no": "DY2026-0301"}
    form.update(overrides)
    return form


def test_the_village_collective_mortgages_its_factory_with_the_buildings_at_the_recorded_tariff(login: Any) -> None:
    from app.demo import BANK, VILLAGE_COLLECTIVE, VILLAGE_FACTORY_UNIT

    form = mortgage_form(VILLAGE_FACTORY_UNIT, VILLAGE_COLLECTIVE, BANK)  # declared 住宅; the register says 非住宅
    submitted = file_application(login, "village", "mortgage_first", form, confirmers=("bank",))
    assert submitted.status_code == 200, submitted.get_json()
    case = submitted.get_json()
    mortgageable = next(r for r in case["rule_results"] if r["code"] == "mortgageable")
    assert mortgageable["severity"] == "pass"
    assert [(i["code"], i["amount_yuan"], i["payer_role"]) for i in case["fee_items"]] == [
        ("registration_non_residential", 550, "mortgagee")]
    assert "按登记簿记载的用途“非住宅”计收，申请填报为“住宅”" in case["fee_items"][0]["basis"]

    village = login("village")
    checks = village.get(f"/api/v1/applications/{case['id']}/verifications").get_json()["items"]
    licence = next(c for c in checks if c["source"] == "business_licence" and c["subject_role"] == "mortgagor")
    assert licence["result"] == "一致", licence
    for stage in ("受理", "审核", "登簿", "缮证"):
        resp = complete_stage(login(STAFF[stage].replace("xh_", "yh_")), case["business_no"], stage)
        assert resp.status_code == 200, resp.get_json()
    unit = village.get(f"/api/v1/units/{VILLAGE_FACTORY_UNIT}").get_json()
    assert unit["flags"]["mortgaged"] and unit["flags"]["has_current_title"]
    assert {r["type"] for r in unit["rights"]} == {"collective_house", "mortgage"}


def test_a_homestead_cannot_be_mortgaged(login: Any) -> None:
    from app.demo import BANK, HOMESTEAD_UNIT, VILLAGER

    form = mortgage_form(HOMESTEAD_UNIT, VILLAGER, BANK, cert_no="浙(2020)余杭区不动产权第0300002号")
    refused = file_application(login, "villager", "mortgage_first", form, confirmers=("bank",))
    assert refused.status_code == 422, refused.get_json()
    problem = refused.get_json()
    assert problem["code"] == "rule_blocked"
    assert "宅基地使用权/房屋所有权，宅基地使用权依法不得抵押" in problem["detail"]
    assert "尚未办理首次登记" not in problem["detail"] and "不是" not in problem["detail"]  # only 399 refuses


def test_collective_construction_land_alone_is_mortgaged_only_when_granted(login: Any, db: Any) -> None:
    from app.demo import BANK, VILLAGE_COLLECTIVE
    from app.identifiers import make_unit_code
    from app.registry.importer import import_records

    allotted, granted = (make_unit_code("330110", 2, 1, "JB", 302 + n, 0, 0, fixture="W") for n in range(2))
    with db.unit_of_work() as session:
        records = [{"unit_code": code, "tenant": "330110", "location": f"杭州市余杭区示范村地块{n}", "use": "非住宅",
                    "area_m2": "5000", "right_nature": nature, "_line": n,
                    "rights": [{"type": "collective_land", "business_no": f"2021330110103000{n:02d}",
                                "registered_at": "2021-03-01", "cert_no": f"浙(2021)余杭区不动产权第030001{n}号",
                                "holders": [{"name": VILLAGE_COLLECTIVE["name"], "id_type": "统一社会信用代码",
                                             "id_number": VILLAGE_COLLECTIVE["id_number"]}]}]}
                   for n, (code, nature) in enumerate(((allotted, "批准拨用"), (granted, "出让")), start=1)]
        assert import_records(session, records, source="test").ok

    refused = file_application(login, "village", "mortgage_first", mortgage_form(allotted, VILLAGE_COLLECTIVE, BANK),
                               confirmers=("bank",))
    assert refused.status_code == 422 and "集体建设用地使用权，不得单独抵押" in refused.get_json()["detail"]
    accepted = file_application(login, "village", "mortgage_first", mortgage_form(granted, VILLAGE_COLLECTIVE, BANK),
                                confirmers=("bank",))
    assert accepted.status_code == 200, accepted.get_json()


def test_a_credit_code_of_the_agriculture_authority_is_accepted_as_a_mortgagee(login: Any) -> None:
    from app.demo import HOMESTEAD_UNIT, ZHANG_SAN

    lender = {"name": "杭州市江干区示例村股份经济合作社", "id_number": N_CODE}
    created = login("zhangsan").post("/api/v1/applications", json={
        "business_type": "mortgage_first", "form": mortgage_form(HOMESTEAD_UNIT, ZHANG_SAN, lender)})
    assert created.status_code == 201, created.get_json()

    bad = {**lender, "id_number": N_CODE[:-1] + "2"}
    refused = login("zhangsan").post("/api/v1/applications", json={
        "business_type": "mortgage_first", "form": mortgage_form(HOMESTEAD_UNIT, ZHANG_SAN, bad)})
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["mortgagee_uscc"] == ["抵押权人统一社会信用代码：统一社会信用代码校验位错误"]


def test_the_register_keeps_the_rural_right_types_by_name(login: Any) -> None:
    from app.demo import HOMESTEAD_UNIT

    unit = login("yh_acceptor").get(f"/api/v1/units/{HOMESTEAD_UNIT}").get_json()
    assert [r["type"] for r in unit["rights"]] == ["homestead_house"]
    assert unit["flags"]["has_current_title"] is True
