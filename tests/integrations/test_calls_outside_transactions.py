"""Department calls never run inside a database transaction that holds locks (issue 14 §2; issue 18): while a
submission waits on a slow 公安, other people's reads and writes go on; the submission's results are those of
a direct call, each call is made (and logged) once, and a call from a locked transaction outside a unit of
work fails loudly."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import HOLD_LIMIT_S, GongAnGate, draft_transfer, gongan_behind_a_gate, verifications
from sqlalchemy import func, select
from support.forms import transfer_form
from support.personas import Api

from app.integrations.models import InterfaceCallLog


@pytest.fixture
def slow_gongan(seeded: Any) -> Iterator[GongAnGate]:
    with gongan_behind_a_gate(seeded) as gate:
        yield gate


def _in_thread(work: Any) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = work()
        except BaseException as exc:  # surfaced by the test's assertion on ``result``
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def test_while_a_submission_waits_on_gongan_other_reads_and_writes_go_on(seeded: Any, slow_gongan: GongAnGate) -> None:
    seller, buyer = Api(seeded.test_client(), "zhangsan"), Api(seeded.test_client(), "lisi")
    case_id = draft_transfer(seller, buyer)
    other = seller.post("/api/v1/applications", json={"business_type": "transfer_resale", "form": _second_flat()})
    assert other.status_code == 201, other.get_json()
    other_id = other.get_json()["id"]

    submitting, submitted = _in_thread(lambda: seller.post(f"/api/v1/applications/{case_id}/submit"))
    assert slow_gongan.arrived.wait(HOLD_LIMIT_S), "the submission never called 公安"

    reader = Api(seeded.test_client(), "zhangsan")  # another client, while 公安 holds the submission
    read = reader.get(f"/api/v1/applications/{other_id}")
    assert read.status_code == 200 and read.get_json()["status"] == "draft"
    acceptor = Api(seeded.test_client(), "xh_acceptor")
    assert acceptor.get("/api/v1/tasks").status_code == 200
    writing, written = _in_thread(lambda: reader.patch(f"/api/v1/applications/{other_id}",
                                                       json={"form": _second_flat(price=2_400_000)}))
    writing.join(HOLD_LIMIT_S)
    assert "value" in written, written.get("error")
    assert written["value"].status_code == 200, written["value"].get_json()
    assert submitting.is_alive() and not slow_gongan.release.is_set()  # all of it while the submission waited

    slow_gongan.release.set()
    submitting.join(HOLD_LIMIT_S)
    assert "value" in submitted, submitted.get("error")
    assert submitted["value"].status_code == 200, submitted["value"].get_json()
    identity = [s for s in verifications(seller, case_id)["items"] if s["operation"] == "identity.verify"]
    assert identity and all(s["result"] == "一致" for s in identity)
    assert reader.get(f"/api/v1/applications/{other_id}").get_json()["form"]["price"] == 2_400_000


def _second_flat(**overrides: Any) -> dict[str, Any]:
    from app.identifiers import make_unit_code

    return transfer_form(unit_code=make_unit_code("330106", 1, 1, "GB", 100, 1, 102), contract_no="WQ2026-000122",
                         **overrides)


def test_each_department_call_of_a_submission_is_made_and_logged_once(seeded: Any, login: Any) -> None:
    seller, buyer = login("zhangsan"), login("lisi")
    case_id = draft_transfer(seller, buyer)
    assert seller.post(f"/api/v1/applications/{case_id}/submit").status_code == 200
    with seeded.extensions["db"].unit_of_work() as session:
        calls = session.execute(select(InterfaceCallLog.operation, InterfaceCallLog.request_summary)
                                .where(InterfaceCallLog.case_id == case_id)).all()
    identity = [summary for operation, summary in calls if operation == "identity.verify"]
    assert len(identity) == 2 and len({repr(sorted(s.items())) for s in identity}) == 2  # seller and buyer, once each
    assert sum(operation == "contract.query" for operation, _ in calls) == 1
    assert sum(operation == "tax_case.push" for operation, _ in calls) == 1
    assert all(s["result"] == "一致" for s in verifications(seller, case_id)["items"]
               if s["operation"] in ("identity.verify", "contract.verify"))


def test_a_department_call_from_a_locked_transaction_outside_a_unit_of_work_fails_loudly(seeded: Any) -> None:
    from app.integrations.adapters import gongan
    from app.integrations.answers import LockedCall, run_unit
    from app.integrations.client import CallContext
    from app.integrations.models import Interface

    db = seeded.extensions["db"]
    with db.unit_of_work() as session:
        session.execute(select(Interface).where(Interface.code == "gongan").with_for_update()).scalar_one()
        with pytest.raises(LockedCall):
            gongan.verify_identity(session, CallContext(), "张三", "330106198501011234")
    before = _count_calls(db)
    with db.unit_of_work() as session:  # the same inside a unit of work: made after the pass, with no lock held
        def work() -> Any:
            session.execute(select(Interface).where(Interface.code == "gongan").with_for_update()).scalar_one()
            return gongan.verify_identity(session, CallContext(), "张三", "330106198501011234")

        run_unit(session, work)
    assert _count_calls(db) == before + 1


def _count_calls(db: Any) -> int:
    with db.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(InterfaceCallLog)
                                  .where(InterfaceCallLog.interface_code == "gongan")) or 0)


def test_a_sign_in_code_sent_after_writes_goes_out_once_and_is_the_one_stored(seeded: Any, simulator: Any) -> None:
    """Sending a code writes first (rate limits, the code's hash), so its SMS is made after a rolled-back
    pass: the re-run must store the code that went out, and the text is sent once."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
    from portal_account_helpers import enter_code, last_sms, request_code, sms_outbox

    phone, client = "13900000077", seeded.test_client()
    assert request_code(client, phone).status_code == 200  # the page says the code is sent
    texts = [t for t in sms_outbox(simulator.url) if t["phone"] == phone]
    assert len(texts) == 1
    code = last_sms(simulator.url, phone)["params"]["code"]
    assert enter_code(client, phone, code).status_code == 302  # signed in, on to 实名认证
    with client.session_transaction() as cookie:
        assert cookie.get("uid")


def test_a_value_reserved_before_any_write_is_taken_in_the_first_pass_which_then_does_not_stand(seeded: Any) -> None:
    """issue 18: a pass that has written nothing takes its reserved value at once (committed on its own) and
    goes on, collecting its department calls; it is still re-run, so that the pass that stands reads afresh.
    A pass that has written first stops at the reservation as before. Every pass gets the same value."""
    from app.casefile.models import BusinessNumberCounter
    from app.db import next_counter_value
    from app.integrations.answers import answers_of, reserved, run_unit

    db = seeded.extensions["db"]

    def take(s: Any) -> int:
        return int(next_counter_value(s, BusinessNumberCounter, tenant_id="330106", year=2099))

    for write_first in (False, True):
        seen: list[tuple[int, int]] = []
        with db.unit_of_work() as session:
            def work(write_first: bool = write_first, seen: list[tuple[int, int]] = seen) -> int:
                if write_first:
                    session.add(InterfaceCallLog(interface_code="gongan", operation="probe", request_summary={},
                                                 outcome="ok", attempts=0))
                value = reserved(session, "probe", take)
                answers = answers_of(session)
                assert answers is not None
                seen.append((answers.passes, value))
                return value

            value = run_unit(session, work)
        # in-line: the first pass saw the value and went on; after a write: it stopped before seeing it
        assert [p for p, _ in seen] == ([1, 2] if not write_first else [2])
        assert {v for _, v in seen} == {value}
    with db.unit_of_work() as session:
        last = session.get(BusinessNumberCounter, ("330106", 2099))
        assert last is not None and last.last == 2  # one value per unit of work, none given back
