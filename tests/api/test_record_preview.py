"""The 登簿 preview: what recording would change (before → after) from the same plan the recording applies,
with nothing written until the recorder confirms; the rules are checked again at that moment."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from support.cases import complete_stage

from app.casefile.models import Case
from app.identity.actor import actor_for
from app.identity.models import User
from app.registry.models import RegisterEntry, Right
from app.registry.preview import record_preview


def _preview(seeded: Any, case_id: str) -> dict:
    with seeded.extensions["db"].unit_of_work() as session:
        recorder = actor_for(session, session.execute(select(User).where(User.username == "xh_recorder")).scalar_one())
        preview = record_preview(session, recorder, session.get_one(Case, case_id))
        preview["_entries"] = session.execute(select(func.count()).select_from(RegisterEntry)).scalar_one()
        preview["_rights"] = session.execute(select(func.count()).select_from(Right)).scalar_one()
    return preview


def test_preview_shows_the_transfer_and_writes_nothing(login: Any, seeded: Any, submitted_transfer: dict) -> None:
    no = submitted_transfer["business_no"]
    complete_stage(login("xh_acceptor"), no, "受理")
    complete_stage(login("xh_reviewer"), no, "审核")
    first = _preview(seeded, submitted_transfer["id"])
    assert [(r["holders"], r["change"]) for r in first["before"]] == [(["张*"], "ended")]
    assert [(r["holders"], r["change"], r["amount_yuan"]) for r in first["after"]] == [(["李*"], "created", 2350000.0)]
    assert first["blocked"] is False
    again = _preview(seeded, submitted_transfer["id"])
    assert (again["_entries"], again["_rights"]) == (first["_entries"], first["_rights"])
    assert complete_stage(login("xh_recorder"), no, "登簿").status_code == 200
    with seeded.extensions["db"].unit_of_work() as session:
        assert session.execute(select(func.count()).select_from(RegisterEntry)).scalar_one() == first["_entries"] + 1
        assert session.execute(select(func.count()).select_from(Right)).scalar_one() == first["_rights"] + 1


def test_preview_reports_a_seizure_served_after_acceptance(login: Any, seeded: Any, submitted_transfer: dict) -> None:
    from app.registry.models import RealtyUnit

    no = submitted_transfer["business_no"]
    complete_stage(login("xh_acceptor"), no, "受理")
    complete_stage(login("xh_reviewer"), no, "审核")
    with seeded.extensions["db"].unit_of_work() as session:
        unit = session.execute(select(RealtyUnit).where(
            RealtyUnit.unit_code == submitted_transfer["unit_code"])).scalar_one()
        session.add(Right(unit_id=unit.id, tenant_id=unit.tenant_id, right_type="seizure", status="current",
                          business_no="2026330106800099", details={"court_doc": "(2026)浙0106执99号"}))
    preview = _preview(seeded, submitted_transfer["id"])
    assert preview["blocked"] is True
    assert any(r["code"] == "seizure" and r["severity"] == "block" for r in preview["rule_results"])
    assert complete_stage(login("xh_recorder"), no, "登簿").status_code == 409


def test_the_api_approves_recording_only_with_the_confirmation(login: Any, seeded: Any,
                                                               submitted_transfer: dict) -> None:
    """The same tick the workbench asks for: without ``confirm_record`` nothing is written."""
    no = submitted_transfer["business_no"]
    complete_stage(login("xh_acceptor"), no, "受理")
    complete_stage(login("xh_reviewer"), no, "审核")
    before = _preview(seeded, submitted_transfer["id"])["_entries"]
    refused = complete_stage(login("xh_recorder"), no, "登簿", confirm_record=False)
    assert refused.status_code == 422
    problem = refused.get_json()
    assert problem["code"] == "record_not_confirmed" and list(problem["errors"]) == ["confirm_record"]
    assert _preview(seeded, submitted_transfer["id"])["_entries"] == before
    done = complete_stage(login("xh_recorder"), no, "登簿", confirm_record=True)
    assert done.status_code == 200 and done.get_json()["case_status"] == "certifying"
    assert _preview(seeded, submitted_transfer["id"])["_entries"] == before + 1
