"""将抵押权登记业务延伸至银行网点 (issue 19), the types beyond 抵押权首次登记: at the branch the loan officer files
抵押权变更登记 (a recorded mortgage found by its 不动产登记证明 number gets new terms; the register keeps the old one
as history, its 证明 is replaced, its rank stays) and 预购商品房抵押预告登记 (a buyer holding a 预售商品房买卖预告
mortgages the flat to the bank; at the flat's 首次转移 the bank's notice becomes a mortgage, 细则 78). The customer
confirms through the invitation like for mortgage_first (tests/api/test_bank_branch_mortgage.py)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from support.cases import file_application, make_application_forms, take_through
from support.forms import upload_missing

from app.demo import BANK, DEVELOPER, LI_SI, ZHANG_SAN
from app.identifiers import make_unit_code
from app.registry.models import RealtyUnit, RegisterEntry, Right
from app.security.masking import mask_name
from app.vocabulary import RightStatus

UNIT = make_unit_code("330106", 1, 1, "GB", 100, 1, 102)  # 张三's flat (demo)


def flat(n: int) -> str:  # the demo developer's new flats (app/demo.py new_build_records)
    return make_unit_code("330106", 1, 2, "GB", 200, 1, 200 + n)


def at_the_branch(login: Any, business_type: str, form: dict[str, Any], customer: str, phone: str, *,
                  invite: bool = True) -> Any:
    """The loan officer creates and scans, texts the customer the link (``invite``: one text a minute per
    phone); the bank and the customer confirm; the bank submits. Returns the submit response."""
    bank = login("bank")
    created = bank.post("/api/v1/applications", json={"business_type": business_type, "form": form})
    assert created.status_code == 201, created.get_json()
    case = created.get_json()
    assert case["channel"] == "institution"
    upload_missing(bank, case["id"])
    if invite:
        sent = bank.post(f"/api/v1/applications/{case['id']}/invitations", json={"phone": phone,
                                                                                 "party_role": "mortgagor"})
        assert sent.status_code == 201, sent.get_json()
    assert bank.post(f"/api/v1/applications/{case['id']}/confirm").status_code == 200
    assert login(customer).post(f"/api/v1/applications/{case['id']}/confirm").status_code == 200
    make_application_forms(bank.client.application)
    return bank.post(f"/api/v1/applications/{case['id']}/submit")


def mortgage_form(**more: Any) -> dict[str, Any]:
    return {"unit_code": UNIT, "cert_no": "浙(2015)西湖区不动产权第0000002号", "use": "住宅",
            "mortgagor_name": ZHANG_SAN["name"], "mortgagor_id_number": ZHANG_SAN["id_number"],
            "mortgagee_name": BANK["name"], "mortgagee_uscc": BANK["id_number"], "mortgage_kind": "一般抵押",
            "debt_amount": 900_000, "debt_start": "2026-12-01", "debt_end": "2046-11-30",
            "guarantee_scope": "主债权及利息、违约金、损害赔偿金和实现抵押权的费用", "transfer_restricted": False,
            "contract_no": "DY2026-0501", **more}


def change_form(proof_no: str, **more: Any) -> dict[str, Any]:
    return {"unit_code": UNIT, "proof_no": proof_no, "mortgagor_name": ZHANG_SAN["name"],
            "mortgagor_id_number": ZHANG_SAN["id_number"], "mortgagee_name": BANK["name"],
            "mortgagee_uscc": BANK["id_number"], "contract_no": "BG2027-0042", "change_reason": "展期：延长还款期限",
            **more}


def bank_case(login: Any, case_id: str) -> dict[str, Any]:
    return login("bank").get(f"/api/v1/applications/{case_id}").get_json()


def mortgages(login: Any, unit_code: str) -> list[dict[str, Any]]:
    view = login("xh_acceptor").get(f"/api/v1/units/{unit_code}").get_json()
    return [r for r in view["rights"] if r["type"] == "mortgage"]


def test_the_bank_changes_a_recorded_mortgage_found_by_its_proof_number(login: Any, page_login: Any, db: Any) -> None:
    first = at_the_branch(login, "mortgage_first", mortgage_form(), "zhangsan", ZHANG_SAN["phone"])
    assert first.status_code == 200, first.get_json()
    take_through(login, first.get_json()["business_no"])
    [old_proof] = bank_case(login, first.get_json()["id"])["certificates"]
    [before] = mortgages(login, UNIT)
    assert before["cert_no"] == old_proof["number"] and before["amount_yuan"] == 900_000

    # a proof number the bank does not hold is refused at submission, naming it
    wrong = at_the_branch(login, "mortgage_change",
                          change_form("浙(2026)西湖区不动产证明第9999999号", debt_end="2051-11-30"), "zhangsan",
                          ZHANG_SAN["phone"], invite=False)
    assert wrong.status_code == 422, wrong.get_json()
    assert "9999999" in wrong.get_json()["errors"]["unit_code"][0]

    # 展期: only the term changes; the amount, scope and rank carry over; no fee (变更登记免收)
    change = at_the_branch(login, "mortgage_change", change_form(old_proof["number"], debt_end="2051-11-30"),
                           "zhangsan", ZHANG_SAN["phone"], invite=False)  # texted for the first one a moment ago
    assert change.status_code == 200, change.get_json()
    body = change.get_json()
    assert body["fee_items"] == [] and body["business_no"][10:12] == "90"
    assert "holds_changed_right" in [r["code"] for r in body["rule_results"]]
    take_through(login, body["business_no"])

    [after] = mortgages(login, UNIT)
    assert after["business_no"] == body["business_no"] and after["rank"] == 1
    assert after["amount_yuan"] == 900_000 and after["details"]["debt_end"] == "2051-11-30"
    assert after["details"]["debt_start"] == "2026-12-01" and after["details"]["contract_no"] == "BG2027-0042"
    assert after["details"]["accepted_at"] == before["details"]["accepted_at"]  # the rank stays
    assert [h["name"] for h in after["holders"]] == [mask_name(BANK["name"])]
    [new_proof] = bank_case(login, change.get_json()["id"])["certificates"]
    assert new_proof["kind"] == "proof" and new_proof["number"] == after["cert_no"] != old_proof["number"]
    assert [c["status"] for c in bank_case(login, first.get_json()["id"])["certificates"]] == ["revoked"]
    with db.unit_of_work() as session:
        unit = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == UNIT)).scalar_one()
        history = session.execute(select(Right).where(Right.unit_id == unit.id, Right.right_type == "mortgage",
                                                      Right.status == RightStatus.HISTORY)).scalars().all()
        assert [(r.business_no, r.ended_by_business_no) for r in history] == [
            (before["business_no"], body["business_no"])]
        entry = session.execute(select(RegisterEntry)
                                .where(RegisterEntry.business_no == body["business_no"])).scalar_one()
        assert entry.kind == "mortgage_change" and len(entry.change["ended"]) == 1 and entry.change["created"]
    page = page_login("xh_acceptor").get(f"/workbench/cases/{change.get_json()['id']}")
    assert page.status_code == 200 and "抵押权变更登记" in page.get_data(as_text=True)


def notice_form(unit_code: str, **more: Any) -> dict[str, Any]:
    return {"unit_code": unit_code, "use": "住宅", "developer_name": DEVELOPER["name"],
            "developer_uscc": DEVELOPER["id_number"], "buyer_name": LI_SI["name"],
            "buyer_id_number": LI_SI["id_number"], "contract_no": "YS2026-000888", "price": 3_000_000, **more}


def advance_mortgage_form(unit_code: str, notice_no: str) -> dict[str, Any]:
    return {"unit_code": unit_code, "advance_notice_proof_no": notice_no, "mortgagor_name": LI_SI["name"],
            "mortgagor_id_number": LI_SI["id_number"], "mortgagee_name": BANK["name"],
            "mortgagee_uscc": BANK["id_number"], "mortgage_kind": "一般抵押", "debt_amount": 2_000_000,
            "debt_start": "2026-12-10", "debt_end": "2056-12-09",
            "guarantee_scope": "主债权及利息、违约金、损害赔偿金和实现抵押权的费用", "contract_no": "YDY2026-0077"}


def test_a_buyers_advance_mortgage_filed_at_the_branch_becomes_a_mortgage_at_the_first_transfer(
        login: Any, db: Any) -> None:
    unit_code = flat(3)
    # without a current 预售商品房买卖预告 of the buyer there is nothing to mortgage
    early = at_the_branch(login, "advance_mortgage",
                          advance_mortgage_form(unit_code, "浙(2026)西湖区不动产证明第0000001号"), "lisi",
                          LI_SI["phone"], invite=False)
    assert early.status_code == 422, early.get_json()
    assert "预售商品房买卖预告登记" in early.get_json()["errors"]["unit_code"][0]

    notice = file_application(login, "lisi", "advance_notice", notice_form(unit_code), ("developer",))
    assert notice.status_code == 200, notice.get_json()
    take_through(login, notice.get_json()["business_no"])
    [notice_proof] = login("lisi").get(f"/api/v1/applications/{notice.get_json()['id']}").get_json()["certificates"]

    filed = at_the_branch(login, "advance_mortgage", advance_mortgage_form(unit_code, notice_proof["number"]),
                          "lisi", LI_SI["phone"])
    assert filed.status_code == 200, filed.get_json()
    assert filed.get_json()["fee_items"] == [] and filed.get_json()["business_no"][10:12] == "70"
    assert "holds_advance_notice" in [r["code"] for r in filed.get_json()["rule_results"]]
    take_through(login, filed.get_json()["business_no"])
    [advance_proof] = bank_case(login, filed.get_json()["id"])["certificates"]
    assert advance_proof["kind"] == "proof" and advance_proof["downloadable"] is True
    view = login("xh_acceptor").get(f"/api/v1/units/{unit_code}").get_json()
    [advance] = [r for r in view["rights"] if r["type"] == "advance_mortgage"]
    assert advance["cert_no"] == advance_proof["number"] and advance["amount_yuan"] == 2_000_000
    assert "预抵押" in view["restrictions"] and [h["name"] for h in advance["holders"]] == [mask_name(BANK["name"])]
    with db.unit_of_work() as session:  # the 证明's 义务人 is the buyer holding the notice, not the developer
        from app.registry.certificate_content import content_for_right

        right = session.execute(select(Right).where(Right.cert_no == advance_proof["number"])).scalar_one()
        assert dict(content_for_right(session, right, "proof").rows)["义务人"] == LI_SI["name"]

    # the developer registers the building's flat, then 李四's 首次转移 converts his notice (预转本) and with it
    # the bank's advance mortgage: a mortgage of the same amount and rank, a new 证明 for the bank
    first = file_application(login, "developer", "first_registration", {
        "unit_code": unit_code, "use": "住宅", "land_cert_no": "浙(2024)西湖区不动产权第0009001号",
        "planning_permit_no": "建字第330106202400123号", "completion_filing_no": "JB330106-2026-0042",
        "surveyed_area_m2": 89.12})
    assert first.status_code == 200, first.get_json()
    take_through(login, first.get_json()["business_no"])
    transfer = file_application(login, "lisi", "first_transfer",
                                notice_form(unit_code, advance_notice_proof_no=notice_proof["number"]), ("developer",))
    assert transfer.status_code == 200, transfer.get_json()
    take_through(login, transfer.get_json()["business_no"], ("受理", "审核"))
    with db.unit_of_work() as session:  # the 登簿 screen shows the conversion before it is recorded
        from app.casefile.models import Case
        from app.identity.actor import actor_for
        from app.identity.models import User
        from app.registry.preview import record_preview

        recorder = actor_for(session, session.execute(select(User).where(User.username == "xh_recorder")).scalar_one())
        preview = record_preview(session, recorder, session.get_one(Case, transfer.get_json()["id"]))
        assert [(r["type"], r["change"]) for r in preview["after"]] == [("ownership", "created"),
                                                                         ("mortgage", "converted")]
        assert {r["type"]: r["change"] for r in preview["before"]}["advance_mortgage"] == "ended"
    take_through(login, transfer.get_json()["business_no"], ("登簿", "缮证"))

    view = login("xh_acceptor").get(f"/api/v1/units/{unit_code}").get_json()
    types = sorted(r["type"] for r in view["rights"])
    assert types == ["mortgage", "ownership"], types
    [mortgage] = [r for r in view["rights"] if r["type"] == "mortgage"]
    assert mortgage["amount_yuan"] == 2_000_000 and mortgage["rank"] == 1
    assert mortgage["details"]["accepted_at"] == advance["details"]["accepted_at"]
    assert mortgage["details"]["converted_by"] == transfer.get_json()["business_no"]
    assert [h["name"] for h in mortgage["holders"]] == [mask_name(BANK["name"])] and view["flags"]["mortgaged"] is True
    assert [c["status"] for c in bank_case(login, filed.get_json()["id"])["certificates"]] == ["revoked"]
    certificates = login("lisi").get(f"/api/v1/applications/{transfer.get_json()['id']}").get_json()["certificates"]
    by_number = {c["number"]: c for c in certificates}
    assert by_number[mortgage["cert_no"]]["kind"] == "proof" and by_number[mortgage["cert_no"]]["holder"] is False
    bank = login("bank")
    pdf = bank.get(f"/api/v1/certificates/{by_number[mortgage['cert_no']]['id']}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")  # the bank holds the converted mortgage's 证明
