"""无房证明: a real-name applicant who holds no current ownership anywhere in the city gets a signed,
verifiable proof; an owner gets a 409 saying how many units; every query is audited with its purpose."""
from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from pypdf import PdfReader

NUMBER = re.compile(r"^浙\(\d{4}\)杭州市无房证明第(\d{7})号$")


def audit_entries(app: Flask) -> list[Any]:
    from app.security.models import AuditEntry

    with app.extensions["db"].unit_of_work() as session:
        return list(session.query(AuditEntry).filter_by(action="certificate.no_property_query")
                    .order_by(AuditEntry.seq))


def test_a_person_without_property_gets_a_signed_verifiable_proof(seeded: Flask, client: Any, login: Any) -> None:
    from app.demo import LI_SI
    from app.registry.signing import trust_root, validate_certificate_pdf

    office_root = trust_root(seeded.extensions["signing_keys"])  # the verifier's shipped root

    lisi = login("lisi")
    resp = lisi.post("/api/v1/certificates/no-property", json={"purpose": "购房资格审核"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["kind"] == "no_property" and NUMBER.match(body["number"])[1] == "0000001"  # type: ignore[index]

    pdf = lisi.get(body["pdf"])
    assert pdf.status_code == 200 and validate_certificate_pdf(pdf.data, root=office_root)[0]
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "无房证明" in text and body["number"] in text and LI_SI["name"] in text and "购房资格审核" in text
    assert "杭州市不动产登记中心" in text
    assert login("zhangsan").get(body["pdf"]).status_code == 404

    shown = client.get("/api/v1/certificates/verify", query_string={"code": body["verify_code"]}).get_json()
    assert shown["status"] == "valid" and shown["holders"] == ["李*"] and shown["number"] == body["number"]

    second = lisi.post("/api/v1/certificates/no-property", json={"purpose": "子女入学"}).get_json()
    assert NUMBER.match(second["number"])[1] == "0000002"  # type: ignore[index]
    entries = audit_entries(seeded)
    assert [(e.after["purpose"], e.after["outcome"]) for e in entries] == [("购房资格审核", "issued"),
                                                                           ("子女入学", "issued")]


def test_an_owner_is_told_how_many_units_and_the_query_is_still_audited(seeded: Flask, login: Any) -> None:
    resp = login("zhangsan").post("/api/v1/certificates/no-property", json={"purpose": "公积金贷款"})
    assert resp.status_code == 409
    problem = resp.get_json()
    assert problem["code"] == "owns_property" and "3 处" in problem["detail"]
    [entry] = audit_entries(seeded)
    assert entry.after == {"purpose": "公积金贷款", "owned_units": 3, "outcome": "refused"}


def test_the_purpose_is_required_and_only_applicants_may_ask(login: Any, client: Any) -> None:
    assert login("lisi").post("/api/v1/certificates/no-property", json={}).status_code == 422
    assert login("xh_acceptor").post("/api/v1/certificates/no-property",
                                     json={"purpose": "核查"}).status_code == 403
    assert client.post("/api/v1/certificates/no-property", json={"purpose": "核查"}).status_code == 401
