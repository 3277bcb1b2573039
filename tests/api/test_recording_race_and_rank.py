"""Two 登簿 racing on one unit (issue 3): the second waits for the first's lock on the unit, re-checks the
rules against what the first recorded and is refused — never two current ownerships. Mortgage rank (顺位,
细则 67 / R10) follows acceptance time, not recording order."""
from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select, text
from support.cases import complete_stage, file_application, take_through
from support.forms import transfer_form
from support.personas import STAFF
from support.waiting import wait_for

from app.casefile.access import definition_of
from app.casefile.models import Case
from app.demo import BANK, ZHANG_SAN
from app.errors import Conflict
from app.identifiers import make_unit_code
from app.identity.actor import actor_for
from app.identity.models import User
from app.registry.models import RealtyUnit, Right
from app.registry.service import record_case


def unit(n: int) -> str:
    return make_unit_code("330106", 1, 1, "GB", 100, 1, 100 + n)


def _to_recording(login: Any, form: dict[str, Any]) -> str:
    resp = file_application(login, "zhangsan", "transfer_resale", form, ("lisi",))
    assert resp.status_code == 200, resp.get_json()
    take_through(login, resp.get_json()["business_no"], ("受理", "审核"))
    return str(resp.get_json()["business_no"])


def test_two_sessions_recording_one_unit_cannot_both_transfer_it(login: Any, db: Any) -> None:
    first = _to_recording(login, transfer_form())
    second = _to_recording(login, transfer_form(contract_no="WQ2026-000124"))
    s1, s2 = db.session_factory(), db.session_factory()
    outcome: dict[str, Any] = {}

    def record(session: Any, business_no: str) -> None:
        case = session.execute(select(Case).where(Case.business_no == business_no)).scalar_one()
        recorder = session.execute(select(User).where(User.username == STAFF["登簿"])).scalar_one()
        record_case(session, case, actor_for(session, recorder), definition_of(session, case).record)

    record(s1, first)  # holds the unit (PostgreSQL row lock; SQLite's write lock) until it commits

    def racer() -> None:
        try:
            record(s2, second)
            outcome["result"] = "recorded"
        except Conflict as exc:
            outcome["result"] = exc.message
        finally:
            s2.rollback()

    thread = threading.Thread(target=racer)
    thread.start()
    _wait_until_blocked(db, thread)
    assert thread.is_alive(), "the second 登簿 must wait for the first"
    s1.commit()
    thread.join(timeout=30)
    s1.close()
    s2.close()
    assert "登簿前复核未通过" in outcome["result"] and "不是" in outcome["result"]
    with db.unit_of_work() as session:
        realty = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == unit(1))).scalar_one()
        owners = session.execute(select(Right).where(Right.unit_id == realty.id, Right.right_type == "ownership",
                                                     Right.status == "current")).scalars().all()
        assert len(owners) == 1 and owners[0].business_no == first


def _wait_until_blocked(db: Any, thread: threading.Thread) -> None:
    """PostgreSQL shows the second 登簿 waiting on a lock: wait for that state. SQLite shows no waiters (its
    busy handler retries inside the driver), so there the racer gets a bounded time to get past the lock."""
    if db.engine.dialect.name != "postgresql":
        thread.join(timeout=0.5)
        return
    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND wait_event_type = 'Lock'")

    def waiting() -> bool:
        with db.engine.connect() as conn:
            return bool(conn.execute(query).scalar()) or not thread.is_alive()

    wait_for(waiting, "the second 登簿 to wait on the first's lock", timeout_s=30)


def _mortgage(unit_code: str, contract: str) -> dict[str, Any]:
    return {"unit_code": unit_code, "cert_no": "浙(2015)西湖区不动产权第0000002号", "use": "住宅",
            "mortgagor_name": ZHANG_SAN["name"], "mortgagor_id_number": ZHANG_SAN["id_number"],
            "mortgagee_name": BANK["name"], "mortgagee_uscc": BANK["id_number"], "mortgage_kind": "一般抵押",
            "debt_amount": 300_000, "debt_start": "2026-12-01", "debt_end": "2036-11-30",
            "guarantee_scope": "主债权及利息", "transfer_restricted": False, "contract_no": contract}


def test_mortgage_rank_follows_acceptance_not_recording(login: Any) -> None:
    early = file_application(login, "bank", "mortgage_first", _mortgage(unit(2), "DY2026-0201"), ("zhangsan",))
    late = file_application(login, "bank", "mortgage_first", _mortgage(unit(2), "DY2026-0202"), ("zhangsan",))
    assert early.status_code == 200 and late.status_code == 200, (early.get_json(), late.get_json())
    early_no, late_no = early.get_json()["business_no"], late.get_json()["business_no"]
    take_through(login, early_no, ("受理",))
    take_through(login, late_no)  # accepted second, recorded first
    take_through(login, early_no, ("审核", "登簿", "缮证"))
    rights = login("xh_acceptor").get(f"/api/v1/units/{unit(2)}").get_json()["rights"]
    ranks = {r["business_no"]: r["rank"] for r in rights if r["type"] == "mortgage"}
    assert ranks == {early_no: 1, late_no: 2}


def test_the_rules_run_again_when_a_corrected_application_is_resubmitted(login: Any, db: Any) -> None:
    """A seizure served while the seller was correcting the application blocks the resubmission."""
    form = transfer_form(unit_code=unit(3), contract_no="WQ2026-000003", price=1_875_000)  # as filed with 住建
    resp = file_application(login, "zhangsan", "transfer_resale", form, ("lisi",))
    business_no = resp.get_json()["business_no"]
    asked = complete_stage(login(STAFF["受理"]), business_no, "受理", decision="correct",
                           correction_items=["请补充完税凭证"])
    assert asked.status_code == 200, asked.get_json()
    from test_registration_rules import COURT, add_right

    add_right(db, unit(3), "seizure", [COURT], details={"court_doc": "(2026)浙0106执888号"})
    again = login("zhangsan").post(f"/api/v1/applications/{resp.get_json()['id']}/submit")
    assert again.status_code == 422 and "(2026)浙0106执888号" in again.get_json()["errors"]["unit_code"][0]
