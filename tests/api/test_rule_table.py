"""DOMAIN.md §2.2, the rules that block or gate a registration, one refusing and one passing test per rule
of app/registry/rules.py, through the REST API with the parties a real case has (seller and buyer, owner
and bank, co-owners and several holders of a right in the register).

A refusal answers with the rule's code (``rule``) and legal basis (``basis``) in the problem body. The
last test fails when a rule is added to ``RULES`` without both tests here.
"""
from __future__ import annotations

import io
import sys
from typing import Any

from sqlalchemy import select
from support.cases import complete_stage, file_application, take_through
from support.forms import upload_missing
from support.personas import PASSWORD
from test_consents import transfer_draft
from test_correction import correction_form
from test_court_entrustment import entrust, seizure_form
from test_lapses import objection_form
from test_new_build_housing import buyer_form, first_registration_form, flat
from test_portal_apply import drawn_png, photo_jpeg
from test_registration_rules import (
    COURT,
    WANG_WU,
    add_right,
    mortgage_form,
    prepare,
    results_by_code,
    unit,
    upload_and_sign_again,
)

from app.catalog.service import current_version, version_definition
from app.demo import BANK, DEVELOPER, LI_SI, ZHANG_SAN, ZHOU_JIE
from app.identity.service import create_user
from app.registry.models import RealtyUnit
from app.registry.rules import RULES, unit_precheck

# rule code → (DOMAIN.md §2.2 row, legal basis as the rule reports it)
RULE_TABLE = {
    "unit_exists": ("—", "《不动产登记暂行条例》第八条"),
    "seizure": ("R1", "《不动产登记暂行条例实施细则》第九十条至第九十二条；法发〔2004〕5号"),
    "queued_seizure": ("R1", "《不动产登记暂行条例实施细则》第九十一条"),
    "not_yet_registered": ("R5", "《不动产登记暂行条例实施细则》第二十四条、第三十五条"),
    "first_registration": ("R5", "《不动产登记暂行条例实施细则》第二十四条、第六十六条"),
    "duplicate_objection": ("R4", "《不动产登记暂行条例实施细则》第八十三条"),
    "holder_identity": ("R7", "《不动产登记暂行条例》第十四条；《不动产登记暂行条例实施细则》第十条；"
                              "《民法典》第三百零一条"),
    "correction_limits": ("R9", "《不动产登记暂行条例实施细则》第七十九条至第八十一条"),
    "advance_notice": ("R2", "《民法典》第二百二十一条；《不动产登记暂行条例实施细则》第八十五条"),
    "objection": ("R4", "《不动产登记暂行条例实施细则》第八十三条、第八十四条；《民法典》第二百二十条"),
    "mortgage_on_transfer": ("R6", "《民法典》第四百零六条；"
                                   "《自然资源部关于做好不动产抵押权登记工作的通知》（2021年）"),
    "mortgageable": ("—", "《民法典》第三百九十九条"),
    "holds_ended_right": ("—", "《不动产登记暂行条例》第十四条；《不动产登记暂行条例实施细则》第七十条"),
    "holds_advance_notice": ("—", "《不动产登记暂行条例实施细则》第八十五条、第八十六条（预购商品房抵押预告登记）"),
}
WARN_ONLY = {"queued_seizure"}  # a queued attachment is recorded, never refused (细则 91)


def refused_by(resp: Any, code: str, status: int = 422) -> dict[str, Any]:
    """The problem body of a refusal by rule ``code``, with that rule's legal basis: 422 when an application is
    filed or submitted, 409 when a clerk's decision meets a rule."""
    assert resp.status_code == status, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    assert body["rule"] == code, body
    assert body["basis"] == RULE_TABLE[code][1]
    assert code in [r["code"] for r in body["rules"]]
    return body


def passed(resp: Any, code: str, status: int = 200) -> dict[str, str]:
    """Rule ``code``'s result on a case that went ahead (201 when the request created it)."""
    assert resp.status_code == status, resp.get_json()
    result = results_by_code(resp.get_json())[code]
    assert result["severity"] in ("pass", "warn") and result["basis"] == RULE_TABLE[code][1]
    return result


def submit_transfer(login: Any, unit_code: str) -> Any:
    owner, case_id = transfer_draft(login, unit_code)
    return owner.post(f"/api/v1/applications/{case_id}/submit")


def person_account(db: Any, username: str, person: dict[str, str]) -> None:
    with db.unit_of_work() as session:
        create_user(session, username=username, password=PASSWORD, roles=["applicant"], real_name=person["name"],
                    id_number=person["id_number"])


def consent_with_face(login: Any, username: str, case_id: str) -> Any:
    return login(username).post(f"/api/v1/applications/{case_id}/consents", content_type="multipart/form-data",
                                data={"signature": drawn_png(), "photo": (io.BytesIO(photo_jpeg()), "me.jpg")})


