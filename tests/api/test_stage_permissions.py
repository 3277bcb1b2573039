"""Per-stage permissions (business.yaml ``stage_permissions``): which role may act at which stage, which
application fields each role sees or may correct there — enforced by the server for the REST API and the
workbench page alike; an edit of a read-only field is refused."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from support.cases import take_through
from test_workbench_pages import Page

from app.errors import ValidationFailed
from app.security.models import AuditEntry


def _open_task(api: Any, business_no: str, stage: str) -> dict[str, Any]:
    items = api.get("/api/v1/tasks", query_string={"business_no": business_no, "stage": stage}).get_json()["items"]
    assert len(items) == 1, items
    return items[0]  # type: ignore[no-any-return]


def test_the_reviewer_corrects_an_editable_field_and_is_refused_a_read_only_one(
        login: Any, seeded: Any, submitted_transfer: dict) -> None:
    no, case_id = submitted_transfer["business_no"], submitted_transfer["id"]
    take_through(login, no, ("受理",))
    reviewer = login("xh_reviewer")
    shown = reviewer.get(f"/api/v1/applications/{case_id}").get_json()
    assert shown["field_access"] == {"stages": ["审核"], "hidden": [], "editable": ["contract_no", "price"]}
    unclaimed = reviewer.patch(f"/api/v1/applications/{case_id}/fields", json={"form": {"price": 2_400_000}})
    assert unclaimed.status_code == 409 and unclaimed.get_json()["code"] == "task_not_claimed"
    assert reviewer.post(f"/api/v1/tasks/{_open_task(reviewer, no, '审核')['id']}/claim").status_code == 200

    refused = reviewer.patch(f"/api/v1/applications/{case_id}/fields",
                             json={"form": {"price": 2_400_000, "seller_phone": "13900000000"}})
    assert refused.status_code == 403, refused.get_json()
    assert refused.get_json()["code"] == "field_read_only"
    assert list(refused.get_json()["errors"]) == ["seller_phone"]
    assert reviewer.get(f"/api/v1/applications/{case_id}").get_json()["form"]["price"] == 2_350_000  # nothing saved

    done = reviewer.patch(f"/api/v1/applications/{case_id}/fields", json={"form": {"price": 2_400_000}})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["form"]["price"] == 2_400_000
    progress = login("zhangsan").get(f"/api/v1/applications/{case_id}/progress").get_json()
    assert "审核环节更正申请信息：成交价格（元）" in [e["message"] for e in progress["events"]]
    with seeded.extensions["db"].unit_of_work() as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "case.fields.correct")).scalar_one()
        assert entry.after == {"fields": ["price"], "stage": "审核"}  # names only, never values

    bad = reviewer.patch(f"/api/v1/applications/{case_id}/fields", json={"form": {"price": -1}})
    assert bad.status_code == 422 and "price" in bad.get_json()["errors"]


def test_a_role_sees_no_hidden_field_at_the_stage(login: Any, seeded: Any, client: Any,
                                                   submitted_transfer: dict) -> None:
    no, case_id = submitted_transfer["business_no"], submitted_transfer["id"]
    acceptor = login("xh_acceptor")
    assert "seller_phone" in acceptor.get(f"/api/v1/applications/{case_id}").get_json()["form"]
    take_through(login, no, ("受理", "审核", "登簿"))
    certifier = login("xh_certifier")
    shown = certifier.get(f"/api/v1/applications/{case_id}?unmask=0").get_json()
    assert shown["field_access"]["stages"] == ["缮证"]
    assert {"seller_phone", "buyer_phone"} <= set(shown["field_access"]["hidden"])
    assert "seller_phone" not in shown["form"] and "buyer_phone" not in shown["form"]
    assert shown["form"]["price"] == 2_350_000
    task = certifier.get(f"/api/v1/tasks/{_open_task(certifier, no, '缮证')['id']}").get_json()
    assert "seller_phone" not in task["case"]["form"] and "price" in task["case"]["form"]
    page = Page(seeded.test_client(), "xh_certifier").get(f"/workbench/cases/{case_id}").get_data(as_text=True)
    assert 'data-field="seller_phone"' not in page and 'data-field="price"' in page
    assert "无权查看部分字段" in page
    # the applicant sees their own application whole
    assert "seller_phone" in login("zhangsan").get(f"/api/v1/applications/{case_id}").get_json()["form"]


def test_a_role_granted_act_at_a_stage_may_complete_it_others_may_not(login: Any, seeded: Any,
                                                                       submitted_transfer: dict) -> None:
    from app.identity.service import create_user

    with seeded.extensions["db"].unit_of_work() as session:
        create_user(session, username="xh_leader_only", password="Demo@2026", roles=["team_leader"],
                    tenant_id="330106")
    no = submitted_transfer["business_no"]
    leader = login("xh_leader_only")
    accept = _open_task(login("xh_acceptor"), no, "受理")
    refused = leader.post(f"/api/v1/tasks/{accept['id']}/claim")
    assert refused.status_code == 403 and refused.get_json()["code"] == "wrong_role"  # 受理 grants nothing more
    take_through(login, no, ("受理",))
    review = _open_task(login("xh_reviewer"), no, "审核")
    assert leader.post(f"/api/v1/tasks/{review['id']}/claim").status_code == 200  # 审核 grants team_leader act
    done = leader.post(f"/api/v1/tasks/{review['id']}/complete", json={"decision": "approve", "opinion": "同意"})
    assert done.status_code == 200, done.get_json()


def test_the_workbench_page_offers_only_the_editable_fields_and_the_server_refuses_others(
        login: Any, seeded: Any, submitted_transfer: dict) -> None:
    case_id = submitted_transfer["id"]
    acceptor = Page(seeded.test_client(), "xh_acceptor")
    task = _open_task(login("xh_acceptor"), submitted_transfer["business_no"], "受理")
    assert 'id="correct-fields"' not in acceptor.get(f"/workbench/cases/{case_id}").get_data(as_text=True)
    acceptor.post(f"/workbench/tasks/{task['id']}/claim")
    page = acceptor.get(f"/workbench/cases/{case_id}").get_data(as_text=True)
    form = page.split('id="correct-fields"')[1].split("</form>")[0]
    assert 'name="price"' in form and 'name="contract_no"' in form and 'name="seller_name"' not in form
    forged = acceptor.post(f"/workbench/cases/{case_id}/fields", price="2360000", seller_name="王五")
    assert forged.status_code == 403 and "该字段在当前环节为只读" in forged.get_data(as_text=True)
    saved = acceptor.post(f"/workbench/cases/{case_id}/fields", price="2360000", use="非住宅")
    assert saved.status_code == 302
    shown = login("xh_acceptor").get(f"/api/v1/applications/{case_id}").get_json()
    assert shown["form"]["price"] == 2_360_000 and shown["form"]["use"] == "非住宅"
    # The fee is recomputed, but from the register's recorded use (住宅), not the corrected form field.
    assert shown["fee_total_yuan"] == 80 and "申请填报为“非住宅”" in shown["fee_items"][0]["basis"]


def test_the_loader_refuses_rows_that_cannot_work(seeded: Any) -> None:
    from app.catalog import type_editing
    from app.identity.actor import actor_for
    from app.identity.models import User

    with seeded.extensions["db"].unit_of_work() as session:
        analyst = actor_for(session, session.execute(select(User).where(User.username == "analyst")).scalar_one())
        rows = [{"stage": "受理", "role": "acceptor", "act": True, "editable": ["seller_name", "nope"]},
                {"stage": "审核", "role": "team_leader", "act": True},
                {"stage": "公告", "role": "reviewer"}]
        with pytest.raises(ValidationFailed) as refused:
            type_editing.save_business(session, analyst, seeded.config["SETTINGS"].definitions_root,
                                       "transfer_resale", {"stage_permissions": rows})
    messages = " ".join(m for ms in refused.value.errors.values() for m in ms)
    assert "申请表单中没有字段 nope" in messages
    assert "不能在办理环节修改" in messages
    assert "“审核”阶段可办理的角色须包含流程泳道的角色 reviewer" in messages
    assert "流程中没有“公告”阶段的办理任务" in messages
