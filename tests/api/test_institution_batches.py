"""The institution channel (issue 19 §1): a bank sends a batch of 200 注销 with 3 bad items and gets 197 accepted
(submitted, with their 业务号) and 3 itemised refusals; the same batch resent creates nothing twice; the same key
with other content is refused; JSON Lines works; the batch is followed as its cases move; an operator closes the
bank's port and new filings are refused while a running case still finishes; the 登记证明 goes back to the bank."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask import Flask
from support.cases import complete_stage
from support.forms import PDF, upload_material, upload_missing

from app.casefile.models import Case
from app.demo import BANK, bank_mortgage_records
from app.registry.importer import import_records

MATERIALS = [{"code": code, "filename": f"{code}.pdf", "content_base64": base64.b64encode(PDF).decode()}
             for code in ("mortgagee_business_licence", "mortgagee_authorization", "mortgage_proof",
                          "extinction_proof")]


def _mortgaged_units(app: Flask, count: int, parcel: int = 700) -> list[str]:
    records = bank_mortgage_records("330106", count, parcel=parcel)
    for line, record in enumerate(records, start=1):
        record["_line"] = line
    with app.extensions["db"].unit_of_work() as session:
        report = import_records(session, records, source="test")
        assert report.ok, report.problems
    return [r["unit_code"] for r in records]


def _item(key: str, unit_code: str, **form: Any) -> dict[str, Any]:
    return {"idempotency_key": key, "business_type": "mortgage_cancel", "materials": MATERIALS,
            "form": {"unit_code": unit_code, "reason": "debt_repaid", **form}}


def _case_count(app: Flask) -> int:
    from sqlalchemy import func, select

    with app.extensions["db"].unit_of_work() as session:
        return int(session.execute(select(func.count()).select_from(Case)
                                   .execution_options(all_tenants=True)).scalar_one())


def _batch_of_200(units: list[str]) -> list[dict[str, Any]]:
    items = [_item(f"LOAN-{n:04d}", code) for n, code in enumerate(units[:197])]
    items.insert(10, _item("BAD-UNIT", "330106001003GB00999F00990099"))  # no such unit in the register
    items.insert(50, {**_item("BAD-REASON", units[197]), "form": {"unit_code": units[197]}})  # no 注销原因
    items.insert(120, _item("BAD-PROOF", units[198], proof_no="浙(2022)西湖区不动产证明第9999999号"))  # not its 证明
    return items


@pytest.mark.long
def test_a_batch_of_200_cancellations_with_3_bad_items(seeded: Flask, login: Any) -> None:
    units = _mortgaged_units(seeded, 199)
    bank = login("bank")
    before = _case_count(seeded)
    sent = bank.post("/api/v1/institutions/batches", json={"items": _batch_of_200(units)})
    assert sent.status_code == 201, sent.get_json()
    batch = sent.get_json()
    assert (batch["item_count"], batch["accepted"], batch["refused"]) == (200, 197, 3)
    refused = {i["idempotency_key"]: i for i in batch["items"] if i["status"] == "refused"}
    assert set(refused) == {"BAD-UNIT", "BAD-REASON", "BAD-PROOF"}
    assert [refused[k]["position"] for k in ("BAD-UNIT", "BAD-REASON", "BAD-PROOF")] == [11, 51, 121]
    assert "unit_code" in refused["BAD-UNIT"]["errors"] and "登记簿" in str(refused["BAD-UNIT"]["errors"])
    assert "reason" in refused["BAD-REASON"]["errors"]
    assert "9999999" in str(refused["BAD-PROOF"]["errors"])
    accepted = [i for i in batch["items"] if i["status"] == "accepted"]
    assert all(i["business_no"] and i["business_no"][10:12] == "40" for i in accepted)
    assert all(i["case_status"] not in ("draft", "awaiting_confirmation") for i in accepted)
    assert len({i["case_id"] for i in accepted}) == 197
    assert _case_count(seeded) == before + 197  # the refused items left nothing behind

    again = bank.post("/api/v1/institutions/batches", json={"items": _batch_of_200(units)})
    assert again.status_code == 201, again.get_json()
    replay = again.get_json()
    assert replay["id"] != batch["id"] and (replay["accepted"], replay["refused"]) == (197, 3)
    assert _case_count(seeded) == before + 197  # nothing created twice
    first = {i["idempotency_key"]: (i["status"], i.get("case_id"), i.get("business_no")) for i in batch["items"]}
    assert {i["idempotency_key"]: (i["status"], i.get("case_id"), i.get("business_no"))
            for i in replay["items"]} == first
    assert all(i["replayed"] for i in replay["items"] if i["status"] == "accepted")


def test_the_same_key_with_other_content_is_refused_and_json_lines_work(seeded: Flask, login: Any) -> None:
    units = _mortgaged_units(seeded, 3, parcel=710)
    bank = login("bank")
    lines = "\n".join(json.dumps(_item(f"K{n}", code), ensure_ascii=False) for n, code in enumerate(units[:2]))
    sent = bank.post("/api/v1/institutions/batches", data=lines + "\n{not json\n",
                     content_type="application/x-ndjson")
    assert sent.status_code == 201, sent.get_json()
    body = sent.get_json()
    assert [i["status"] for i in body["items"]] == ["accepted", "accepted", "refused"], body["items"]
    assert body["items"][2]["code"] == "item_malformed" and "第 3 行" in body["items"][2]["message"]

    changed = bank.post("/api/v1/institutions/batches", json={"items": [_item("K0", units[2])]}).get_json()
    assert changed["items"][0]["status"] == "refused"
    assert changed["items"][0]["code"] == "idempotency_key_reused"
    assert "idempotency_key" in changed["items"][0]["errors"]


def test_only_institution_accounts_follow_their_own_batches(seeded: Flask, login: Any) -> None:
    units = _mortgaged_units(seeded, 1, parcel=720)
    batch = login("bank").post("/api/v1/institutions/batches", json={"items": [_item("ONE", units[0])]}).get_json()
    assert login("bankadmin").get(f"/api/v1/institutions/batches/{batch['id']}").status_code == 200  # same bank
    assert login("developer").get(f"/api/v1/institutions/batches/{batch['id']}").status_code == 404
    refused = login("zhangsan").post("/api/v1/institutions/batches", json={"items": [_item("X", units[0])]})
    assert refused.status_code == 403 and refused.get_json()["code"] == "not_an_institution"


def test_a_closed_port_refuses_new_filings_and_running_cases_finish(seeded: Flask, login: Any) -> None:
    units = _mortgaged_units(seeded, 2, parcel=730)
    bank, ops = login("bank"), login("ops")
    batch = bank.post("/api/v1/institutions/batches", json={"items": [_item("RUN-1", units[0])]}).get_json()
    running = batch["items"][0]
    assert running["status"] == "accepted", running

    listed = ops.get("/api/v1/institutions/supervision").get_json()["items"]
    org = next(i for i in listed if i["uscc"] == BANK["id_number"])
    assert org["cases_filed"] >= 1 and org["port_open"] is True
    no_reason = ops.post(f"/api/v1/institutions/supervision/{org['id']}/port", json={"open": False, "reason": ""})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    assert login("bankadmin").post(f"/api/v1/institutions/supervision/{org['id']}/port",
                                    json={"open": False, "reason": "x"}).status_code == 403
    closed = ops.post(f"/api/v1/institutions/supervision/{org['id']}/port",
                      json={"open": False, "reason": "多次提交虚假结清证明"})
    assert closed.status_code == 200, closed.get_json()

    refused = bank.post("/api/v1/institutions/batches", json={"items": [_item("NEW-1", units[1])]})
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["code"] == "institution_port_closed"
    assert "多次提交虚假结清证明" in refused.get_json()["detail"]
    single = bank.post("/api/v1/applications", json={"business_type": "mortgage_cancel",
                                                     "form": {"unit_code": units[1], "reason": "debt_repaid"}})
    assert single.status_code == 409 and single.get_json()["code"] == "institution_port_closed"
    assert "已受理的业务可继续办理" in single.get_json()["detail"]

    # the running case goes on: 受理, a 补正 round (upload, sign again, resubmit), 审核, 登簿
    business_no, case_id = running["business_no"], running["case_id"]
    assert complete_stage(login("xh_acceptor"), business_no, "受理").status_code == 200
    sent_back = complete_stage(login("xh_reviewer"), business_no, "审核", "correct",
                               correction_items=["请补充结清证明原件扫描件"])
    assert sent_back.get_json()["case_status"] == "correcting"
    upload_material(bank, case_id, "other_materials")
    assert bank.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    resubmitted = bank.post(f"/api/v1/applications/{case_id}/submit")
    assert resubmitted.status_code == 200, resubmitted.get_json()
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿")]:
        resp = complete_stage(login(username), business_no, stage)
        assert resp.status_code == 200, resp.get_json()
    followed = bank.get(f"/api/v1/institutions/batches/{batch['id']}").get_json()
    assert followed["items"][0]["case_status"] in ("certifying", "completed"), followed

    figures = next(i for i in ops.get("/api/v1/institutions/supervision").get_json()["items"] if i["id"] == org["id"])
    assert figures["corrections"] >= 1 and figures["port_open"] is False
    history = ops.get(f"/api/v1/institutions/supervision/{org['id']}").get_json()
    assert [h["action"] for h in history["port_history"]][:1] == ["close"]
    assert history["port_history"][0]["reason"] == "多次提交虚假结清证明"
    reopened = ops.post(f"/api/v1/institutions/supervision/{org['id']}/port", json={"open": True, "reason": "已整改"})
    assert reopened.status_code == 200 and reopened.get_json()["port_open"] is True
    again = bank.post("/api/v1/institutions/batches", json={"items": [_item("NEW-1", units[1])]})
    assert again.status_code == 201 and again.get_json()["accepted"] == 1


def test_a_first_mortgage_item_waits_for_the_owner_and_its_proof_comes_back_to_the_bank(seeded: Flask,
                                                                                        login: Any) -> None:
    """抵押权首次登记 needs the mortgagor's signature too: the batch item is a confirmed draft the owner then confirms;
    after 缮证 the 不动产登记证明 is listed for the bank's accounts and downloads; another institution sees none."""
    from app.demo import ZHANG_SAN
    from app.identifiers import make_unit_code

    bank, owner = login("bank"), login("zhangsan")
    unit_code = make_unit_code("330106", 1, 1, "GB", 100, 1, 102)
    form = {"unit_code": unit_code, "cert_no": "浙(2015)西湖区不动产权第0000002号", "use": "住宅",
            "mortgagor_name": ZHANG_SAN["name"], "mortgagor_id_number": ZHANG_SAN["id_number"],
            "mortgagee_name": BANK["name"], "mortgagee_uscc": BANK["id_number"], "mortgage_kind": "一般抵押",
            "debt_amount": 1_200_000, "debt_start": "2026-12-01", "debt_end": "2046-11-30",
            "guarantee_scope": "主债权及利息、违约金、损害赔偿金和实现抵押权的费用", "transfer_restricted": False,
            "contract_no": "DY2026-0099"}
    batch = bank.post("/api/v1/institutions/batches", json={"items": [
        {"idempotency_key": "DY2026-0099", "business_type": "mortgage_first", "form": form}]}).get_json()
    item = batch["items"][0]
    assert item["status"] == "accepted" and item["case_status"] == "awaiting_confirmation", item
    case_id = item["case_id"]
    upload_missing(bank, case_id)
    assert bank.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    assert owner.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    submitted = bank.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    business_no = submitted.get_json()["business_no"]
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿"),
                            ("xh_certifier", "缮证")]:
        assert complete_stage(login(username), business_no, stage).status_code == 200
    followed = bank.get(f"/api/v1/institutions/batches/{batch['id']}").get_json()["items"][0]
    assert (followed["case_status"], followed["business_no"]) == ("completed", business_no)
    for account in ("bank", "bankadmin"):
        proofs = login(account).get("/api/v1/institutions/certificates", query_string={"kind": "proof"})
        mine = [p for p in proofs.get_json()["items"] if p["business_no"] == business_no]
        assert len(mine) == 1 and mine[0]["pdf"], proofs.get_json()
    pdf = bank.get(mine[0]["pdf"])
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert not [p for p in login("developer").get("/api/v1/institutions/certificates").get_json()["items"]
                if p["business_no"] == business_no]
