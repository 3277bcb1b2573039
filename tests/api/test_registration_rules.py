"""Registration rules against the register book (DOMAIN.md §2.2): checked at submission and again at 登簿."""
from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from support.cases import complete_stage
from support.forms import transfer_form, upload_material, upload_missing

from app.demo import BANK, ZHANG_SAN
from app.identifiers import make_id_card, make_unit_code, make_uscc
from app.registry.book import append_entry
from app.registry.models import RealtyUnit, RegisterEntry, Right, RightHolder
from app.registry.rules import parse_share

COURT = {"name": "杭州市西湖区人民法院", "id_number": make_uscc("11", "330106", "00250041")}
WANG_WU = {"name": "王五", "id_number": make_id_card("330106", date(1979, 5, 6), 77)}


def unit(n: int) -> str:
    return make_unit_code("330106", 1, 1, "GB", 100, 1, 100 + n)


def add_right(db: Any, unit_code: str, right_type: str, holders: list[dict[str, str]], *, kind: str = "org",
              share_mode: str = "单独所有", shares: list[str | None] | None = None,
              details: dict[str, Any] | None = None, end_current: bool = False) -> None:
    """Record a right straight into the book (as a court's 嘱托 or an earlier registration would)."""
    business_no = f"2026330106{right_type[:2].upper()}{len(holders)}{unit_code[-4:]}"
    with db.unit_of_work() as session:
        realty = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == unit_code)).scalar_one()
        ended = []
        if end_current:
            for old in session.execute(select(Right).where(Right.unit_id == realty.id, Right.status == "current",
                                                           Right.right_type == right_type)).scalars():
                old.status = "history"
                ended.append(old.id)
        right = Right(unit_id=realty.id, tenant_id=realty.tenant_id, right_type=right_type, status="current",
                      business_no=business_no, details=details or {})
        right.ensure_id()
        for position, person in enumerate(holders):
            holder = RightHolder(right_id=right.id, tenant_id=realty.tenant_id, position=position, kind=kind,
                                 share_mode=share_mode, share=(shares or [None] * len(holders))[position])
            holder.ensure_id()
            holder.name, holder.id_number = person["name"], person["id_number"]
            right.holders.append(holder)
        session.add(right)
        session.flush()
        append_entry(session, realty, business_no=business_no, kind=right_type,
                     change={"created": {"right_id": right.id, "type": right_type,
                                         "holders": [h.id_number_bidx for h in right.holders]}, "ended": ended},
                     recorded_by=None)


def prepare(login: Any, business_type: str, form: dict[str, Any], co_applicant: str) -> tuple[Any, str]:
    """张三 creates the application, uploads every material, both parties confirm; not yet submitted."""
    owner = login("zhangsan")
    created = owner.post("/api/v1/applications", json={"business_type": business_type, "form": form})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(owner, case_id)
    assert owner.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    assert login(co_applicant).post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    return owner, case_id


def upload_and_sign_again(login: Any, owner: Any, case_id: str, code: str,
                          signers: tuple[str, ...] = ("zhangsan", "lisi")) -> None:
    """Upload a document to a confirmed draft: it joins what the parties signed, so each signs again."""
    upload_material(owner, case_id, code)
    for username in signers:
        assert login(username).post(f"/api/v1/applications/{case_id}/confirm").status_code == 200


def submit_transfer(login: Any, unit_code: str) -> Any:
    owner, case_id = prepare(login, "transfer_resale", transfer_form(unit_code=unit_code), "lisi")
    return owner.post(f"/api/v1/applications/{case_id}/submit")


def mortgage_form(unit_code: str) -> dict[str, Any]:
    return {"unit_code": unit_code, "cert_no": "浙(2015)西湖区不动产权第0000006号", "use": "住宅",
            "mortgagee_name": BANK["name"], "mortgagee_uscc": BANK["id_number"], "mortgage_kind": "一般抵押",
            "debt_amount": 500_000, "debt_start": "2026-12-01", "debt_end": "2036-11-30",
            "guarantee_scope": "主债权及利息", "transfer_restricted": False, "contract_no": "DY2026-0100"}


