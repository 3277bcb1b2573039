"""Several owners act together (细则 10; 民法典 301): a disposing party role is filled from the register's
current holders, every member who applies confirms, and R7 counts them — all joint owners, ≥ 2/3 of the
shares (or all), 其它共有 without recorded shares: all."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from support.cases import take_through
from support.forms import transfer_form, upload_missing
from test_registration_rules import add_right, mortgage_form, results_by_code, unit

from app.demo import BANK, JOINT_UNIT, LI_SI, SUN_YUE, WU_HAO, ZHANG_SAN
from app.identifiers import make_unit_code, make_uscc
from app.identity.service import create_user
from app.registry.models import RealtyUnit, Right

JOINT = make_unit_code("330106", 1, 1, "GB", 100 + (JOINT_UNIT - 1) // 8, 1 + (JOINT_UNIT - 1) // 8,
                       100 + JOINT_UNIT)


def _create(api: Any, business_type: str, form: dict[str, Any]) -> str:
    created = api.post("/api/v1/applications", json={"business_type": business_type, "form": form})
    assert created.status_code == 201, created.get_json()
    case_id: str = created.get_json()["id"]
    upload_missing(api, case_id)
    return case_id


def _joint_sale() -> dict[str, Any]:
    return transfer_form(unit_code=JOINT, contract_no=f"WQ2026-{JOINT_UNIT:06d}", price=1_800_000 + JOINT_UNIT * 25_000)


def test_joint_owners_sell_together_each_confirming_and_the_buyer_gets_the_flat(login: Any) -> None:
    wu, sun, li = login("wuhao"), login("sunyue"), login("lisi")
    case_id = _create(wu, "transfer_resale", _joint_sale())

    case = wu.get(f"/api/v1/applications/{case_id}").get_json()
    sellers = [p for p in case["parties"] if p["role"] == "seller"]
    assert [p["name"] for p in sellers] == ["吴*", "孙*"]  # the register says who holds: nobody typed 孙悦
    assert [p["share_mode"] for p in sellers] == ["共同共有", "共同共有"]
    assert all(not p["confirmed"] for p in case["parties"])

    for api in (wu, li):
        assert api.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    refused = wu.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["code"] == "not_ready" and "待转让方（孙*）确认申请并签名" in body["errors"]["confirmations"]
    assert any("共同共有" in m and "全体" in m for m in body["errors"]["confirmations"])

    assert sun.get(f"/api/v1/applications/{case_id}").status_code == 200  # the second owner is a party: no 404
    assert sun.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    submitted = wu.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    rule = results_by_code(submitted.get_json())["holder_identity"]
    assert rule["severity"] == "pass" and "全体共有人" in rule["message"]

    take_through(login, submitted.get_json()["business_no"])
    mine = li.get("/api/v1/units", query_string={"mine": 1}).get_json()["items"]
    assert JOINT in [u["unit_code"] for u in mine]
    for api in (wu, sun):
        assert JOINT not in [u["unit_code"] for u in api.get("/api/v1/units", query_string={"mine": 1})
                             .get_json()["items"]]


def test_the_demo_register_holds_the_joint_flat_for_both_spouses(login: Any) -> None:
    unit_json = login("xh_acceptor").get(f"/api/v1/units/{JOINT}").get_json()
    title = next(r for r in unit_json["rights"] if r["type"] == "ownership")
    assert len(title["holders"]) == 2
    for api in (login("wuhao"), login("sunyue")):
        assert [u["unit_code"] for u in api.get("/api/v1/units", query_string={"mine": 1}).get_json()["items"]] \
            == [JOINT]


def test_a_co_owner_by_shares_below_two_thirds_waits_for_the_others(login: Any, db: Any) -> None:
    add_right(db, unit(2), "ownership", [ZHANG_SAN, LI_SI], kind="person", share_mode="按份共有",
              shares=["1/3", "2/3"], end_current=True)
    zhang, li, buyer = login("zhangsan"), login("lisi"), login("wuhao")
    form = transfer_form(unit_code=unit(2), buyer_name=WU_HAO["name"], buyer_id_number=WU_HAO["id_number"],
                         contract_no="WQ2026-000002", price=1_850_000)
    case_id = _create(zhang, "transfer_resale", form)
    for api in (zhang, buyer):
        assert api.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    refused = zhang.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 422
    messages = refused.get_json()["errors"]["confirmations"]
    assert any("三分之二" in m and "1/3" in m for m in messages)
    assert "待转让方（李*）确认申请并签名" in messages
    assert li.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    submitted = zhang.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()


def test_the_holder_of_two_thirds_disposes_without_the_other_co_owner(login: Any, db: Any) -> None:
    add_right(db, unit(2), "ownership", [LI_SI, ZHANG_SAN], kind="person", share_mode="按份共有",
              shares=["1/3", "2/3"], end_current=True)
    zhang, bank = login("zhangsan"), login("bank")
    case_id = _create(zhang, "mortgage_first", {**mortgage_form(unit(2)), "mortgagor_name": ZHANG_SAN["name"],
                                                "mortgagor_id_number": ZHANG_SAN["id_number"]})
    mortgagors = [p for p in zhang.get(f"/api/v1/applications/{case_id}").get_json()["parties"]
                  if p["role"] == "mortgagor"]
    assert [p["name"] for p in mortgagors] == ["张*", "李*"]
    for api in (zhang, bank):
        assert api.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    submitted = zhang.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert "三分之二" in results_by_code(submitted.get_json())["holder_identity"]["message"]


def test_other_co_ownership_without_recorded_shares_needs_every_co_owner(login: Any, db: Any) -> None:
    """The gap the issue found: under 其它共有 one of two owners could sell the whole unit alone."""
    add_right(db, unit(3), "ownership", [ZHANG_SAN, LI_SI], kind="person", share_mode="其它共有",
              end_current=True)
    zhang, li, buyer = login("zhangsan"), login("lisi"), login("wuhao")
    form = transfer_form(unit_code=unit(3), buyer_name=WU_HAO["name"], buyer_id_number=WU_HAO["id_number"],
                         contract_no="WQ2026-000003", price=1_875_000)
    case_id = _create(zhang, "transfer_resale", form)
    for api in (zhang, buyer):
        assert api.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    refused = zhang.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 422
    assert any("其它共有" in m and "全体" in m for m in refused.get_json()["errors"]["confirmations"])
    assert li.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    submitted = zhang.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert "全体共有人（其它共有）" in results_by_code(submitted.get_json())["holder_identity"]["message"]


def test_joint_owners_mortgage_together_and_the_proof_names_both_as_obligors(login: Any) -> None:
    wu, sun, bank = login("wuhao"), login("sunyue"), login("bank")
    form = {**mortgage_form(JOINT), "cert_no": f"浙(2015)西湖区不动产权第{JOINT_UNIT:07d}号",
            "mortgagor_name": WU_HAO["name"], "mortgagor_id_number": WU_HAO["id_number"]}
    case_id = _create(wu, "mortgage_first", form)
    for api in (wu, bank):
        assert api.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    assert wu.post(f"/api/v1/applications/{case_id}/submit").status_code == 422
    assert sun.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    submitted = wu.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    take_through(login, submitted.get_json()["business_no"])
    assert login("xh_acceptor").get(f"/api/v1/units/{JOINT}").get_json()["flags"]["mortgaged"] is True


def test_a_stranger_named_as_seller_gets_no_co_owners_and_is_refused(login: Any, db: Any) -> None:
    """The register fills members only when the form's entry is a holder: nobody else's flat leaks."""
    li = login("lisi")
    form = transfer_form(unit_code=JOINT, seller_name=LI_SI["name"], seller_id_number=LI_SI["id_number"],
                         buyer_name=ZHANG_SAN["name"], buyer_id_number=ZHANG_SAN["id_number"])
    case_id = _create(li, "transfer_resale", form)
    parties = li.get(f"/api/v1/applications/{case_id}").get_json()["parties"]
    assert [p["role"] for p in parties] == ["seller", "buyer"]
    assert SUN_YUE["name"][0] + "*" not in [p["name"] for p in parties]


def test_a_mortgage_held_by_two_banks_is_cancelled_only_with_both(login: Any, db: Any) -> None:
    other = {"name": "示范农村商业银行股份有限公司", "id_number": make_uscc("91", "330100", "MA2DEM09")}
    with db.unit_of_work() as session:
        create_user(session, username="bank2", password="Demo@2026", roles=["institution"], real_name=other["name"],
                    id_number=other["id_number"]).institution_type = "bank"
    add_right(db, unit(2), "mortgage", [BANK, other], kind="org", share_mode="共同共有",
              details={"accepted_at": "2025-01-01T00:00:00+00:00"})
    bank, bank2 = login("bank"), login("bank2")
    with db.unit_of_work() as session:
        realty = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == unit(2))).scalar_one()
        right = session.execute(select(Right).where(Right.unit_id == realty.id, Right.right_type == "mortgage",
                                                    Right.status == "current")).scalar_one()
        right.cert_no = "浙(2025)西湖区不动产证明第0000777号"
    form = {"unit_code": unit(2), "mortgagee_name": BANK["name"], "mortgagee_uscc": BANK["id_number"],
            "proof_no": "浙(2025)西湖区不动产证明第0000777号", "reason": "debt_repaid"}
    case_id = _create(bank, "mortgage_cancel", form)
    assert bank.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    refused = bank.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 422 and "待抵押权人（示*" in str(refused.get_json()["errors"]["confirmations"])
    assert bank2.get(f"/api/v1/applications/{case_id}").status_code == 200
    assert bank2.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    submitted = bank.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
