"""Acceptance: a task claimed by one clerk cannot be claimed by another; a 余杭区 clerk sees none of 西湖区's
work; personal data is masked until a clerk with the permission reveals it, which is audited."""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select
from workbench_pages import clerk_page_fixture  # noqa: F401  (fixture)

from app.security.models import AuditEntry


def test_another_clerk_cannot_claim_a_claimed_task(clerk_page: Any, seeded: Any, submitted_transfer: dict) -> None:
    from app.identity.service import create_user

    with seeded.extensions["db"].unit_of_work() as session:
        create_user(session, username="xh_acceptor2", password="Demo@2026", roles=["acceptor"], tenant_id="330106")
    no = submitted_transfer["business_no"]
    first, second = clerk_page("xh_acceptor"), clerk_page("xh_acceptor2")
    first.locator("tr.task-row", has_text=no).locator("button.claim").click()
    first.wait_for_url(re.compile(r"/workbench/cases/"))
    with second.expect_navigation():
        second.locator("tr.task-row", has_text=no).locator("button.claim").click()  # a page loaded before the claim
    assert "该任务已由他人领取" in second.locator(".flash.error").inner_text()
    second.goto("/workbench/?tab=claimable")
    expect(second.locator("tr.task-row", has_text=no)).to_have_count(0)
    second.goto(f"/workbench/cases/{submitted_transfer['id']}")
    expect(second.locator("#decision-form")).to_have_count(0)  # only the assignee gets the decision form
    assert "xh_acceptor" in second.locator("#task").inner_text()


def test_a_yuhang_clerk_sees_nothing_of_xihu(clerk_page: Any, submitted_transfer: dict) -> None:
    yuhang = clerk_page("yh_leader")
    for tab in ("mine", "claimable", "done", "all"):
        yuhang.goto(f"/workbench/?tab={tab}")
        assert yuhang.locator(".tabs .count").all_inner_texts() == ["0", "0", "0", "0"]
        expect(yuhang.locator("tr.task-row")).to_have_count(0)
    response = yuhang.goto(f"/workbench/cases/{submitted_transfer['id']}")
    assert response.status == 404 and "未找到" in yuhang.content()
    assert submitted_transfer["business_no"] not in yuhang.content()


def test_unmasking_needs_the_permission_and_is_audited(clerk_page: Any, seeded: Any,
                                                       submitted_transfer: dict) -> None:
    case_url = f"/workbench/cases/{submitted_transfer['id']}"
    clerk = clerk_page("xh_acceptor")
    clerk.goto(case_url)
    assert clerk.locator("#parties .party-name").all_inner_texts() == ["张*", "李*"]
    assert clerk.is_disabled("#reveal")
    forged = clerk.request.post(f"{case_url}/reveal", form={"csrf_token": clerk.get_attribute(
        "meta[name=csrf-token]", "content")})
    assert forged.status == 403

    leader = clerk_page("xh_leader")
    leader.goto(case_url)
    leader.click("#reveal")
    assert leader.locator("#parties .party-name").all_inner_texts() == ["张三", "李四"]
    assert "完整信息（已留痕）" in leader.locator("#application h2").inner_text()
    with seeded.extensions["db"].unit_of_work() as session:
        unmasks = session.execute(select(AuditEntry).where(AuditEntry.action == "pii.unmask")).scalars().all()
        assert [(e.object_id, e.tenant_id) for e in unmasks] == [(submitted_transfer["id"], "330106")]
    leader.goto(case_url)  # a fresh view is masked again
    assert leader.locator("#parties .party-name").all_inner_texts() == ["张*", "李*"]
