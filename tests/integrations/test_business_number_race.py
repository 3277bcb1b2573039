"""A submission's 业务号 is the one it sends to 税务, even when another submission in the district commits while
the first waits for a department (found by tests/integrations/test_concurrent_load.py): the number is taken
once per unit of work and committed between its passes (app/integrations/answers.py ``reserved``). Before,
a pass's number was given back by the rollback before the department calls, the other submission took it,
and 税务 was sent this case's contract under the other case's number."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import HOLD_LIMIT_S, GongAnGate, draft_transfer, gongan_behind_a_gate
from sqlalchemy import select
from support.personas import Api

from app.identifiers import make_unit_code
from app.integrations.models import InterfaceCallLog


@pytest.fixture
def gated_gongan(seeded: Any) -> Iterator[GongAnGate]:
    with gongan_behind_a_gate(seeded, first_only=True) as gate:
        yield gate


def test_a_submission_keeps_the_number_it_sent_to_tax_while_another_commits(seeded: Any,
                                                                           gated_gongan: GongAnGate) -> None:
    seller, buyer = Api(seeded.test_client(), "zhangsan"), Api(seeded.test_client(), "lisi")
    first = draft_transfer(seller, buyer)
    second = draft_transfer(seller, buyer, unit_code=make_unit_code("330106", 1, 1, "GB", 100, 1, 102),
                            contract_no="WQ2026-000002")
    result: dict[str, Any] = {}
    waiting = threading.Thread(target=lambda: result.setdefault(
        "resp", Api(seeded.test_client(), "zhangsan").post(f"/api/v1/applications/{first}/submit")), daemon=True)
    waiting.start()
    assert gated_gongan.arrived.wait(HOLD_LIMIT_S), "the first submission never called 公安"
    other = seller.post(f"/api/v1/applications/{second}/submit")  # commits while the first waits for 公安
    assert other.status_code == 200, other.get_json()
    gated_gongan.release.set()
    waiting.join(HOLD_LIMIT_S)
    assert result["resp"].status_code == 200, result["resp"].get_json()

    numbers = {first: result["resp"].get_json()["business_no"], second: other.get_json()["business_no"]}
    assert numbers[first] != numbers[second]
    with seeded.extensions["db"].unit_of_work() as session:
        pushed = session.execute(select(InterfaceCallLog.case_id, InterfaceCallLog.request_summary)
                                 .where(InterfaceCallLog.operation == "tax_case.push")).all()
    sent = {(case_id, summary["business_no"]) for case_id, summary in pushed}
    assert sent == {(first, numbers[first]), (second, numbers[second])}  # each case's own number, nothing else
