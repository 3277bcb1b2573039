"""The inbox use cases through GET /api/v1/tasks?tab=…: tabs and counts, filters (stage, type, due,
applicant by exact ID number), release, batch claim and a team leader's assignment."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update

from app.casefile.models import Task
from app.demo import LI_SI, ZHANG_SAN
from app.identifiers import make_id_card


def _inbox(api: Any, **query: Any) -> dict:
    resp = api.get("/api/v1/tasks", query_string=query)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_tabs_count_what_each_clerk_may_take_and_has_taken(login: Any, submitted_transfer: dict) -> None:
    clerk = login("xh_acceptor")
    before = _inbox(clerk, tab="claimable")
    assert before["counts"] == {"mine": 0, "claimable": 1, "done": 0}
    assert before["items"][0]["business_no"] == submitted_transfer["business_no"]
    assert before["items"][0]["days_left"] == 1 and before["items"][0]["overdue"] is False
    task_id = before["items"][0]["id"]
    assert clerk.post(f"/api/v1/tasks/{task_id}/claim").status_code == 200
    assert _inbox(clerk, tab="mine")["counts"] == {"mine": 1, "claimable": 0, "done": 0}
    assert clerk.post(f"/api/v1/tasks/{task_id}/complete",
                      json={"decision": "approve", "opinion": "材料齐全，予以受理"}).status_code == 200
    done = _inbox(clerk, tab="done")
    assert done["counts"] == {"mine": 0, "claimable": 0, "done": 1}
    assert [t["id"] for t in done["items"]] == [task_id]
    assert _inbox(login("xh_reviewer"), tab="claimable")["counts"]["claimable"] == 1


def test_only_team_leaders_see_the_all_tab(login: Any, submitted_transfer: dict) -> None:
    assert login("xh_acceptor").get("/api/v1/tasks", query_string={"tab": "all"}).status_code == 403
    leader = _inbox(login("xh_leader"), tab="all")
    assert leader["counts"]["all"] == 1
    assert _inbox(login("yh_leader"), tab="all")["counts"]["all"] == 0  # another district's office


def test_filters_by_applicant_id_number_exactly(login: Any, submitted_transfer: dict) -> None:
    clerk = login("xh_acceptor")
    def search(id_number: str) -> Any:
        return clerk.post("/api/v1/tasks/search", json={"tab": "claimable", "applicant_id_number": id_number})

    found = search(LI_SI["id_number"]).get_json()
    assert found["total"] == 1
    assert search(ZHANG_SAN["id_number"].lower()).get_json()["total"] == 1
    stranger = make_id_card("330106", date(1970, 1, 1), 77)
    assert search(stranger).get_json()["total"] == 0
    bad = search("12345")
    assert bad.status_code == 422
    assert "applicant_id_number" in bad.get_json()["errors"]
    # Paging goes on with the blind-index token; the ID number itself is never accepted in a URL.
    assert LI_SI["id_number"] not in found["applicant"]
    assert _inbox(clerk, tab="claimable", applicant=found["applicant"])["total"] == 1
    in_url = clerk.get("/api/v1/tasks", query_string={"tab": "claimable", "applicant_id_number": LI_SI["id_number"]})
    assert in_url.status_code == 422


def test_filters_by_stage_type_and_due(login: Any, seeded: Any, submitted_transfer: dict) -> None:
    clerk = login("xh_acceptor")
    assert _inbox(clerk, tab="claimable", stage="受理")["total"] == 1
    assert _inbox(clerk, tab="claimable", stage="审核")["total"] == 0
    assert _inbox(clerk, tab="claimable", business_type="mortgage_first")["total"] == 0
    assert _inbox(clerk, tab="claimable", business_type="transfer_resale")["total"] == 1
    assert _inbox(clerk, tab="claimable", due="overdue")["total"] == 0
    assert _inbox(clerk, tab="claimable", due="soon")["total"] == 1
    with seeded.extensions["db"].unit_of_work() as session:
        session.execute(update(Task).values(due_at=date.today() - timedelta(days=10)))
    overdue = _inbox(clerk, tab="claimable", due="overdue")
    assert overdue["total"] == 1 and overdue["items"][0]["overdue"] is True
    assert overdue["items"][0]["days_left"] < 0


def test_a_district_clerk_cannot_filter_by_district(login: Any, submitted_transfer: dict) -> None:
    resp = login("xh_acceptor").get("/api/v1/tasks", query_string={"tab": "claimable", "district": "330110"})
    assert resp.status_code == 403


def test_release_puts_a_claimed_task_back(login: Any, seeded: Any, submitted_transfer: dict) -> None:
    clerk = login("xh_acceptor")
    task_id = _inbox(clerk, tab="claimable")["items"][0]["id"]
    assert clerk.post(f"/api/v1/tasks/{task_id}/claim").status_code == 200
    assert login("xh_leader").post(f"/api/v1/tasks/{task_id}/claim").status_code == 409
    released = clerk.post(f"/api/v1/tasks/{task_id}/release")
    assert released.status_code == 200 and released.get_json()["assignee_id"] is None
    assert _inbox(clerk, tab="claimable")["total"] == 1
    from app.security.models import AuditEntry

    with seeded.extensions["db"].unit_of_work() as session:
        actions = set(session.execute(select(AuditEntry.action)).scalars())
    assert {"task.claim", "task.release"} <= actions


def test_batch_claim_reports_what_could_not_be_claimed(login: Any, submitted_transfer: dict) -> None:
    clerk = login("xh_acceptor")
    task_id = _inbox(clerk, tab="claimable")["items"][0]["id"]
    login("xh_leader").post(f"/api/v1/tasks/{task_id}/claim")
    resp = clerk.post("/api/v1/tasks/claim", json={"task_ids": [task_id]})
    assert resp.status_code == 200
    assert resp.get_json() == {"claimed": [], "failed": {task_id: "该任务已由他人领取"}}


def test_a_team_leader_assigns_and_reassigns(login: Any, seeded: Any, submitted_transfer: dict) -> None:
    from app.identity.models import User

    with seeded.extensions["db"].unit_of_work() as session:
        ids = dict(session.execute(select(User.username, User.id)).all())
    leader, clerk = login("xh_leader"), login("xh_acceptor")
    task_id = _inbox(leader, tab="all")["items"][0]["id"]
    assert clerk.post(f"/api/v1/tasks/{task_id}/assign",
                      json={"assignee_id": ids["xh_acceptor"]}).status_code == 403
    resp = leader.post(f"/api/v1/tasks/{task_id}/assign", json={"assignee_id": ids["xh_acceptor"]})
    assert resp.status_code == 200 and resp.get_json()["assignee_id"] == ids["xh_acceptor"]
    assert _inbox(clerk, tab="mine")["total"] == 1
    wrong_role = leader.post(f"/api/v1/tasks/{task_id}/assign", json={"assignee_id": ids["xh_reviewer"]})
    assert wrong_role.status_code == 404
    other_office = leader.post(f"/api/v1/tasks/{task_id}/assign", json={"assignee_id": ids["yh_acceptor"]})
    assert other_office.status_code == 404
    moved = leader.post(f"/api/v1/tasks/{task_id}/assign", json={"assignee_id": ids["xh_leader"]})
    assert moved.status_code == 200 and _inbox(clerk, tab="mine")["total"] == 0


def test_city_level_staff_filter_the_all_tab_by_district(login: Any, submitted_transfer: dict) -> None:
    admin = login("admin")
    assert _inbox(admin, tab="all")["counts"]["all"] == 1
    assert _inbox(admin, tab="all", district="330106")["total"] == 1
    assert _inbox(admin, tab="all", district="330110")["total"] == 0
