"""Inbox rules: roles, claims, double completion, tenant isolation, working-day deadlines."""
from __future__ import annotations

from typing import Any

import pytest


def _accept_task(api: Any, business_no: str) -> dict:
    items = api.get("/api/v1/tasks", query_string={"business_no": business_no}).get_json()["items"]
    assert len(items) == 1
    return items[0]


def test_a_task_cannot_be_completed_twice(login: Any, submitted_transfer: dict) -> None:
    acceptor = login("xh_acceptor")
    task = _accept_task(acceptor, submitted_transfer["business_no"])
    body = {"decision": "approve", "opinion": "材料齐全，予以受理"}
    assert acceptor.post(f"/api/v1/tasks/{task['id']}/complete", json=body).status_code == 200
    again = acceptor.post(f"/api/v1/tasks/{task['id']}/complete", json=body)
    assert again.status_code == 409
    assert again.get_json()["detail"] == "该任务已办理"


def test_a_task_claimed_by_one_clerk_cannot_be_taken_by_another(login: Any, client: Any, seeded: Any,
                                                                submitted_transfer: dict) -> None:
    from app.identity.service import create_user

    with seeded.extensions["db"].unit_of_work() as session:
        create_user(session, username="xh_acceptor2", password="Demo@2026", roles=["acceptor"], tenant_id="330106")
    first, second = login("xh_acceptor"), login("xh_acceptor2")
    task = _accept_task(first, submitted_transfer["business_no"])
    assert first.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    resp = second.post(f"/api/v1/tasks/{task['id']}/claim")
    assert resp.status_code == 409
    assert "他人" in resp.get_json()["detail"]
    mine = first.get("/api/v1/tasks", query_string={"mine": 1}).get_json()["items"]
    assert [t["id"] for t in mine] == [task["id"]]


def test_only_the_lane_role_may_complete_a_task(login: Any, submitted_transfer: dict) -> None:
    task = _accept_task(login("xh_acceptor"), submitted_transfer["business_no"])
    resp = login("xh_reviewer").post(f"/api/v1/tasks/{task['id']}/complete",
                                     json={"decision": "approve", "opinion": "越权办理"})
    assert resp.status_code == 403


def test_a_clerk_of_another_district_sees_nothing_of_this_district(login: Any, submitted_transfer: dict) -> None:
    task = _accept_task(login("xh_acceptor"), submitted_transfer["business_no"])
    yuhang = login("yh_acceptor")
    assert yuhang.get("/api/v1/tasks").get_json()["items"] == []
    assert yuhang.get(f"/api/v1/tasks/{task['id']}").status_code == 404
    assert yuhang.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 404
    assert yuhang.post(f"/api/v1/tasks/{task['id']}/complete",
                       json={"decision": "approve", "opinion": "跨区办理"}).status_code == 404
    assert yuhang.get(f"/api/v1/applications/{submitted_transfer['id']}").status_code == 404
    assert login("admin").get(f"/api/v1/applications/{submitted_transfer['id']}").status_code == 200


def test_tasks_are_due_in_working_days(login: Any, submitted_transfer: dict) -> None:
    from datetime import date

    from app.engine.workdays import add_working_days

    task = _accept_task(login("xh_acceptor"), submitted_transfer["business_no"])
    assert task["due_at"] is not None
    assert date.fromisoformat(task["due_at"]) >= add_working_days(date.fromisoformat(task["created_at"][:10]), 1)


def test_an_applicant_has_no_inbox(login: Any, submitted_transfer: dict) -> None:
    assert login("zhangsan").get("/api/v1/tasks").status_code == 403


def test_concurrent_completions_of_one_task_are_refused_by_the_version_check(seeded: Any,
                                                                             submitted_transfer: dict) -> None:
    """Two transactions that both loaded the workflow: only the first may advance it."""
    db = seeded.extensions["db"]
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serializes writers with BEGIN IMMEDIATE; the race is only possible on PostgreSQL")
    from sqlalchemy import select

    from app.casefile.models import Task
    from app.engine.runtime import WorkflowRuntime
    from app.errors import Conflict

    s1, s2 = db.session_factory(), db.session_factory()
    try:
        task1 = s1.execute(select(Task).where(Task.status == "open")).scalar_one()
        task2 = s2.execute(select(Task).where(Task.status == "open")).scalar_one()
        WorkflowRuntime(s2).ready_tasks(task2.case_id)  # s2 has read version N
        WorkflowRuntime(s1).complete(task1.case_id, task1.spiff_task_id, {"decision": "approve"})
        s1.commit()
        with pytest.raises(Conflict):
            runtime = WorkflowRuntime(s2)
            wf_state_loaded = runtime.ready_tasks(task2.case_id)
            assert wf_state_loaded  # still sees the stale READY task in its snapshot
            runtime.complete(task2.case_id, task2.spiff_task_id, {"decision": "approve"})
    finally:
        s1.close()
        s2.rollback()
        s2.close()