# --- unit_exists (条例 8): checked before anyone fills a form (the portal's first step) -------------------
def precheck(db: Any, unit_code: str) -> list[dict[str, str]]:
    with db.unit_of_work() as session:
        definition = version_definition(current_version(session, "transfer_resale"))
        return [r.as_dict() for r in unit_precheck(session, definition, unit_code)[1]]


def test_unit_exists_blocks_a_unit_the_register_does_not_know(seeded: Any, db: Any) -> None:
    [result] = precheck(db, unit(99))
    assert (result["code"], result["severity"]) == ("unit_exists", "block")
    assert result["basis"] == RULE_TABLE["unit_exists"][1]


def test_unit_exists_passes_a_registered_unit(seeded: Any, db: Any) -> None:
    results = precheck(db, unit(1))
    assert "unit_exists" not in [r["code"] for r in results] and {r["severity"] for r in results} == {"pass"}


# --- R1 seizure -------------------------------------------------------------------------------------------
def test_seizure_blocks_the_sale_of_an_attached_unit(login: Any, db: Any) -> None:
    add_right(db, unit(1), "seizure", [COURT],
              details={"court_doc": "(2026)浙0106执1号"})
    body = refused_by(submit_transfer(login, unit(1)), "seizure")
    assert "(2026)浙0106执1号" in body["detail"]


def test_seizure_passes_a_unit_under_no_attachment(login: Any) -> None:
    assert passed(submit_transfer(login, unit(1)), "seizure")["severity"] == "pass"


# --- R1 queued seizure (细则 91): warns, never refuses --------------------------------------------------------
def test_queued_seizure_warns_on_an_attached_unit(login: Any) -> None:
    resp = entrust(login, "seizure", seizure_form(unit(4), "(2026)浙0106执71号"))
    assert passed(resp, "queued_seizure", 201)["severity"] == "warn"


def test_queued_seizure_passes_on_a_free_unit(login: Any) -> None:
    resp = entrust(login, "seizure", seizure_form(unit(1), "(2026)浙0106执72号"))
    assert passed(resp, "queued_seizure", 201)["severity"] == "pass"


# --- R5 not yet registered (first registration once) -------------------------------------------------------
def test_not_yet_registered_blocks_a_second_first_registration(login: Any, db: Any) -> None:
    add_right(db, flat(1), "ownership", [DEVELOPER])
    refused_by(file_application(login, "developer", "first_registration", first_registration_form(flat(1))),
               "not_yet_registered")


def test_not_yet_registered_passes_the_first_registration_of_a_new_flat(login: Any) -> None:
    resp = file_application(login, "developer", "first_registration", first_registration_form(flat(1)))
    assert passed(resp, "not_yet_registered")["severity"] == "pass"


# --- R5 first registration comes first ---------------------------------------------------------------------
def test_first_registration_blocks_selling_a_flat_before_it(login: Any) -> None:
    resp = file_application(login, "lisi", "first_transfer", buyer_form(flat(3), LI_SI), ("developer",))
    refused_by(resp, "first_registration")


def test_first_registration_passes_a_registered_flat(login: Any) -> None:
    assert passed(submit_transfer(login, unit(2)), "first_registration")["severity"] == "pass"


# --- R4 duplicate objection (细则 83) -----------------------------------------------------------------------
def test_duplicate_objection_blocks_a_second_objection_by_the_same_person(login: Any, db: Any) -> None:
    add_right(db, unit(1), "objection", [LI_SI], kind="person",
              details={"objection_matter": "登记簿记载的权利人应为李四"})
    resp = file_application(login, "lisi", "objection", objection_form(unit(1)))
    refused_by(resp, "duplicate_objection")


def test_duplicate_objection_passes_when_another_person_objected(login: Any, db: Any) -> None:
    add_right(db, unit(1), "objection", [WANG_WU], kind="person")
    resp = file_application(login, "lisi", "objection", objection_form(unit(1)))
    assert passed(resp, "duplicate_objection")["severity"] == "pass"


# --- R7 holder identity and co-owner thresholds ---------------------------------------------------------------
def test_holder_identity_blocks_one_of_two_joint_owners_selling(login: Any, db: Any) -> None:
    add_right(db, unit(1), "ownership", [ZHANG_SAN, WANG_WU], kind="person", share_mode="共同共有",
              end_current=True)
    # the book's other joint owner joins the seller's side and must sign before the rules are even asked
    alone = submit_transfer(login, unit(1))
    assert alone.status_code == 422 and alone.get_json()["code"] == "not_ready"
    assert "待转让方（王*）确认申请并签名" in alone.get_json()["errors"]["confirmations"]
    assert "须全体共有人签名确认" in alone.get_json()["detail"]
    # someone the book does not name as a holder is refused by the rule itself
    add_right(db, unit(2), "ownership", [WANG_WU], kind="person", end_current=True)
    body = refused_by(submit_transfer(login, unit(2)), "holder_identity")
    assert "转让方" in body["detail"]


