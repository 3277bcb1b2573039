"""A submission's 业务号 is the one it sends to 税务, even when another submission in the district commits while
the first waits for a department (found by tests/integrations/test_concurrent_load.py): the number is taken
once per unit of work and committed between its passes (app/integrations/answers.py ``reserved``). Before,
a pass's number was given back by the rollback before the department calls, the other submission took it,
and 税务 was sent this case's contract under the other case's number."""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import draft_transfer, interface_row
from sqlalchemy import select
from support.personas import Api
from support.servers import LiveServer

from app.identifiers import make_unit_code
from app.integrations.models import InterfaceCallLog

HOLD_LIMIT_S = 60  # a bound so a broken build fails instead of hanging; the test never waits for it


class FirstCallGate:
    """WSGI middleware in front of a simulator: the first 公安 request waits until the test releases it; the
    others go through."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith("/gongan/"):
            with self._lock:
                first = not self.arrived.is_set()
                self.arrived.set()
            if first:
                self.release.wait(HOLD_LIMIT_S)
        return self.wsgi_app(environ, start_response)


@pytest.fixture
def gated_gongan(seeded: Any) -> Iterator[FirstCallGate]:
    from simulator import SimulatorConfig, create_simulator_app

    config = SimulatorConfig(api_key=os.environ["SIMULATOR_API_KEY"],
                             tax_callback_secret=os.environ["TAX_CALLBACK_SECRET"],
                             payment_callback_secret=os.environ["PAYMENT_CALLBACK_SECRET"])
    gate = FirstCallGate(create_simulator_app(config))
    server = LiveServer(gate)
    interface_row(seeded, "gongan", base_url=server.url, timeout_ms=(HOLD_LIMIT_S + 5) * 1000, max_retries=0)
    try:
        yield gate
    finally:
        gate.release.set()
        server.stop()


def test_a_submission_keeps_the_number_it_sent_to_tax_while_another_commits(seeded: Any,
                                                                           gated_gongan: FirstCallGate) -> None:
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
