"""Cases over the REST API: file an application, submit the demo transfer, take a case through the stages."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from support.forms import transfer_form, upload_missing
from support.personas import STAFF, Api
from support.waiting import wait_for

Login = Callable[[str], Api]


def file_application(login: Login, creator: str, business_type: str, form: dict[str, Any],
                     confirmers: tuple[str, ...] = ()) -> Any:
    """``creator`` creates and uploads every required material; creator and ``confirmers`` confirm; the
    creator submits. Returns the submit response (not asserted: a refusal may be what the test wants)."""
    applicant = login(creator)
    created = applicant.post("/api/v1/applications", json={"business_type": business_type, "form": form})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(applicant, case_id)
    for username in (creator, *confirmers):
        confirmed = login(username).post(f"/api/v1/applications/{case_id}/confirm")
        assert confirmed.status_code == 200, confirmed.get_json()
    make_application_forms(applicant.client.application)
    return applicant.post(f"/api/v1/applications/{case_id}/submit")


def submit_transfer(login: Login) -> dict[str, Any]:
    """张三 sells his 西湖区 flat to 李四: created, materials uploaded, both confirm, submitted; returns the
    submitted case once 税务 has called back with 完税 (so 登簿 can open)."""
    resp = file_application(login, "zhangsan", "transfer_resale", transfer_form(), confirmers=("lisi",))
    assert resp.status_code == 200, resp.get_json()
    case_id = resp.get_json()["id"]
    seller = login("zhangsan")
    wait_for(lambda: any(s["source"] == "tax" for s in seller.get(
        f"/api/v1/applications/{case_id}/verifications").get_json()["items"]), "完税回调")
    return resp.get_json()  # type: ignore[no-any-return]


def complete_stage(api: Api, business_no: str, stage: str, decision: str = "approve", *, confirm_record: bool = True,
                   **data: Any) -> Any:
    """``api`` completes the one open ``stage`` task of the case (waiting for it to open) with ``decision``;
    ``confirm_record`` is the recorder's tick that he checked the 登簿 preview (needed to approve 登簿)."""
    def open_tasks() -> list[dict[str, Any]]:
        query = {"business_no": business_no, "stage": stage}
        return api.get("/api/v1/tasks", query_string=query).get_json()["items"]  # type: ignore[no-any-return]

    tasks = open_tasks()
    if not tasks:  # e.g. 登簿 opens only once 税务 has called back with 完税
        wait_for(lambda: bool(open_tasks()), f"an open {stage} task", timeout_s=10)
        tasks = open_tasks()
    assert len(tasks) == 1, tasks
    resp = api.post(f"/api/v1/tasks/{tasks[0]['id']}/complete",
                    json={"decision": decision, "opinion": f"{stage}意见：符合规定", "data": data,
                          "confirm_record": confirm_record})
    if stage == "缮证" and resp.status_code == 200:
        render_certificates(api.client.application)
    return resp


def render_certificates(app: Any) -> None:
    """制证 as it follows 缮证's commit: the test client never closes a response, so the request's own
    after-response trigger does not run; render what is pending now and wait until nothing is (a live server's
    trigger may be rendering one at the same time)."""
    from app.registry.certificate_rendering import pending_ids, render_now

    def nothing_pending() -> bool:
        with app.extensions["db"].unit_of_work() as session:
            return not pending_ids(session)

    render_now(app)
    wait_for(nothing_pending, "制证 of the certificates 缮证 numbered")


def make_application_forms(app: Any) -> None:
    """The 申请书 as it follows the last signature's commit: the test client never closes a response, so the
    request's own after-response trigger does not run; make what is due now and wait until nothing is (a live
    server's trigger may be making one at the same time)."""
    from app.cases.application_form import due_ids, make_now

    def nothing_due() -> bool:
        with app.extensions["db"].unit_of_work() as session:
            return not due_ids(session)

    make_now(app)
    wait_for(nothing_due, "the 申请书 the last signature asked for")


def take_through(login: Login, business_no: str, stages: tuple[str, ...] = ("受理", "审核", "登簿", "缮证")) -> Any:
    """西湖区 clerks approve each stage in turn; returns the last response."""
    resp = None
    for stage in stages:
        resp = complete_stage(login(STAFF[stage]), business_no, stage)
        assert resp.status_code == 200, resp.get_json()
    return resp