def results_by_code(case: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {r["code"]: r for r in case["rule_results"]}


def test_a_clean_transfer_stores_pass_results_with_their_legal_basis(submitted_transfer: dict) -> None:
    results = results_by_code(submitted_transfer)
    assert set(results) == {"seizure", "first_registration", "holder_identity", "advance_notice", "objection",
                            "mortgage_on_transfer"}
    assert {r["severity"] for r in results.values()} == {"pass"}
    assert "法发〔2004〕5号" in results["seizure"]["basis"]
    assert submitted_transfer["unit_code"] in results["seizure"]["message"]


def test_the_seized_demo_unit_cannot_be_transferred(login: Any) -> None:
    resp = submit_transfer(login, unit(4))
    assert resp.status_code == 422, resp.get_json()
    body = resp.get_json()
    assert body["code"] == "rule_blocked"
    assert body["detail"].startswith("该不动产单元当前不能办理此业务：")
    assert "已被查封" in body["detail"] and "(2024)浙0106执1234号" in body["detail"]
    assert unit(4) in body["errors"]["unit_code"][0]
    # 张三 is not the registered owner of unit 4 either.
    assert any("不是" in m and "权利人" in m for m in body["errors"]["unit_code"])


def test_a_seizure_on_an_own_unit_blocks_its_transfer_at_submission(login: Any, db: Any) -> None:
    add_right(db, unit(1), "seizure", [COURT], details={"court_doc": "(2026)浙0106执9号"})
    resp = submit_transfer(login, unit(1))
    assert resp.status_code == 422 and resp.get_json()["code"] == "rule_blocked"
    messages = resp.get_json()["errors"]["unit_code"]
    assert len(messages) == 1 and "已被查封" in messages[0] and "(2026)浙0106执9号" in messages[0]


def test_a_mortgage_by_someone_who_does_not_own_the_unit_is_refused(login: Any) -> None:
    owner, case_id = prepare(login, "mortgage_first", mortgage_form(unit(6)), "bank")
    resp = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 422, resp.get_json()
    messages = resp.get_json()["errors"]["unit_code"]
    assert messages == [f"抵押人不是不动产单元 {unit(6)}（杭州市文三路6号1单元106室）登记簿记载的权利人"]


def test_a_homestead_or_public_welfare_unit_cannot_be_mortgaged(login: Any, db: Any) -> None:
    with db.unit_of_work() as session:
        session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == unit(2))).scalar_one().use = "教育"
    owner, case_id = prepare(login, "mortgage_first", mortgage_form(unit(2)), "bank")
    resp = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 422
    assert "用途为教育，依法不得抵押" in resp.get_json()["detail"]


def test_a_unit_with_an_objection_needs_the_risk_statement_then_warns(login: Any, db: Any) -> None:
    add_right(db, unit(2), "objection", [WANG_WU], kind="person")
    owner, case_id = prepare(login, "transfer_resale", transfer_form(unit_code=unit(2)), "lisi")
    refused = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 422 and refused.get_json()["code"] == "rule_blocked"
    assert "知悉异议、自担风险的书面声明" in refused.get_json()["errors"]["unit_code"][0]
    upload_material(owner, case_id, "objection_risk_statement")
    for username in ("zhangsan", "lisi"):  # the document joins what they signed: both sign again
        assert login(username).post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    resp = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 200, resp.get_json()
    warning = results_by_code(resp.get_json())["objection"]
    assert warning["severity"] == "warn" and "风险" in warning["message"] and "第八十四条" in warning["basis"]
    shown = login("xh_acceptor").get(f"/api/v1/applications/{resp.get_json()['id']}").get_json()
    assert results_by_code(shown)["objection"]["severity"] == "warn"


def test_a_mortgaged_unit_transfers_with_a_warning(login: Any, db: Any) -> None:
    add_right(db, unit(3), "mortgage", [BANK], details={"transfer_restricted": False})
    resp = submit_transfer(login, unit(3))
    assert resp.status_code == 200, resp.get_json()
    warning = results_by_code(resp.get_json())["mortgage_on_transfer"]
    assert warning["severity"] == "warn" and "第四百零六条" in warning["basis"]


def test_a_recorded_transfer_restriction_blocks_the_transfer(login: Any, db: Any) -> None:
    add_right(db, unit(3), "mortgage", [BANK], details={"transfer_restricted": True})
    resp = submit_transfer(login, unit(3))
    assert resp.status_code == 422
    assert "禁止或限制转让" in resp.get_json()["detail"]


def test_an_advance_notice_for_a_third_party_blocks_without_consent(login: Any, db: Any) -> None:
    add_right(db, unit(1), "advance_notice", [WANG_WU], kind="person")
    resp = submit_transfer(login, unit(1))
    assert resp.status_code == 422
    assert "预告登记" in resp.get_json()["detail"] and "书面同意" in resp.get_json()["detail"]


