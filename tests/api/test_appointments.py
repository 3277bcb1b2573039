"""预约: half-day slots with capacity; booking shows a code, cancelling frees the place; the last place
cannot be taken twice by two people booking at the same moment; clerks see the day's list and check in."""
from __future__ import annotations

import threading
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from test_portal_pages import csrf, sign_in

from app.cases import appointments
from app.errors import Conflict
from app.identity.actor import actor_for
from app.identity.models import User


def first_slot(client: FlaskClient) -> str:
    page = client.get("/appointments").get_data(as_text=True)
    return page.split('name="slot" value="')[1].split('"')[0]


def test_book_see_and_cancel_an_appointment(client: FlaskClient) -> None:
    sign_in(client, "lisi")
    slot = first_slot(client)
    resp = client.post("/appointments", data={"csrf_token": csrf(client, "/appointments"), "tenant_id": "330106",
                                              "business_type": "transfer_resale", "slot": slot})
    assert resp.status_code == 302
    page = client.get("/appointments").get_data(as_text=True)
    assert "预约成功，预约码" in page and "已预约" in page and "余 19" in page
    again = client.post("/appointments", data={"csrf_token": csrf(client, "/appointments"), "tenant_id": "330106",
                                               "business_type": "transfer_resale", "slot": slot})
    assert again.status_code == 422 and "您已预约" in again.get_data(as_text=True)
    cancel_path = page.split('action="/appointments/')[1].split('"')[0]
    token = csrf(client, "/appointments")
    assert client.post(f"/appointments/{cancel_path}", data={"csrf_token": token}).status_code == 302
    page = client.get("/appointments").get_data(as_text=True)
    assert "已取消" in page and "余 19" not in page


def test_bad_choices_are_explained(client: FlaskClient) -> None:
    sign_in(client, "lisi")
    token = csrf(client, "/appointments")
    none = client.post("/appointments", data={"csrf_token": token, "tenant_id": "330106",
                                              "business_type": "transfer_resale"})
    assert none.status_code == 422 and "请选择预约时段" in none.get_data(as_text=True)
    past = client.post("/appointments", data={"csrf_token": token, "tenant_id": "330106",
                                              "business_type": "transfer_resale", "slot": "2020-01-06|am"})
    assert past.status_code == 422 and "个工作日内的日期" in past.get_data(as_text=True)


def test_the_last_place_goes_to_exactly_one_of_two_simultaneous_bookings(
        seeded: Any, db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    halls = {"330106": {**appointments.offices()["330106"], "capacity": {"am": 1, "pm": 1}}}
    monkeypatch.setattr(appointments, "offices", lambda: halls)
    day = appointments.bookable_days()[0]
    results: list[str] = []
    barrier = threading.Barrier(2)

    with db.unit_of_work() as session:  # resolved first: a thread holding SQLite's lock must not wait below
        actors = {u: actor_for(session, session.execute(select(User).where(User.username == u)).scalar_one())
                  for u in ("zhangsan", "lisi")}

    def attempt(username: str) -> None:
        barrier.wait()
        session = db.session_factory()
        actor = actors[username]
        try:
            appointments.book(session, actor, tenant_id="330106", business_type="transfer_resale", day=day, half="am")
            session.commit()
            results.append("booked")
        except Conflict as exc:
            session.rollback()
            results.append(exc.code)
        except Exception as exc:  # noqa: BLE001 - reported in the assertion below
            results.append(repr(exc))
        finally:
            session.close()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in ("zhangsan", "lisi")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["booked", "slot_full"]


def test_clerks_see_the_days_list_and_check_in(seeded: Any, db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.unit_of_work() as session:
        lisi = actor_for(session, session.execute(select(User).where(User.username == "lisi")).scalar_one())
        booked = appointments.book(session, lisi, tenant_id="330106", business_type="transfer_resale",
                                   day=appointments.bookable_days()[0], half="pm")
        code, day = booked.code, booked.day
    monkeypatch.setattr(appointments, "beijing_today", lambda: day)
    with db.unit_of_work() as session:
        clerk = actor_for(session, session.execute(select(User).where(User.username == "xh_acceptor")).scalar_one())
        from app.db import set_tenant_scope

        set_tenant_scope(session, clerk.tenant_scope)
        assert [a.code for a in appointments.day_list(session, clerk, day)] == [code]
        assert appointments.check_in(session, clerk, code.lower()).status == "checked_in"
    with db.unit_of_work() as session:
        other = actor_for(session, session.execute(select(User).where(User.username == "yh_acceptor")).scalar_one())
        set_tenant_scope(session, other.tenant_scope)
        assert appointments.day_list(session, other, day) == []


def test_the_api_books_lists_and_cancels(login: Any) -> None:
    lisi = login("lisi")
    slot = lisi.get("/api/v1/appointments/slots", query_string={"tenant_id": "330110"}).get_json()["items"][0]
    assert slot["capacity"] == 15 and slot["remaining"] == 15
    booked = lisi.post("/api/v1/appointments", json={"tenant_id": "330110", "business_type": "mortgage_first",
                                                      "day": slot["day"], "half": slot["half"]})
    assert booked.status_code == 201 and len(booked.get_json()["code"]) == 8
    assert [a["code"] for a in lisi.get("/api/v1/appointments").get_json()["items"]] == [booked.get_json()["code"]]
    assert lisi.get("/api/v1/appointments/day").status_code == 403  # clerks only
    cancelled = lisi.post(f"/api/v1/appointments/{booked.get_json()['id']}/cancel")
    assert cancelled.get_json()["status"] == "cancelled"