def test_holder_identity_passes_a_co_owner_with_two_thirds_of_the_shares(login: Any, db: Any) -> None:
    add_right(db, unit(1), "ownership", [ZHANG_SAN, WANG_WU, ZHOU_JIE], kind="person", share_mode="按份共有",
              shares=["2/3", "1/6", "1/6"], end_current=True)
    assert passed(submit_transfer(login, unit(1)), "holder_identity")["severity"] == "pass"


# --- R9 correction limits ---------------------------------------------------------------------------------
def test_correction_limits_blocks_a_correction_after_a_later_mortgage(login: Any, db: Any) -> None:
    add_right(db, unit(2), "mortgage", [BANK])
    resp = file_application(login, "zhangsan", "correction", correction_form(unit(2), corrected_area_m2=70.5))
    refused_by(resp, "correction_limits")


def test_correction_limits_passes_a_correction_with_nothing_registered_since(login: Any) -> None:
    resp = file_application(login, "zhangsan", "correction", correction_form(unit(3), corrected_area_m2=70.5))
    assert passed(resp, "correction_limits")["severity"] == "pass"


# --- R2 advance notice: consent of every holder of the 预告 ---------------------------------------------------
def test_advance_notice_blocks_while_one_of_two_holders_has_not_consented(login: Any, db: Any) -> None:
    person_account(db, "zhoujie", ZHOU_JIE)
    add_right(db, unit(1), "advance_notice", [ZHOU_JIE, WANG_WU], kind="person")
    owner, case_id = transfer_draft(login, unit(1))
    assert consent_with_face(login, "zhoujie", case_id).status_code == 201
    refused_by(owner.post(f"/api/v1/applications/{case_id}/submit"), "advance_notice")


def test_advance_notice_passes_once_both_holders_consented_online_and_on_paper(login: Any, db: Any) -> None:
    person_account(db, "zhoujie", ZHOU_JIE)
    add_right(db, unit(1), "advance_notice", [ZHOU_JIE, WANG_WU], kind="person")
    owner, case_id = transfer_draft(login, unit(1))
    assert consent_with_face(login, "zhoujie", case_id).status_code == 201
    upload_and_sign_again(login, owner, case_id, "advance_notice_consent")  # 王五's signed paper consent
    submitted = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert passed(submitted, "advance_notice")["severity"] == "warn"  # the paper one is checked at 受理
    clerk = login("xh_acceptor")
    recorded = clerk.post(f"/api/v1/applications/{case_id}/paper-consents",
                          json={"consenter_name": WANG_WU["name"], "consenter_id_number": WANG_WU["id_number"]})
    assert recorded.status_code == 201, recorded.get_json()
    assert recorded.get_json()["items"][0]["consented"] is True
    assert complete_stage(clerk, submitted.get_json()["business_no"], "受理").status_code == 200
    result = passed(clerk.get(f"/api/v1/applications/{case_id}"), "advance_notice")
    assert result["severity"] == "pass" and "在平台确认" in result["message"] and "纸质" in result["message"]


# --- R4 objection: the applicants' risk statement -------------------------------------------------------------
def test_objection_blocks_a_sale_without_the_risk_statement(login: Any, db: Any) -> None:
    add_right(db, unit(2), "objection", [WANG_WU], kind="person")
    refused_by(submit_transfer(login, unit(2)), "objection")


def test_objection_passes_with_a_warning_once_the_risk_statement_is_signed(login: Any, db: Any) -> None:
    add_right(db, unit(2), "objection", [WANG_WU], kind="person")
    owner, case_id = transfer_draft(login, unit(2))
    upload_and_sign_again(login, owner, case_id, "objection_risk_statement")
    assert passed(owner.post(f"/api/v1/applications/{case_id}/submit"), "objection")["severity"] == "warn"


# --- R6 mortgage on transfer ----------------------------------------------------------------------------
def test_mortgage_on_transfer_blocks_a_restricted_mortgage_without_the_mortgagee(login: Any, db: Any) -> None:
    add_right(db, unit(3), "mortgage", [BANK], details={"transfer_restricted": True})
    owner, case_id = transfer_draft(login, unit(3))
    upload_and_sign_again(login, owner, case_id, "mortgagee_consent")  # accepted for the clerk's check, never by itself
    assert owner.post(f"/api/v1/applications/{case_id}/submit").status_code == 200
    # the clerk never recorded whose consent the file is: 受理 refuses
    business_no = owner.get(f"/api/v1/applications/{case_id}").get_json()["business_no"]
    refused_by(complete_stage(login("xh_acceptor"), business_no, "受理"), "mortgage_on_transfer", 409)


