"""好差评: an ended case is rated once per party on the portal or by the SMS link; bad input is a field error in
Chinese; a 差评 opens the office leader's follow-up (核实 → 联系 → 整改 → 答复) whose answer the rater sees; every
rating reaches the province's 好差评 system (the simulator); the statistics count them."""
from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from support.cases import complete_stage
from test_portal_pages import csrf, sign_in
from test_workbench_pages import Page

from app.casefile.models import Case
from app.cases import appointments
from app.demo import ZHANG_SAN
from app.errors import Conflict
from app.feedback import answer_notice, links
from app.feedback.models import Rating
from app.feedback.service import rate_case
from app.identity.actor import actor_for
from app.identity.models import User
from app.integrations.models import OutboxMessage
from app.integrations.outbox import deliver_pending
from app.supervision import stats
from app.vocabulary import RatingChannel

FOLLOW_UP_STAGES = ("核实", "联系", "整改", "答复")


def _refused_case(login: Any, submitted: dict[str, Any]) -> str:
    resp = complete_stage(login("xh_acceptor"), submitted["business_no"], "受理", "reject",
                          reject_reasons=["申请材料与登记簿记载不一致"])
    assert resp.status_code == 200 and resp.get_json()["case_status"] == "rejected", resp.get_json()
    return str(submitted["id"])


def _rate(client: FlaskClient, case_id: str, **form: str) -> Any:
    page = f"/my/applications/{case_id}"
    return client.post(f"{page}/rating", data={"csrf_token": csrf(client, page), **form})


def test_a_running_case_offers_no_rating_and_an_ended_one_is_rated_once(
        client: FlaskClient, login: Any, submitted_transfer: dict[str, Any]) -> None:
    sign_in(client, "zhangsan")
    page = f"/my/applications/{submitted_transfer['id']}"
    assert "服务评价" not in client.get(page).get_data(as_text=True)
    case_id = _refused_case(login, submitted_transfer)
    assert 'name="level"' in client.get(page).get_data(as_text=True)

    bad = _rate(client, case_id, level="9")
    assert bad.status_code == 422 and "请选择评价等级" in bad.get_data(as_text=True)
    long = _rate(client, case_id, level="4", comment="慢" * 501)
    assert long.status_code == 422 and "评价意见不能超过 500 个字" in long.get_data(as_text=True)

    assert _rate(client, case_id, level="4", comment="窗口耐心").status_code == 302
    shown = client.get(page).get_data(as_text=True)
    assert "您的评价：<strong>满意</strong>" in shown and 'name="level"' not in shown
    again = _rate(client, case_id, level="5")
    assert again.status_code == 409 and "每项服务只能评价一次" in again.get_data(as_text=True)


