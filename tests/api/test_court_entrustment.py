"""查封 / 解封 嘱托 (细则 90–92): a court sends the entrustment through its API account, no applicant; the
clerk's 受理 is a formal check, 登簿 records the attachment; a second attachment queues (轮候查封) and takes
effect when the first is released; an attached unit cannot be sold."""
from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select
from support.cases import complete_stage
from support.forms import PDF, transfer_form, upload_missing

from app.db import utcnow
from app.demo import COURT
from app.identifiers import make_unit_code
from app.registry.models import RealtyUnit, Right
from app.registry.service import current_rights, unit_flags

DOCS = [{"code": code, "filename": f"{code}.pdf", "content_base64": base64.b64encode(PDF).decode()}
        for code in ("assistance_notice", "court_ruling", "executor_credentials")]


def unit(n: int) -> str:
    return make_unit_code("330106", 1, 1, "GB", 100, 1, 100 + n)


def seizure_form(unit_code: str, doc: str, **extra: Any) -> dict[str, Any]:
    return {"unit_code": unit_code, "court_name": COURT["name"], "court_code": COURT["id_number"], "court_doc": doc,
            "notice_no": doc.replace("执", "执协"), "start_date": "2026-12-01", "end_date": "2029-11-30",
            "executor_names": "赵执行、钱法警", "executor_badges": "浙法执0001、浙法执0002", **extra}


def release_form(unit_code: str, seized_by: str, doc: str) -> dict[str, Any]:
    return {"unit_code": unit_code, "court_name": COURT["name"], "court_code": COURT["id_number"],
            "seizure_court_doc": seized_by, "release_doc": doc, "notice_no": doc.replace("执", "执协"),
            "executor_names": "赵执行、钱法警", "executor_badges": "浙法执0001、浙法执0002"}


def entrust(login: Any, business_type: str, form: dict[str, Any], documents: list[dict[str, str]] = DOCS) -> Any:
    return login("court").post("/api/v1/court/entrustments",
                               json={"business_type": business_type, "form": form, "documents": documents})


def handle(login: Any, business_no: str) -> None:
    assert complete_stage(login("xh_acceptor"), business_no, "受理").status_code == 200
    resp = complete_stage(login("xh_recorder"), business_no, "登簿")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["case_status"] == "completed"


def seizures(db: Any, unit_code: str) -> list[dict[str, Any]]:
    with db.unit_of_work() as session:
        realty = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == unit_code)).scalar_one()
        return [dict(r.details) for r in current_rights(session, realty, "seizure")]


def test_a_court_attaches_a_unit_and_its_sale_is_then_refused(login: Any, db: Any) -> None:
    resp = entrust(login, "seizure", seizure_form(unit(1), "(2026)浙0106执501号"))
    assert resp.status_code == 201, resp.get_json()
    case = resp.get_json()
    assert case["status"] == "accepting" and case["business_no"].startswith(f"{utcnow().year}330106" + "80")
    assert [r["code"] for r in case["rule_results"]] == ["queued_seizure"]
    assert case["fee_items"] == []
    handle(login, case["business_no"])
    assert seizures(db, unit(1)) == [{"court_doc": "(2026)浙0106执501号", "notice_no": "(2026)浙0106执协501号",
                                      "start_date": "2026-12-01", "end_date": "2029-11-30",
                                      "seizure_scope": None, "seizure_kind": "查封"}]
    with db.unit_of_work() as session:
        realty = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == unit(1))).scalar_one()
        assert unit_flags(session, realty)["seized"] is True
        seizure = session.execute(select(Right).where(Right.business_no == case["business_no"])).scalar_one()
        assert seizure.cert_no is None  # no certificate for an attachment

    seller = login("zhangsan")
    sale = seller.post("/api/v1/applications", json={"business_type": "transfer_resale", "form": transfer_form()})
    upload_missing(seller, sale.get_json()["id"])
    seller.post(f"/api/v1/applications/{sale.get_json()['id']}/confirm")
    login("lisi").post(f"/api/v1/applications/{sale.get_json()['id']}/confirm")
    refused = seller.post(f"/api/v1/applications/{sale.get_json()['id']}/submit")
    assert refused.status_code == 422 and "(2026)浙0106执501号" in refused.get_json()["errors"]["unit_code"][0]


def test_a_second_attachment_queues_and_takes_effect_when_the_first_is_released(login: Any, db: Any) -> None:
    first = entrust(login, "seizure", seizure_form(unit(6), "(2026)浙0106执601号")).get_json()
    handle(login, first["business_no"])
    second = entrust(login, "seizure", seizure_form(unit(6), "(2026)浙0106执602号")).get_json()
    warning = {r["code"]: r for r in second["rule_results"]}["queued_seizure"]
    assert warning["severity"] == "warn" and "轮候查封" in warning["message"]
    handle(login, second["business_no"])
    assert [(s["court_doc"], s["seizure_kind"]) for s in seizures(db, unit(6))] == [
        ("(2026)浙0106执601号", "查封"), ("(2026)浙0106执602号", "轮候查封")]

    wrong = entrust(login, "seizure_release", release_form(unit(6), "(2026)浙0106执999号", "(2026)浙0106执解1号"))
    assert wrong.status_code == 422 and "没有原查封裁定书文号为 (2026)浙0106执999号" in wrong.get_json()["detail"]

    release = entrust(login, "seizure_release", release_form(unit(6), "(2026)浙0106执601号", "(2026)浙0106执解2号"))
    assert release.status_code == 201, release.get_json()
    handle(login, release.get_json()["business_no"])
    assert [(s["court_doc"], s["seizure_kind"]) for s in seizures(db, unit(6))] == [("(2026)浙0106执602号", "查封")]

    last = entrust(login, "seizure_release", release_form(unit(6), "(2026)浙0106执602号", "(2026)浙0106执解3号"))
    handle(login, last.get_json()["business_no"])
    assert seizures(db, unit(6)) == []
    unit_view = login("xh_acceptor").get(f"/api/v1/units/{unit(6)}").get_json()
    assert unit_view["flags"]["seized"] is False


def test_bad_entrustments_are_refused_and_leave_nothing_behind(login: Any) -> None:
    too_long = entrust(login, "seizure", seizure_form(unit(7), "(2026)浙0106执701号", end_date="2030-12-01"))
    assert too_long.status_code == 422 and "不得超过3年" in too_long.get_json()["errors"]["end_date"][0]
    missing = entrust(login, "seizure", seizure_form(unit(7), "(2026)浙0106执702号"), documents=DOCS[:2])
    assert missing.status_code == 422 and "执行人员工作证和执行公务证" in missing.get_json()["detail"]
    bad_doc = entrust(login, "seizure", seizure_form(unit(7), "(2026)浙0106执703号"),
                      documents=[{**DOCS[0], "content_base64": "不是base64"}])
    assert bad_doc.status_code == 422 and "Base64" in bad_doc.get_json()["detail"]
    assert login("court").get("/api/v1/applications").get_json()["items"] == []  # nothing was kept

    not_a_court = login("zhangsan").post("/api/v1/court/entrustments", json={
        "business_type": "seizure", "form": seizure_form(unit(1), "(2026)浙0106执704号"), "documents": DOCS})
    assert not_a_court.status_code == 403
    not_entrusted = entrust(login, "transfer_resale", transfer_form())
    assert not_entrusted.status_code == 422 and not_entrusted.get_json()["errors"]["business_type"]
