"""Several buyers (细则 10; 民法典 298): the application lists further buyers, each a party who confirms;
按份共有 shares must add up to 1; 登簿 records every buyer as a holder with share and mode, and the
certificate lists them all."""
from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from support.cases import file_application, take_through
from support.forms import transfer_form, upload_missing

from app.demo import LI_SI, SUN_YUE, WU_HAO

UNIT = transfer_form()["unit_code"]


def _sale(**overrides: Any) -> dict[str, Any]:
    return transfer_form(contract_no="WQ2026-000777", **overrides)


def _holders(login: Any) -> list[dict[str, Any]]:
    rights = login("xh_acceptor").get(f"/api/v1/units/{UNIT}").get_json()["rights"]
    return next(r for r in rights if r["type"] == "ownership")["holders"]


def test_two_buyers_by_halves_each_confirm_and_both_hold_with_their_shares(login: Any) -> None:
    form = _sale(share_mode="按份共有", buyer_share="1/2",
                 co_buyers=[{"name": WU_HAO["name"], "id_number": WU_HAO["id_number"], "share": "1/2"}])
    zhang, li, wu = login("zhangsan"), login("lisi"), login("wuhao")
    created = zhang.post("/api/v1/applications", json={"business_type": "transfer_resale", "form": form})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    buyers = [p for p in created.get_json()["parties"] if p["role"] == "buyer"]
    assert [p["name"] for p in buyers] == ["李*", "吴*"]
    assert created.get_json()["form"]["co_buyers"][0]["id_number"] != WU_HAO["id_number"]  # masked on screen

    upload_missing(zhang, case_id)
    for api in (zhang, li):
        assert api.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    refused = zhang.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 422
    assert "待受让方（吴*）确认申请并签名" in refused.get_json()["errors"]["confirmations"]
    assert wu.get(f"/api/v1/applications/{case_id}").status_code == 200  # a listed buyer is a party
    assert wu.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    submitted = zhang.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["fee_total_yuan"] == 80  # one certificate for both: no 工本费

    take_through(login, submitted.get_json()["business_no"])
    holders = _holders(login)
    assert [(h["share_mode"], h["share"]) for h in holders] == [("按份共有", "1/2"), ("按份共有", "1/2")]
    assert len(holders) == 2
    for api in (li, wu):
        assert UNIT in [u["unit_code"] for u in api.get("/api/v1/units", query_string={"mine": 1})
                        .get_json()["items"]]

    certs = li.get(f"/api/v1/applications/{case_id}").get_json()["certificates"]
    assert len(certs) == 1 and certs[0]["kind"] == "title"
    pdf = wu.get(f"/api/v1/certificates/{certs[0]['id']}/pdf")  # every holder may fetch it
    assert pdf.status_code == 200
    text = re.sub(r"\s+", "", PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text())
    assert f"{LI_SI['name']}、{WU_HAO['name']}" in text
    assert f"按份共有（{LI_SI['name']}1/2、{WU_HAO['name']}1/2）" in text


def test_shares_that_do_not_add_up_to_one_are_refused_naming_the_field(login: Any) -> None:
    form = _sale(share_mode="按份共有", buyer_share="1/2",
                 co_buyers=[{"name": WU_HAO["name"], "id_number": WU_HAO["id_number"], "share": "1/3"}])
    refused = login("zhangsan").post("/api/v1/applications", json={"business_type": "transfer_resale", "form": form})
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["errors"]["co_buyers"] == ["按份共有的受让方份额合计应为 1，当前合计为 5/6"]
    assert "份额合计应为 1" in body["detail"]

    missing = login("zhangsan").post("/api/v1/applications", json={"business_type": "transfer_resale", "form": {
        **form, "co_buyers": [{"name": WU_HAO["name"], "id_number": WU_HAO["id_number"]}]}})
    assert missing.status_code == 422 and "co_buyers" in missing.get_json()["errors"]


def test_joint_buyers_need_no_shares_and_all_three_hold_jointly(login: Any) -> None:
    form = _sale(share_mode="共同共有", separate_certificates=True,
                 co_buyers=[{"name": WU_HAO["name"], "id_number": WU_HAO["id_number"]},
                            {"name": SUN_YUE["name"], "id_number": SUN_YUE["id_number"]}])
    submitted = file_application(login, "zhangsan", "transfer_resale", form, confirmers=("lisi", "wuhao", "sunyue"))
    assert submitted.status_code == 200, submitted.get_json()
    fees = {i["code"]: i["amount_yuan"] for i in submitted.get_json()["fee_items"]}
    assert fees == {"registration_residential": 80, "certificate_production": 20}  # 3 holders, 2 further books

    take_through(login, submitted.get_json()["business_no"])
    assert [(h["share_mode"], h["share"]) for h in _holders(login)] == [("共同共有", None)] * 3


def test_a_single_buyer_is_recorded_as_before(login: Any) -> None:
    submitted = file_application(login, "zhangsan", "transfer_resale", _sale(), confirmers=("lisi",))
    assert submitted.status_code == 200, submitted.get_json()
    assert [p["role"] for p in submitted.get_json()["parties"]] == ["seller", "buyer"]
    take_through(login, submitted.get_json()["business_no"])
    assert [(h["share_mode"], h["share"]) for h in _holders(login)] == [("单独所有", None)]


def test_two_buyers_of_a_new_flat_by_shares_both_hold_after_first_transfer(login: Any) -> None:
    from test_new_build_housing import buyer_form, first_registration_form, flat

    first = file_application(login, "developer", "first_registration", first_registration_form(flat(3)))
    assert first.status_code == 200, first.get_json()
    take_through(login, first.get_json()["business_no"])
    form = buyer_form(flat(3), LI_SI, share_mode="按份共有", buyer_share="2/3",
                      co_buyers=[{"name": WU_HAO["name"], "id_number": WU_HAO["id_number"], "share": "1/3"}])
    submitted = file_application(login, "lisi", "first_transfer", form, ("developer", "wuhao"))
    assert submitted.status_code == 200, submitted.get_json()
    take_through(login, submitted.get_json()["business_no"])
    rights = login("xh_acceptor").get(f"/api/v1/units/{flat(3)}").get_json()["rights"]
    holders = next(r for r in rights if r["type"] == "ownership")["holders"]
    assert [(h["share_mode"], h["share"]) for h in holders] == [("按份共有", "2/3"), ("按份共有", "1/3")]
