"""New commodity housing (DOMAIN.md §1.4 A, B, F): the developer's 首次登记 turns its land right into the
ownership; a buyer's 预售商品房买卖预告登记 protects the purchase (R2) before that; the 首次转移登记 passes the
ownership to the buyer and converts the buyer's advance notice (预转本), revoking its 登记证明."""
from __future__ import annotations

from typing import Any

from support.cases import file_application, take_through

from app.demo import DEVELOPER, LI_SI, ZHANG_SAN
from app.identifiers import make_unit_code


def flat(n: int) -> str:
    return make_unit_code("330106", 1, 2, "GB", 200, 1, 200 + n)


def first_registration_form(unit_code: str) -> dict[str, Any]:
    return {"unit_code": unit_code, "use": "住宅", "land_cert_no": "浙(2024)西湖区不动产权第0009001号",
            "planning_permit_no": "建字第330106202400123号", "completion_filing_no": "JB330106-2026-0042",
            "surveyed_area_m2": 89.12}


def buyer_form(unit_code: str, buyer: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"unit_code": unit_code, "use": "住宅", "developer_name": DEVELOPER["name"],
            "developer_uscc": DEVELOPER["id_number"], "buyer_name": buyer["name"],
            "buyer_id_number": buyer["id_number"], "contract_no": "YS2026-000777", "price": 3_200_000, **extra}


def unit_view(login: Any, unit_code: str) -> dict[str, Any]:
    return login("xh_acceptor").get(f"/api/v1/units/{unit_code}").get_json()


def rights_of(view: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for right in view["rights"]:
        out.setdefault(right["type"], []).append(right)
    return out


def test_presale_notice_then_first_registration_then_transfer_to_the_buyer(login: Any) -> None:
    # 李四 buys flat 2 off-plan: 预告登记, free, the 登记证明 goes to him.
    notice = file_application(login, "lisi", "advance_notice", buyer_form(flat(2), LI_SI), ("developer",))
    assert notice.status_code == 200, notice.get_json()
    assert notice.get_json()["fee_items"] == [] and notice.get_json()["business_no"][10:12] == "70"
    take_through(login, notice.get_json()["business_no"])
    notice_case = login("lisi").get(f"/api/v1/applications/{notice.get_json()['id']}").get_json()
    [proof] = notice_case["certificates"]
    assert proof["kind"] == "proof" and "不动产证明" in proof["number"]
    assert unit_view(login, flat(2))["flags"]["advance_noticed"] is True

    # R2: the developer cannot pre-sell the same flat to 张三 without 李四's written consent.
    second = file_application(login, "zhangsan", "advance_notice", buyer_form(flat(2), ZHANG_SAN), ("developer",))
    assert second.status_code == 422 and "预告登记" in second.get_json()["errors"]["unit_code"][0]

    # The developer's first registration: land right → ownership, title certificate to the developer.
    first = file_application(login, "developer", "first_registration", first_registration_form(flat(2)))
    assert first.status_code == 200, first.get_json()
    assert [f["amount_yuan"] for f in first.get_json()["fee_items"]] == [80]
    take_through(login, first.get_json()["business_no"])
    rights = rights_of(unit_view(login, flat(2)))
    assert "land_use" not in rights and len(rights["ownership"]) == 1 and len(rights["advance_notice"]) == 1
    again = file_application(login, "developer", "first_registration", first_registration_form(flat(2)))
    assert again.status_code == 422 and "已办理房屋所有权首次登记" in again.get_json()["detail"]

    # 首次转移登记 with 预转本: 李四 owns the flat, his advance notice and its proof end.
    transfer = file_application(login, "lisi", "first_transfer",
                                buyer_form(flat(2), LI_SI, advance_notice_proof_no=proof["number"]), ("developer",))
    assert transfer.status_code == 200, transfer.get_json()
    assert "advance_notice_proof" in {m["code"] for m in transfer.get_json()["materials"]}
    take_through(login, transfer.get_json()["business_no"])
    view = unit_view(login, flat(2))
    assert view["flags"]["advance_noticed"] is False and view["flags"]["has_current_title"] is True
    mine = login("lisi").get("/api/v1/units", query_string={"mine": 1}).get_json()["items"]
    assert flat(2) in [u["unit_code"] for u in mine]
    notice_case = login("lisi").get(f"/api/v1/applications/{notice.get_json()['id']}").get_json()
    assert notice_case["certificates"][0]["status"] == "revoked"
    title = login("lisi").get(f"/api/v1/applications/{transfer.get_json()['id']}").get_json()["certificates"]
    assert title[0]["kind"] == "title" and title[0]["status"] == "valid"


def test_only_the_holder_of_the_land_right_can_register_or_sell_the_flats(login: Any) -> None:
    from app.demo import BANK

    bank_form = {**first_registration_form(flat(3)), "developer_name": BANK["name"],
                 "developer_uscc": BANK["id_number"]}
    refused = file_application(login, "bank", "first_registration", bank_form)
    assert refused.status_code == 422 and "不是" in refused.get_json()["errors"]["unit_code"][0]
    # Before first registration there is no ownership to transfer.
    early = file_application(login, "lisi", "first_transfer", buyer_form(flat(4), LI_SI), ("developer",))
    assert early.status_code == 422 and "尚未办理首次登记" in early.get_json()["detail"]
