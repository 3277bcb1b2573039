"""Acceptance at 1440 px: a clerk signs in at /login and lands on the workbench (not the citizens' hall), and
on the case page a material waived by shared data reads 免提交（已由公安共享核验）, not 必交 · 缺.
Screenshots: test-artifacts/workbench/staff-landing-*.png."""
from __future__ import annotations

import re
from typing import Any

from browser_fixtures import open_context
from playwright.sync_api import expect

from app.config import ROOT
from app.demo import DEMO_PASSWORD

SHOTS = ROOT / "test-artifacts" / "workbench"


def test_a_clerk_lands_on_the_workbench_and_sees_a_waived_material(browser: Any, live_server: str,
                                                                   submitted_transfer: dict[str, Any]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = open_context(browser, live_server, viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("#username", "xh_acceptor")
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/workbench/$"))
        nav = page.locator("header nav")
        expect(nav).to_contain_text("待办箱")
        expect(nav).not_to_contain_text("我的申请")
        expect(nav).not_to_contain_text("实名认证")
        page.screenshot(path=str(SHOTS / "staff-landing-inbox.png"), full_page=True)

        page.goto(f"/workbench/cases/{submitted_transfer['id']}")
        row = page.locator("#material-seller_identity")
        expect(row).to_contain_text("免提交（已由公安共享核验）")
        expect(row).not_to_contain_text("缺")
        expect(row.locator(".badge.bad")).to_have_count(0)
        expect(page.locator("#waived-materials")).not_to_contain_text("seller_identity")
        row.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "staff-landing-waived-material.png"), full_page=True)
    finally:
        context.close()
