"""废号 (DOMAIN §3.5, 细则 80): a spoiled certificate keeps its number as 已作废 with the reason, is reported as
such by verification, and a replacement with the next number is rendered from the book; only certifiers of
the office may do it, over the API or the CLI."""
from __future__ import annotations

from typing import Any

from flask import Flask
from support.cases import take_through


def _issued(login: Any, submitted: dict[str, Any]) -> dict[str, Any]:
    take_through(login, submitted["business_no"])
    [cert] = login("lisi").get(f"/api/v1/applications/{submitted['id']}").get_json()["certificates"]
    return dict(cert)


def test_a_certifier_voids_a_spoiled_certificate_and_reissues_it(login: Any, submitted_transfer: dict) -> None:
    cert = _issued(login, submitted_transfer)
    assert login("lisi").post(f"/api/v1/certificates/{cert['id']}/void", json={"reason": "打印错误"}).status_code == 403
    other_office = login("yh_certifier").post(f"/api/v1/certificates/{cert['id']}/void", json={"reason": "打印错误"})
    assert other_office.status_code == 404
    certifier = login("xh_certifier")
    resp = certifier.post(f"/api/v1/certificates/{cert['id']}/void", json={"reason": "打印错误", "reissue": True})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["voided"]["status"] == "voided" and body["voided"]["reason"] == "打印错误"
    old_seq, new_seq = int(cert["number"][-8:-1]), int(body["replacement"]["number"][-8:-1])
    assert new_seq == old_seq + 1 and body["replacement"]["status"] == "valid"
    old = login("xh_acceptor").get(f"/api/v1/applications/{submitted_transfer['id']}").get_json()["certificates"]
    assert {c["number"]: c["status"] for c in old} == {cert["number"]: "voided",
                                                      body["replacement"]["number"]: "valid"}
    again = certifier.post(f"/api/v1/certificates/{cert['id']}/void", json={"reason": "重复"})
    assert again.status_code == 409
    assert certifier.post(f"/api/v1/certificates/{cert['id']}/void", json={"reason": ""}).status_code == 422


def test_the_cli_voids_by_number(seeded: Flask, login: Any, submitted_transfer: dict) -> None:
    cert = _issued(login, submitted_transfer)
    runner = seeded.test_cli_runner()
    refused = runner.invoke(args=["registry", "void-certificate", cert["number"], "--reason", "污损",
                                  "--by", "lisi"])
    assert refused.exit_code == 1 and "没有执行此操作的权限" in refused.output
    done = runner.invoke(args=["registry", "void-certificate", cert["number"], "--reason", "污损", "--by",
                               "xh_certifier"])
    assert done.exit_code == 0, done.output
    assert f"已作废：{cert['number']}" in done.output
    state = login("lisi").get(f"/api/v1/applications/{submitted_transfer['id']}").get_json()["certificates"]
    assert state[0]["status"] == "voided"
