"""将抵押权登记业务延伸至银行网点 (issue 19): at the branch the loan officer (the bank's institution account) files
抵押权首次登记 for a customer, uploads the contract and texts the customer (mortgagor) the invitation link; the
customer confirms (here over the API; on a phone in tests/browser/test_bank_branch_customer.py); the bank
confirms as mortgagee and submits; after 缮证 the 不动产登记证明 is the bank's to download, not the customer's,
and is pushed, signed PDF and all, to the bank's receiving system (the simulator's ``bank_receiver``)."""
from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from typing import Any

import pytest
from portal_account_helpers import last_sms
from sqlalchemy import select
from support.cases import make_application_forms, take_through
from support.forms import upload_missing
from support.servers import LiveServer

from app.demo import BANK, ZHANG_SAN
from app.identifiers import make_unit_code
from app.integrations.models import OutboxMessage
from app.integrations.outbox import deliver_pending

UNIT = make_unit_code("330106", 1, 1, "GB", 100, 1, 102)


def counter_mortgage_form(unit_code: str = UNIT, **more: Any) -> dict[str, Any]:
    """What the loan officer types at the counter: the customer's flat and certificate, the bank as mortgagee."""
    return {"unit_code": unit_code, "cert_no": "浙(2015)西湖区不动产权第0000002号", "use": "住宅",
            "mortgagor_name": ZHANG_SAN["name"], "mortgagor_id_number": ZHANG_SAN["id_number"],
            "mortgagee_name": BANK["name"], "mortgagee_uscc": BANK["id_number"], "mortgage_kind": "一般抵押",
            "debt_amount": 900_000, "debt_start": "2026-12-01", "debt_end": "2046-11-30",
            "guarantee_scope": "主债权及利息、违约金、损害赔偿金和实现抵押权的费用", "transfer_restricted": False,
            "contract_no": "DY2026-0501", **more}


def test_a_loan_officer_files_a_mortgage_the_customer_confirms_and_the_proof_comes_back_to_the_bank(
        login: Any, simulator: LiveServer) -> None:
    bank = login("bank")
    created = bank.post("/api/v1/applications", json={"business_type": "mortgage_first",
                                                      "form": counter_mortgage_form()})
    assert created.status_code == 201, created.get_json()
    case = created.get_json()
    assert case["channel"] == "institution"
    upload_missing(bank, case["id"])  # the contract and the rest, scanned at the counter
    sent = bank.post(f"/api/v1/applications/{case['id']}/invitations",
                     json={"phone": ZHANG_SAN["phone"], "party_role": "mortgagor"})
    assert sent.status_code == 201, sent.get_json()
    assert "/invite/" in last_sms(simulator.url, ZHANG_SAN["phone"], "case_invitation")["params"]["link"]

    early = bank.post(f"/api/v1/applications/{case['id']}/submit")
    assert early.status_code in (409, 422), early.get_json()  # the customer has not confirmed yet
    assert bank.post(f"/api/v1/applications/{case['id']}/confirm").status_code == 200
    customer = login("zhangsan")
    assert customer.post(f"/api/v1/applications/{case['id']}/confirm").status_code == 200
    make_application_forms(bank.client.application)
    submitted = bank.post(f"/api/v1/applications/{case['id']}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    take_through(login, submitted.get_json()["business_no"])

    [proof] = bank.get(f"/api/v1/applications/{case['id']}").get_json()["certificates"]
    assert proof["kind"] == "proof" and proof["downloadable"] is True
    pdf = bank.get(f"/api/v1/certificates/{proof['id']}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert customer.get(f"/api/v1/certificates/{proof['id']}/pdf").status_code == 404
    assert case["id"] in [c["id"] for c in bank.get("/api/v1/applications").get_json()["items"]]

    # … and the 证明 went back to the bank's receiving system by itself, byte-identical to the download.
    app = bank.client.application
    with app.extensions["db"].unit_of_work() as session:
        [queued] = session.execute(select(OutboxMessage).where(
            OutboxMessage.topic == "certificate.issued_to_institution",
            OutboxMessage.payload["certificate_no"].as_string() == proof["number"])).scalars().all()
        assert "pdf_base64" not in queued.payload and queued.payload["sealed"]  # the PDF is not at rest in clear
        report = deliver_pending(session)
    assert report.sent >= 1 and report.dead == 0, str(report)
    with urllib.request.urlopen(f"{simulator.url}/_control/state") as resp:  # noqa: S310 (the test's own simulator)
        received = json.load(resp)["received"].get("bank_receiver", [])
    [copy] = [m["body"] for m in received if m["body"].get("certificate_no") == proof["number"]]
    assert copy["institution_uscc"] == BANK["id_number"] and copy["institution_type"] == "bank"
    assert copy["business_no"] == submitted.get_json()["business_no"] and copy["kind"] == "proof"
    assert base64.b64decode(copy["pdf_base64"]) == pdf.data and copy["size"] == len(pdf.data)

    # The receiver checks the file against its SHA-256: a changed byte is refused, not stored.
    changed = pdf.data[:100] + bytes([pdf.data[100] ^ 1]) + pdf.data[101:]
    altered = {**copy, "pdf_base64": base64.b64encode(changed).decode()}
    refused = urllib.request.Request(f"{simulator.url}/bank_receiver/inbox", method="POST",
                                     data=json.dumps(altered).encode(), headers={
                                         "Content-Type": "application/json", "Idempotency-Key": "altered-copy",
                                         "Authorization": f"Bearer {os.environ['SIMULATOR_API_KEY']}"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(refused)  # noqa: S310 (the test's own simulator)
    assert err.value.code == 422 and "SHA-256" in json.load(err.value)["message"]


def test_the_bank_filing_as_mortgagee_is_not_also_made_the_mortgagor(login: Any) -> None:
    """The form's identity prefill describes the mortgagor; a bank that names itself as mortgagee and leaves the
    customer's fields for later is not written into them (it was: the bank's name and USCC as 抵押人)."""
    bank = login("bank")
    form = {k: v for k, v in counter_mortgage_form().items() if not k.startswith("mortgagor_")}
    created = bank.post("/api/v1/applications", json={"business_type": "mortgage_first", "form": form})
    if created.status_code == 201:
        saved = bank.get(f"/api/v1/applications/{created.get_json()['id']}").get_json()["form"]
        assert not saved.get("mortgagor_name") and not saved.get("mortgagor_id_number"), saved
    else:  # or the missing customer is named as the field to fill
        assert created.status_code == 422, created.get_json()
        assert "mortgagor_name" in str(created.get_json()), created.get_json()
