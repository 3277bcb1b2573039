"""电子证照归集: after 缮证 the issued e-certificate's metadata goes through the outbox to the 电子证照库
(the simulator's receiver), without personal data, once per certificate (the receiver dedupes redeliveries)."""
from __future__ import annotations

import json
import urllib.request
from typing import Any

from support.cases import render_certificates, take_through

from app.demo import LI_SI, ZHANG_SAN


def _received(simulator: Any) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{simulator.url}/_control/state", timeout=5) as resp:
        return json.load(resp)["received"].get("zhengzhao", [])  # type: ignore[no-any-return]


def test_the_issued_certificate_is_collected_without_personal_data(
        login: Any, seeded: Any, simulator: Any, submitted_transfer: dict) -> None:
    from sqlalchemy import select

    from app.integrations.models import OutboxMessage
    from app.integrations.outbox import deliver_pending, deliveries_of, retry_dead

    business_no = submitted_transfer["business_no"]
    assert take_through(login, business_no).status_code == 200  # 受理 → 审核 → 登簿 (完税 came back) → 缮证
    certificate = login("lisi").get(f"/api/v1/applications/{submitted_transfer['id']}").get_json()["certificates"][0]
    result = seeded.test_cli_runner().invoke(args=["outbox", "deliver"])
    assert "死信 0 条" in result.output, result.output

    collected = _received(simulator)
    assert [m["body"]["certificate_no"] for m in collected] == [certificate["number"]]
    body = collected[0]["body"]
    assert body["topic"] == "certificate.issued" and body["business_no"] == business_no
    assert body["title"] == "不动产权证书" and body["status"] == "有效" and len(body["sha256"]) == 64
    assert body["holders_masked"] == ["李*"] and body["verify_url"].startswith("http")
    text = json.dumps(collected, ensure_ascii=False)
    for person in (LI_SI, ZHANG_SAN):
        assert person["name"] not in text and person["id_number"] not in text and person["phone"] not in text

    db = seeded.extensions["db"]
    with db.unit_of_work() as session:  # delivered again (e.g. an operator's retry): the receiver dedupes
        message = session.execute(select(OutboxMessage).where(OutboxMessage.topic == "certificate.issued")
                                  ).scalar_one()
        assert message.idempotency_key == f"certificate:{certificate['id']}"
        for delivery in deliveries_of(session, message):
            delivery.status = "dead"
        retry_dead(session, message)
        assert deliver_pending(session).sent == 1
    assert len(_received(simulator)) == 1


def test_a_voided_certificate_is_reported_to_the_证照库_and_its_replacement_collected(
        login: Any, seeded: Any, simulator: Any, submitted_transfer: dict) -> None:
    business_no = submitted_transfer["business_no"]
    assert take_through(login, business_no).status_code == 200
    cert = login("lisi").get(f"/api/v1/applications/{submitted_transfer['id']}").get_json()["certificates"][0]
    resp = login("xh_certifier").post(f"/api/v1/certificates/{cert['id']}/void",
                                      json={"reason": "打印错误", "reissue": True})
    assert resp.status_code == 200, resp.get_json()
    render_certificates(seeded)  # the replacement is collected once its PDF is made
    result = seeded.test_cli_runner().invoke(args=["outbox", "deliver"])
    assert "死信 0 条" in result.output, result.output
    bodies = [m["body"] for m in _received(simulator)]
    statuses = [(b["topic"], b["certificate_no"], b["status"]) for b in bodies]
    assert ("certificate.status", cert["number"], "作废") in statuses
    issued = [b["certificate_no"] for b in bodies if b["topic"] == "certificate.issued"]
    assert len(issued) == 2 and issued[0] == cert["number"]  # the original and its replacement