def test_mortgage_on_transfer_passes_with_the_banks_online_consent(login: Any, db: Any) -> None:
    add_right(db, unit(3), "mortgage", [BANK], details={"transfer_restricted": True})
    owner, case_id = transfer_draft(login, unit(3))
    assert login("bank").post(f"/api/v1/applications/{case_id}/consents").status_code == 201
    submitted = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert passed(submitted, "mortgage_on_transfer")["severity"] == "warn"  # the mortgage follows the flat
    take_through(login, submitted.get_json()["business_no"], ("受理", "审核"))


# --- 民法典 399: property that may not be mortgaged -----------------------------------------------------------
def test_mortgageable_blocks_a_public_welfare_unit(login: Any, db: Any) -> None:
    with db.unit_of_work() as session:
        session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == unit(2))).scalar_one().use = "医疗"
    owner, case_id = prepare(login, "mortgage_first", mortgage_form(unit(2)), "bank")
    refused_by(owner.post(f"/api/v1/applications/{case_id}/submit"), "mortgageable")


def test_mortgageable_passes_a_flat(login: Any) -> None:
    owner, case_id = prepare(login, "mortgage_first", mortgage_form(unit(2)), "bank")
    assert passed(owner.post(f"/api/v1/applications/{case_id}/submit"), "mortgageable")["severity"] == "pass"


# --- 细则 70: only the holder ends its right ---------------------------------------------------------------
def _cancel(login: Any, unit_code: str) -> Any:
    bank = login("bank")
    created = bank.post("/api/v1/applications", json={"business_type": "mortgage_cancel",
                                                      "form": {"unit_code": unit_code, "reason": "debt_repaid"}})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(bank, case_id)
    assert bank.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200  # signs what it uploaded
    return bank.post(f"/api/v1/applications/{case_id}/submit")


def test_holds_ended_right_blocks_a_bank_cancelling_someone_elses_mortgage(login: Any, db: Any) -> None:
    add_right(db, unit(1), "mortgage", [DEVELOPER])
    refused_by(_cancel(login, unit(1)), "holds_ended_right")


def test_holds_ended_right_passes_the_mortgagee_cancelling_its_own_mortgage(login: Any) -> None:
    assert passed(_cancel(login, unit(5)), "holds_ended_right")["severity"] == "pass"


# --- 细则 85/86: only the buyer holding a current 预售商品房买卖预告 mortgages the flat in advance -------------
def _advance_mortgage(login: Any, unit_code: str, notice_no: str) -> Any:
    form = {"unit_code": unit_code, "advance_notice_proof_no": notice_no, "mortgagor_name": LI_SI["name"],
            "mortgagor_id_number": LI_SI["id_number"], "mortgagee_name": BANK["name"],
            "mortgagee_uscc": BANK["id_number"], "mortgage_kind": "一般抵押", "debt_amount": 1_000_000,
            "debt_start": "2026-12-10", "debt_end": "2046-12-09", "guarantee_scope": "主债权及利息",
            "contract_no": "YDY2026-0001"}
    return file_application(login, "bank", "advance_mortgage", form, ("lisi",))


def test_holds_advance_notice_blocks_a_buyer_without_a_current_notice(login: Any) -> None:
    refused_by(_advance_mortgage(login, flat(1), "浙(2026)西湖区不动产证明第0000042号"), "holds_advance_notice")


def test_holds_advance_notice_passes_the_buyer_holding_the_notice(login: Any) -> None:
    notice = file_application(login, "lisi", "advance_notice", buyer_form(flat(1), LI_SI), ("developer",))
    take_through(login, notice.get_json()["business_no"])
    [proof] = login("lisi").get(f"/api/v1/applications/{notice.get_json()['id']}").get_json()["certificates"]
    assert passed(_advance_mortgage(login, flat(1), proof["number"]), "holds_advance_notice")["severity"] == "pass"


def test_every_rule_has_a_refusing_and_a_passing_test() -> None:
    codes = {rule.__name__ for rule, _ in RULES} | {"unit_exists"}
    assert codes == set(RULE_TABLE)
    names = [n for n in vars(sys.modules[__name__]) if n.startswith("test_")]
    for code in codes:
        refusing = "_warns_" if code in WARN_ONLY else "_blocks_"
        assert any(n.startswith(f"test_{code}{refusing}") for n in names), code
        assert any(n.startswith(f"test_{code}_passes_") for n in names), code
