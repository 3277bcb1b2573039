"""开发企业整幢办理 (issue 19): the developer files for a whole building. A buyer's 预售 预告 first (the developer
files, the buyer confirms from the SMS invitation); then one filing opens the 首次登记 of every flat of the
building from the register's survey data, the shared documents given once; each flat is submitted and goes
through alone; finally the developer files the buyer's 首次转移 (预转本), the buyer confirms, and owns the flat."""
from __future__ import annotations

import base64
from typing import Any

from portal_account_helpers import last_sms
from support.cases import make_application_forms, take_through
from support.forms import PDF, upload_missing
from support.servers import LiveServer
from test_new_build_housing import buyer_form, flat, rights_of, unit_view

from app.demo import LI_SI, NEW_BUILD_UNITS

BUILDING = flat(1)[:24]
SHARED = ("developer_business_licence", "developer_authorization", "land_certificate", "planning_verification",
          "completion_filing", "survey_report", "tax_voucher")
PARTICULARS = {"land_cert_no": "浙(2024)西湖区不动产权第0009001号", "planning_permit_no": "建字第330106202400123号",
               "completion_filing_no": "JB330106-2026-0042"}


def documents() -> list[dict[str, str]]:
    return [{"code": code, "filename": f"{code}.pdf", "content_base64": base64.b64encode(PDF).decode()}
            for code in SHARED]


def developer_files_with_the_buyer(login: Any, simulator: LiveServer, business_type: str,
                                   form: dict[str, Any], *, invite: bool = True) -> dict[str, Any]:
    """The developer creates and documents the case, texts the buyer the link (``invite``; else the buyer, who
    has an account since, finds it among his applications), both confirm, the developer submits and the office
    takes it through."""
    developer = login("developer")
    created = developer.post("/api/v1/applications", json={"business_type": business_type, "form": form})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(developer, case_id)
    if invite:
        sent = developer.post(f"/api/v1/applications/{case_id}/invitations",
                              json={"phone": LI_SI["phone"], "party_role": "buyer"})
        assert sent.status_code == 201, sent.get_json()
        assert "/invite/" in last_sms(simulator.url, LI_SI["phone"], "case_invitation")["params"]["link"]
    else:
        assert case_id in [c["id"] for c in login("lisi").get("/api/v1/applications").get_json()["items"]]
    for username in ("developer", "lisi"):
        assert login(username).post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    make_application_forms(developer.client.application)
    submitted = developer.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    take_through(login, submitted.get_json()["business_no"])
    return login("lisi").get(f"/api/v1/applications/{case_id}").get_json()  # type: ignore[no-any-return]


def test_a_developer_registers_a_whole_building_and_sells_a_flat_to_a_buyer_who_confirms_online(
        login: Any, simulator: LiveServer) -> None:
    notice = developer_files_with_the_buyer(login, simulator, "advance_notice", buyer_form(flat(1), LI_SI))
    [proof] = notice["certificates"]
    assert proof["kind"] == "proof" and proof["downloadable"] is True  # the buyer's 预告登记证明

    developer = login("developer")
    filed = developer.post(f"/api/v1/buildings/{BUILDING}/first-registrations",
                           json={"particulars": PARTICULARS, "documents": documents()})
    assert filed.status_code == 201, filed.get_json()
    cases = filed.get_json()["items"]
    assert [c["unit_code"] for c in cases] == [flat(n) for n in range(1, NEW_BUILD_UNITS + 1)]
    assert filed.get_json()["already_registered"] == []
    for n, case in enumerate(cases, start=1):  # each flat from the survey: its address, use and area
        assert case["status"] == "draft" and case["materials_missing"] == []
        assert case["form"]["surveyed_area_m2"] == 88 + n and "示范花园1幢2单元" in case["form"]["location"]
        assert [p["confirmed"] for p in case["parties"]] == [True]
    make_application_forms(developer.client.application)
    for case in cases:
        submitted = developer.post(f"/api/v1/applications/{case['id']}/submit")
        assert submitted.status_code == 200, submitted.get_json()
        assert [f["amount_yuan"] for f in submitted.get_json()["fee_items"]] == [80]  # 80 yuan per 件
        take_through(login, submitted.get_json()["business_no"])
    for n in range(1, NEW_BUILD_UNITS + 1):
        rights = rights_of(unit_view(login, flat(n)))
        assert "land_use" not in rights and len(rights["ownership"]) == 1
    titles = [developer.get(f"/api/v1/applications/{c['id']}").get_json()["certificates"] for c in cases]
    assert all(t[0]["kind"] == "title" and t[0]["downloadable"] for t in titles)

    again = developer.post(f"/api/v1/buildings/{BUILDING}/first-registrations",
                           json={"particulars": PARTICULARS, "documents": documents()})
    assert again.status_code == 422 and again.get_json()["errors"]["building_code"] == ["该幢房屋均已办理首次登记"]

    transfer = developer_files_with_the_buyer(login, simulator, "first_transfer",
                                              buyer_form(flat(1), LI_SI, advance_notice_proof_no=proof["number"]),
                                              invite=False)
    assert transfer["certificates"][0]["kind"] == "title"
    mine = login("lisi").get("/api/v1/units", query_string={"mine": 1}).get_json()["items"]
    assert flat(1) in [u["unit_code"] for u in mine]
    assert unit_view(login, flat(1))["flags"]["advance_noticed"] is False


def test_a_building_filing_is_refused_whole(login: Any) -> None:
    developer = login("developer")
    bad_code = developer.post("/api/v1/buildings/330106/first-registrations",
                              json={"particulars": PARTICULARS, "documents": documents()})
    assert bad_code.status_code == 422 and "前24位" in bad_code.get_json()["errors"]["building_code"][0]
    bad_document = developer.post(f"/api/v1/buildings/{BUILDING}/first-registrations", json={
        "particulars": PARTICULARS, "documents": [*documents()[:-1], {"code": "tax_voucher",
                                                                     "content_base64": "not base64!"}]})
    assert bad_document.status_code == 422
    assert bad_document.get_json()["errors"]["documents.7.content_base64"] == ["第7份材料不是有效的 Base64 编码"]
    bad_field = developer.post(f"/api/v1/buildings/{BUILDING}/first-registrations", json={
        "particulars": {**PARTICULARS, "developer_agent_phone": "123"}, "documents": documents()})
    assert bad_field.status_code == 422 and "developer_agent_phone" in bad_field.get_json()["errors"]
    assert developer.get("/api/v1/applications").get_json()["items"] == []  # nothing half-stored
