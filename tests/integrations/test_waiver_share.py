"""Measures the share of required materials the applicant did not have to upload in the demo scenarios
(条例 24: what sharing provides is not asked for again). Run with ``-s`` to see the figures."""
from __future__ import annotations

from typing import Any

from helpers import draft_mortgage, draft_transfer
from support.waiting import wait_for


def _share(api: Any, case_id: str) -> tuple[int, int]:
    case = api.get(f"/api/v1/applications/{case_id}").get_json()
    waived = {w["code"] for w in case["materials_waived"]}
    uploaded = {m["code"] for m in case["materials"]} - waived
    return len(waived), len(waived) + len(uploaded)


def test_most_materials_of_a_demo_transfer_come_from_data_sharing(login: Any) -> None:
    seller, buyer = login("zhangsan"), login("lisi")
    from app.identifiers import make_unit_code

    married = {"seller_marital_status": "已婚", "buyer_marital_status": "未婚", "contract_no": "WQ2026-000002",
               "unit_code": make_unit_code("330106", 1, 1, "GB", 100, 1, 102), "price": 1_850_000}
    figures = {}
    for label, overrides in [("二手房转移（未婚申报）", {}), ("二手房转移（转让方已婚）", married)]:
        case_id = draft_transfer(seller, buyer, **overrides)
        assert seller.post(f"/api/v1/applications/{case_id}/submit").status_code == 200
        wait_for(lambda: any(w["code"] == "tax_voucher" for w in seller.get(
            f"/api/v1/applications/{case_id}").get_json()["materials_waived"]), "完税")  # noqa: B023
        figures[label] = _share(seller, case_id)
    figures["抵押权首次登记（张三向示范银行抵押）"] = _mortgage(login)
    total_waived = sum(w for w, _ in figures.values())
    total_required = sum(r for _, r in figures.values())
    for label, (waived, required) in figures.items():
        print(f"{label}: 免提交 {waived}/{required} 项 = {waived / required:.0%}")
    print(f"合计: 免提交 {total_waived}/{total_required} 项 = {total_waived / total_required:.0%}")
    assert figures["二手房转移（未婚申报）"] == (4, 6)  # both IDs, contract, 完税凭证; not the form or title
    assert figures["二手房转移（转让方已婚）"] == (5, 7)  # … and the marriage certificate
    assert figures["抵押权首次登记（张三向示范银行抵押）"][0] == 2  # the mortgagor's ID, the bank's licence


def _mortgage(login: Any) -> tuple[int, int]:
    owner, case_id = draft_mortgage(login)
    assert owner.post(f"/api/v1/applications/{case_id}/submit").status_code == 200
    return _share(owner, case_id)