def _answer_texts(simulator: Any, reference: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{simulator.url}/sms/outbox") as resp:  # noqa: S310 (the test's own simulator)
        return [m for m in json.load(resp)["items"]
                if m["template"] == answer_notice.TEMPLATE and m["params"]["reference"] == reference]


def test_a_bad_rating_goes_through_its_follow_up_to_the_answer_the_rater_sees(
        client: FlaskClient, login: Any, seeded: Any, submitted_transfer: dict[str, Any], simulator: Any) -> None:
    case_id = _refused_case(login, submitted_transfer)
    sign_in(client, "zhangsan")
    assert _rate(client, case_id, level="1", comment="材料一次没说清楚").status_code == 302
    with seeded.extensions["db"].unit_of_work() as session:  # no answer yet: nothing to tell the rater
        assert answer_notice.send_answers_due(session) == 0
    page = client.get(f"/my/applications/{case_id}").get_data(as_text=True)
    assert "差评整改" in page and "差评核实中" in page
    tasks = login("xh_leader").get("/api/v1/tasks", query_string={"stage": "核实"}).get_json()["items"]
    assert len(tasks) == 1 and tasks[0]["role"] == "team_leader" and tasks[0]["due_at"], tasks
    follow_up_no = tasks[0]["business_no"]
    assert login("xh_acceptor").get("/api/v1/tasks", query_string={"stage": "核实"}).get_json()["items"] == []

    leader = Page(seeded.test_client(), "xh_leader")  # the workbench pages, as the office leader works
    for stage, opinion in zip(FOLLOW_UP_STAGES, ("差评属实：未一次告知", "已电话联系评价人", "已修订一次性告知单",
                                                 "已核实并整改，今后受理时一次性告知所需材料"), strict=True):
        inbox = leader.get("/workbench/?tab=all").get_data(as_text=True)
        assert follow_up_no in inbox, stage
        task = login("xh_leader").get("/api/v1/tasks", query_string={"stage": stage,
                                                                     "business_no": follow_up_no}).get_json()["items"]
        case_page = leader.get(f"/workbench/cases/{task[0]['case_id']}")
        assert case_page.status_code == 200 and "差评整改" in case_page.get_data(as_text=True)
        done = leader.post(f"/workbench/tasks/{task[0]['id']}/complete", decision="approve", opinion=opinion)
        assert done.status_code == 302, done.get_data(as_text=True)[:500]
    page = client.get(f"/my/applications/{case_id}").get_data(as_text=True)
    assert "已答复" in page and "登记机构答复" in page and "今后受理时一次性告知所需材料" in page
    answered = login("zhangsan").get(f"/api/v1/applications/{case_id}/rating").get_json()
    assert answered["follow_up"]["answered"] is True and answered["follow_up"]["status"] == "completed"
    # the rater is texted that the answer is there, once: the job's next runs send nothing more
    for expected in (1, 0):
        with seeded.extensions["db"].unit_of_work() as session:
            assert answer_notice.send_answers_due(session) == expected
    [text] = _answer_texts(simulator, submitted_transfer["business_no"])
    assert text["phone"] == ZHANG_SAN["phone"] and text["params"]["follow_up_no"] == follow_up_no
    with seeded.extensions["db"].unit_of_work() as session:
        rating = session.execute(select(Rating).where(Rating.follow_up_case_id == task[0]["case_id"])).scalar_one()
        assert rating.answer_texted_at is not None
    # the follow-up is the office's work: not among the rater's applications, not opened to him
    assert follow_up_no not in client.get("/my/applications").get_data(as_text=True)
    assert login("zhangsan").get(f"/api/v1/applications/{task[0]['case_id']}").status_code == 404
    with seeded.extensions["db"].unit_of_work() as session:  # nor announced to the registration subscribers
        assert session.execute(select(OutboxMessage).where(OutboxMessage.topic == "case.progress")
                               .where(OutboxMessage.payload["business_no"].as_string() == follow_up_no)).first() is None
    # nor archived as a registration file: the electronic archive takes the refused case, not its follow-up
    from app.archives.building import pending_case_ids
    with seeded.extensions["db"].unit_of_work() as session:
        pending = pending_case_ids(session)
    assert case_id in pending and task[0]["case_id"] not in pending


def test_ratings_reach_the_provinces_system_and_the_statistics(
        client: FlaskClient, login: Any, submitted_transfer: dict[str, Any], seeded: Any, simulator: Any) -> None:
    case_id = _refused_case(login, submitted_transfer)
    sign_in(client, "zhangsan")
    assert _rate(client, case_id, level="2").status_code == 302
    with seeded.extensions["db"].unit_of_work() as session:
        report = deliver_pending(session)
    assert report.sent >= 1, str(report)
    with urllib.request.urlopen(f"{simulator.url}/_control/state") as resp:  # noqa: S310 (the test's own simulator)
        received = json.load(resp)["received"].get("haochaping", [])
    bodies = [m["body"] for m in received if m["body"].get("business_no") == submitted_transfer["business_no"]]
    assert len(bodies) == 1 and bodies[0]["level"] == 2 and bodies[0]["level_label"] == "不满意", received
    assert bodies[0]["office"] == "330106" and bodies[0]["stage"] == "不予受理"

    with seeded.extensions["db"].unit_of_work() as session:
        ops = session.execute(select(User).where(User.username == "ops")).scalar_one()
        ratings = stats.dashboard(session, actor_for(session, ops), stats.StatsFilter())["ratings"]
    assert ratings["total"] == 1 and ratings["satisfied"] == 0 and ratings["share"] == 0.0
    assert ratings["open_bad"] == 1
    assert [(r["key"], r["value"]) for r in ratings["by_stage"]] == [("不予受理", 1)]
    assert [r["label"] for r in ratings["by_clerk"]] == ["xh_acceptor"]


def test_the_sms_link_rates_once_without_signing_in(
        client: FlaskClient, login: Any, submitted_transfer: dict[str, Any], seeded: Any, simulator: Any) -> None:
    _refused_case(login, submitted_transfer)
    settings = seeded.config["SETTINGS"]
    with seeded.extensions["db"].unit_of_work() as session:
        sent = links.send_due(session, secret=settings.secret_key, base_url="http://portal.test")
    assert sent == 2  # the seller (applicant) and the buyer who confirmed
    with urllib.request.urlopen(f"{simulator.url}/sms/outbox") as resp:  # noqa: S310
        texts = [m for m in json.load(resp)["items"] if m["template"] == "feedback_invitation"
                 and m["params"]["reference"] == submitted_transfer["business_no"]]
    assert len(texts) == 2
    path = texts[0]["params"]["link"].removeprefix("http://portal.test")
    form = client.get(path)
    assert form.status_code == 200 and 'name="level"' in form.get_data(as_text=True)
    token = csrf(client, path)
    bad = client.post(path, data={"csrf_token": token, "level": "很好"})
    assert bad.status_code == 422 and "请选择评价等级" in bad.get_data(as_text=True)
    done = client.post(path, data={"csrf_token": token, "level": "非常满意"})
    assert done.status_code == 200 and "感谢您的评价" in done.get_data(as_text=True)
    used = client.get(path)
    assert used.status_code == 409 and "该评价链接已使用" in used.get_data(as_text=True)
    tampered = client.get(path[:-2] + "xx")
    assert tampered.status_code == 404 and "评价链接无效" in tampered.get_data(as_text=True)


def test_the_rest_api_rates_once_with_field_errors_in_chinese(
        login: Any, submitted_transfer: dict[str, Any]) -> None:
    buyer = login("lisi")
    path = f"/api/v1/applications/{submitted_transfer['id']}/rating"
    early = buyer.post(path, json={"level": 5})
    assert early.status_code == 409 and early.get_json()["code"] == "not_ended"
    _refused_case(login, submitted_transfer)
    assert buyer.get(path).get_json() == {"may_rate": True, "rated": False}
    bad = buyer.post(path, json={"level": "还行"})
    assert bad.status_code == 422 and "请选择评价等级" in bad.get_json()["errors"]["level"][0]
    given = buyer.post(path, json={"level": "基本满意", "comment": "等候时间较长"})
    assert given.status_code == 201 and given.get_json()["level"] == 3 and given.get_json()["follow_up"] is False
    assert buyer.get(path).get_json()["level_label"] == "基本满意"
    again = buyer.post(path, json={"level": 5})
    assert again.status_code == 409 and again.get_json()["code"] == "already_rated"
    # the seller is another party: his own rating is still open
    assert login("zhangsan").get(path).get_json()["may_rate"] is True
    assert login("xh_acceptor").post(path, json={"level": 1}).status_code == 403
    # the follow-up type is the platform's own: nobody applies for it
    internal = buyer.post("/api/v1/applications", json={"business_type": "feedback_followup",
                                                         "form": {"unit_code": "330106001001GB00100F00010101"}})
    assert internal.status_code == 403 and internal.get_json()["code"] == "internal_type"


def test_a_window_visit_is_rated_from_the_appointments_page(
        client: FlaskClient, seeded: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with seeded.extensions["db"].unit_of_work() as session:
        lisi = actor_for(session, session.execute(select(User).where(User.username == "lisi")).scalar_one())
        booked = appointments.book(session, lisi, tenant_id="330106", business_type="transfer_resale",
                                   day=appointments.bookable_days()[0], half="am")
        appointment_id, code, day = booked.id, booked.code, booked.day
    sign_in(client, "lisi")
    early = client.post(f"/appointments/{appointment_id}/rating",
                        data={"csrf_token": csrf(client, "/appointments"), "level": "5"})
    assert early.status_code == 302
    assert "到窗口办理（预约签到）后才能评价" in client.get("/appointments").get_data(as_text=True)
    monkeypatch.setattr(appointments, "beijing_today", lambda: day)
    with seeded.extensions["db"].unit_of_work() as session:
        clerk = actor_for(session, session.execute(select(User).where(User.username == "xh_acceptor")).scalar_one())
        appointments.check_in(session, clerk, code)
    assert client.post(f"/appointments/{appointment_id}/rating",
                       data={"csrf_token": csrf(client, "/appointments"), "level": "4"}).status_code == 302
    page = client.get("/appointments").get_data(as_text=True)
    assert "已评价：满意" in page
    with seeded.extensions["db"].unit_of_work() as session:
        rating = session.execute(select(Rating).where(Rating.appointment_id == appointment_id)).scalar_one()
        assert (rating.stage, rating.reference, rating.tenant_id) == ("窗口服务", code, "330106")


def test_two_simultaneous_ratings_by_the_same_person_keep_exactly_one(
        login: Any, seeded: Any, submitted_transfer: dict[str, Any]) -> None:
    case_id = _refused_case(login, submitted_transfer)
    db = seeded.extensions["db"]
    with db.unit_of_work() as session:  # resolved first: a thread holding SQLite's lock must not wait below
        lisi = actor_for(session, session.execute(select(User).where(User.username == "lisi")).scalar_one())
    results: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(level: int) -> None:
        barrier.wait()
        session = db.session_factory()
        try:
            case = session.execute(select(Case).where(Case.id == case_id)).scalar_one()
            rate_case(session, lisi, case, level=level, comment="", channel=RatingChannel.API)
            session.commit()
            results.append("rated")
        except Conflict as exc:
            session.rollback()
            results.append(exc.code)
        except Exception as exc:  # noqa: BLE001 - reported in the assertion below
            session.rollback()
            results.append(repr(exc))
        finally:
            session.close()

    threads = [threading.Thread(target=attempt, args=(level,)) for level in (5, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["already_rated", "rated"], results
    with db.unit_of_work() as session:
        ratings = session.execute(select(Rating).where(Rating.case_id == case_id)).scalars().all()
        assert len(ratings) == 1
        # a 差评 that lost the race opened no follow-up
        assert (ratings[0].level == 1) == (ratings[0].follow_up_case_id is not None)
        follow_ups = session.execute(select(Case.id).where(Case.business_type_code == "feedback_followup")).scalars()
        assert list(follow_ups) == ([] if ratings[0].level == 5 else [ratings[0].follow_up_case_id])