def test_an_advance_notice_holders_written_consent_lets_the_transfer_through_with_a_warning(
        login: Any, db: Any) -> None:
    add_right(db, unit(1), "advance_notice", [WANG_WU], kind="person")
    owner, case_id = prepare(login, "transfer_resale", transfer_form(unit_code=unit(1)), "lisi")
    upload_material(owner, case_id, "advance_notice_consent")
    for username in ("zhangsan", "lisi"):  # the document joins what they signed: both sign again
        assert login(username).post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    resp = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 200, resp.get_json()
    result = results_by_code(resp.get_json())["advance_notice"]
    assert result["severity"] == "warn" and "书面同意" in result["message"] and "第二百二十一条" in result["basis"]


def test_an_advance_notice_for_the_buyer_does_not_block(login: Any, db: Any) -> None:
    from app.demo import LI_SI

    add_right(db, unit(1), "advance_notice", [LI_SI], kind="person")
    resp = submit_transfer(login, unit(1))
    assert resp.status_code == 200, resp.get_json()
    assert results_by_code(resp.get_json())["advance_notice"]["severity"] == "pass"


def test_joint_owners_must_all_apply(login: Any, db: Any) -> None:
    add_right(db, unit(1), "ownership", [ZHANG_SAN, WANG_WU], kind="person", share_mode="共同共有",
              end_current=True)
    resp = submit_transfer(login, unit(1))
    assert resp.status_code == 422
    assert "共同共有" in resp.get_json()["detail"]


def test_shares_below_two_thirds_cannot_dispose(login: Any, db: Any) -> None:
    add_right(db, unit(1), "ownership", [ZHANG_SAN, WANG_WU], kind="person", share_mode="按份共有",
              shares=["1/2", "1/2"], end_current=True)
    resp = submit_transfer(login, unit(1))
    assert resp.status_code == 422 and "三分之二" in resp.get_json()["detail"]


def test_two_thirds_of_the_shares_may_dispose(login: Any, db: Any) -> None:
    add_right(db, unit(1), "ownership", [ZHANG_SAN, WANG_WU], kind="person", share_mode="按份共有",
              shares=["2/3", "1/3"], end_current=True)
    resp = submit_transfer(login, unit(1))
    assert resp.status_code == 200, resp.get_json()
    assert results_by_code(resp.get_json())["holder_identity"]["severity"] == "pass"


def test_shares_are_read_as_fractions_decimals_or_percentages() -> None:
    assert parse_share("1/2") == Fraction(1, 2)
    assert parse_share("0.25") == Fraction(1, 4)
    assert parse_share("60%") == Fraction(3, 5)
    assert parse_share("一半") == parse_share(None) == parse_share("1/0") == 0


def test_a_seizure_served_after_review_stops_recording_and_leaves_the_register_unchanged(
        login: Any, db: Any, submitted_transfer: dict) -> None:
    business_no, unit_code = submitted_transfer["business_no"], submitted_transfer["unit_code"]
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核")]:
        assert complete_stage(login(username), business_no, stage).status_code == 200

    def book() -> tuple[int, list[tuple[str, str]]]:
        with db.unit_of_work() as session:
            realty = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == unit_code)).scalar_one()
            entries = session.execute(select(RegisterEntry).where(RegisterEntry.unit_id == realty.id)).all()
            rights = session.execute(select(Right.right_type, Right.status).where(Right.unit_id == realty.id)
                                     .order_by(Right.created_at)).all()
            return len(entries), [tuple(r) for r in rights]

    add_right(db, unit_code, "seizure", [COURT], details={"court_doc": "(2026)浙0106执77号"})
    before = book()
    recorder = login("xh_recorder")
    resp = complete_stage(recorder, business_no, "登簿")
    assert resp.status_code == 409, resp.get_json()
    assert resp.get_json()["code"] == "rule_blocked_at_recording"
    assert "已被查封" in resp.get_json()["detail"] and "(2026)浙0106执77号" in resp.get_json()["detail"]
    assert book() == before
    assert before[1] == [("ownership", "current"), ("seizure", "current")]
    open_tasks = recorder.get("/api/v1/tasks", query_string={"business_no": business_no, "stage": "登簿"})
    assert len(open_tasks.get_json()["items"]) == 1
    assert login("lisi").get("/api/v1/units", query_string={"mine": 1}).get_json()["items"] == []
