"""Rights that lapse by law (细则 83, 91, 92): `flask registry expire` ends an objection 15 days after its
registration unless a lawsuit was filed, and an attachment past its period (the queued one then takes
effect); the same objection cannot be lodged again after it lapsed; a second one while it stands is refused."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from support.cases import file_application, take_through

from app.clock import beijing_today
from app.identifiers import make_unit_code
from app.registry.models import RealtyUnit, RegisterEntry
from app.registry.service import current_rights
from app.registry.verify import verify_register_report


def unit(n: int) -> str:
    return make_unit_code("330106", 1, 1, "GB", 100, 1, 100 + n)


def objection_form(unit_code: str, **extra: Any) -> dict[str, Any]:
    return {"unit_code": unit_code, "use": "住宅", "objection_matter": "登记簿记载的权利人应为李四",
            "interest_basis": "李四与张三于 2014 年签订房屋买卖合同", **extra}


def expire(app: Flask, on: date) -> str:
    result = app.test_cli_runner().invoke(args=["registry", "expire", "--today", on.isoformat()])
    assert result.exit_code == 0, result.output
    return str(result.output)


def rights(db: Any, unit_code: str, right_type: str) -> list[dict[str, Any]]:
    with db.unit_of_work() as session:
        realty = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == unit_code)).scalar_one()
        return [dict(r.details) for r in current_rights(session, realty, right_type)]


def test_an_objection_without_a_lawsuit_lapses_after_15_days_and_cannot_be_repeated(
        seeded: Flask, login: Any, db: Any) -> None:
    first = file_application(login, "lisi", "objection", objection_form(unit(1)))
    assert first.status_code == 200, first.get_json()
    take_through(login, first.get_json()["business_no"])
    twice = file_application(login, "lisi", "objection", objection_form(unit(1)))
    assert twice.status_code == 422 and "不能重复申请" in twice.get_json()["detail"]

    today = beijing_today()  # the Beijing day the objection was registered (8 h ahead of UTC)
    assert "0 项" in expire(seeded, today + timedelta(days=14))
    assert len(rights(db, unit(1), "objection")) == 1
    assert "objection_lapsed" in expire(seeded, today + timedelta(days=16))
    assert rights(db, unit(1), "objection") == []
    assert login("xh_acceptor").get(f"/api/v1/units/{unit(1)}").get_json()["flags"]["objection"] is False
    [proof] = login("lisi").get(f"/api/v1/applications/{first.get_json()['id']}").get_json()["certificates"]
    assert proof["status"] == "revoked"

    again = file_application(login, "lisi", "objection", objection_form(unit(1)))
    assert again.status_code == 422 and "同一事项以同一理由" in again.get_json()["detail"]
    with db.unit_of_work() as session:
        assert verify_register_report(session).breaks == []
        realty = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code == unit(1))).scalar_one()
        last = session.execute(select(RegisterEntry).where(RegisterEntry.unit_id == realty.id)
                               .order_by(RegisterEntry.seq.desc())).scalars().first()
        assert last.kind == "objection_lapsed"


def test_an_objection_with_a_lawsuit_does_not_lapse(seeded: Flask, login: Any, db: Any) -> None:
    form = objection_form(unit(2), lawsuit_accepted_no="(2026)浙0106民初77号")
    resp = file_application(login, "lisi", "objection", form)
    take_through(login, resp.get_json()["business_no"])
    expire(seeded, beijing_today() + timedelta(days=30))
    assert len(rights(db, unit(2), "objection")) == 1


def test_an_attachment_lapses_at_the_end_of_its_period_and_the_queued_one_takes_effect(
        seeded: Flask, login: Any, db: Any) -> None:
    from test_court_entrustment import entrust, handle, seizure_form

    first = entrust(login, "seizure", seizure_form(unit(8), "(2026)浙0106执801号", end_date="2027-06-30"))
    handle(login, first.get_json()["business_no"])
    second = entrust(login, "seizure", seizure_form(unit(8), "(2026)浙0106执802号"))
    handle(login, second.get_json()["business_no"])
    expire(seeded, date(2027, 6, 30))
    assert [s["court_doc"] for s in rights(db, unit(8), "seizure")] == ["(2026)浙0106执801号", "(2026)浙0106执802号"]
    assert "seizure_lapsed" in expire(seeded, date(2027, 7, 1))
    assert [(s["court_doc"], s["seizure_kind"]) for s in rights(db, unit(8), "seizure")] == [
        ("(2026)浙0106执802号", "查封")]
