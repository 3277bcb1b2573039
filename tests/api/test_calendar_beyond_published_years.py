"""The working-day calendar never stops the platform (issue 13 §5): past the last published holiday plan,
deadlines count the year's statutory holidays and are marked 暂定; submitting and deciding never fail; an
operator enters the year's plan on /admin/calendar (audited) and open tasks' due dates are recounted,
without a case event or an outbox message to anybody."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from support.cases import complete_stage, submit_transfer
from support.clock import frozen_clock
from support.personas import STAFF

from app.casefile.models import CaseEvent
from app.integrations.models import OutboxMessage
from app.security.models import AuditEntry


def _open_task(login: Any, business_no: str, stage: str) -> dict[str, Any]:
    items = login(STAFF[stage]).get("/api/v1/tasks", query_string={"tab": "claimable", "business_no": business_no}
                                    ).get_json()["items"]
    assert [t["stage"] for t in items] == [stage]
    return items[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("now", "year", "accept_due", "provisional"), [
    ("2026-12-28 02:00:00", 2026, "2026-12-29", False),  # Monday: the last week of the last published year
    ("2026-12-31 02:00:00", 2026, "2027-01-04", True),  # 元旦 (Friday) and the weekend are statutory days off
    ("2027-02-04 02:00:00", 2027, "2027-02-11", True),  # 春节: 除夕 2-5 to 初三 2-8, weekend made up 2-9 and 2-10
])
def test_submission_and_every_decision_succeed_past_the_last_published_plan(
        login: Any, now: str, year: int, accept_due: str, provisional: bool) -> None:
    with frozen_clock(now):
        case = submit_transfer(login)
        business_no = case["business_no"]
        assert business_no.startswith(f"{year}330106")
        accept = _open_task(login, business_no, "受理")
        assert (accept["due_at"], accept["due_provisional"]) == (accept_due, provisional)
        for stage, status in [("受理", "reviewing"), ("审核", "recording"), ("登簿", "certifying"),
                              ("缮证", "completed")]:
            resp = complete_stage(login(STAFF[stage]), business_no, stage)
            assert resp.status_code == 200, resp.get_json()
            assert resp.get_json()["case_status"] == status
        notices = login("zhangsan").get(f"/api/v1/applications/{case['id']}/progress").get_json()["events"]
        assert notices[-1]["status"] == "completed"


def test_entering_the_plan_recounts_open_deadlines_audited_and_tells_nobody(
        login: Any, page_login: Any, db: Any) -> None:
    with frozen_clock("2026-12-31 02:00:00"):
        case = submit_transfer(login)
        business_no = case["business_no"]
        assert _open_task(login, business_no, "受理")["due_at"] == "2027-01-04"
        inbox = page_login("xh_acceptor").get("/workbench/?tab=claimable").get_data(as_text=True)
        assert business_no in inbox and "暂定" in inbox

        ops = page_login("ops")
        dashboard = ops.get("/admin/stats").get_data(as_text=True)
        assert "2027 年节假日安排尚未录入" in dashboard and 'id="calendar-warning"' in dashboard
        form = ops.get("/admin/calendar?year=2027").get_data(as_text=True)
        assert "2027-02-10 春节（补假）" in form and "暂定" in form

        refused = ops.post_form("/admin/calendar", {"year": "2027", "holidays": "2027-01-01~2026-01-04",
                                                    "workdays": "", "source": ""})
        assert refused.status_code == 422
        text = refused.get_data(as_text=True)
        assert "2027 年内" in text and "请填写依据文件" in text

        with db.unit_of_work() as session:
            events = session.execute(select(func.count()).select_from(CaseEvent)).scalar_one()
            outbox = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
        entered = ops.post_form("/admin/calendar", {
            "year": "2027", "source": "国务院办公厅关于2027年部分节假日安排的通知（测试）",
            "holidays": "2027-01-01~2027-01-04\n2027-02-05至2027-02-12", "workdays": "2027-02-20"})
        assert entered.status_code == 302, entered.get_data(as_text=True)
        page = ops.get("/admin/calendar?year=2027").get_data(as_text=True)
        assert "已录入 2027 年节假日安排" in page and "其中 1 个到期日有变化" in page
        assert 'id="calendar-warning"' not in ops.get("/admin/stats").get_data(as_text=True)

        accept = _open_task(login, business_no, "受理")
        assert (accept["due_at"], accept["due_provisional"]) == ("2027-01-05", False)
        with db.unit_of_work() as session:
            assert session.execute(select(func.count()).select_from(CaseEvent)).scalar_one() == events
            assert session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == outbox
            entries = {e.action: e for e in session.execute(
                select(AuditEntry).where(AuditEntry.action.like("calendar.%"))).scalars()}
        plan, recount = entries["calendar.plan_entered"], entries["calendar.due_dates_recounted"]
        assert plan.object_id == "2027" and "2027-01-04" in plan.after["holidays"]
        assert plan.after["workdays"] == ["2027-02-20"] and plan.actor_id is not None
        assert recount.after["moved"] == [{"task": accept["id"], "before": "2027-01-04", "after": "2027-01-05"}]

        resp = complete_stage(login(STAFF["受理"]), business_no, "受理")
        assert resp.status_code == 200, resp.get_json()
        review = _open_task(login, business_no, "审核")
        assert date.fromisoformat(review["due_at"]) == date(2027, 1, 6)  # 2 working days after 12-31: 1-5, 1-6
