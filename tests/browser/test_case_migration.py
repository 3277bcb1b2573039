"""Acceptance in Chromium for 迁移在办案件: from the type list the analyst opens the page, leaves 补正材料
without a counterpart, runs 预演 (the refused case is listed with its reason) and 执行迁移."""
from __future__ import annotations

from typing import Any

from version_fixtures import CODE


def test_the_analyst_dry_runs_and_migrates_running_cases(page: Any, sign_in: Any,
                                                        v1_v2: tuple[str, str], on_v1: dict[str, Any]) -> None:
    sign_in(page, "analyst", next_path="/admin/")
    with page.expect_navigation():  # the answer page has loaded
        page.click(f"tr[data-code='{CODE}'] a:text('迁移在办案件')")
    mapping = page.locator("#task-mapping")
    assert mapping.locator("tr[data-element='task_review'] select").input_value() == "task_review"
    assert mapping.locator("tr[data-element='task_review'] td").nth(2).inner_text() == "1"  # one case waits there
    page.select_option("tr[data-element='task_correct'] select", "")

    with page.expect_navigation():  # the answer page has loaded

        page.click("button:text('预演')")
    result = page.locator("#migration-result")
    assert "预演：可迁移 2 件，不能迁移 1 件" in result.inner_text()
    refused = result.locator(f"tr[data-business-no='{on_v1['补正']['business_no']}']")
    assert "没有指定新版本中的对应环节" in refused.inner_text()
    page.screenshot(path="test-artifacts/admin/case-migration-dry-run.png", full_page=True)

    with page.expect_navigation():  # the answer page has loaded

        page.click("#execute")
    assert "迁移结果：已迁移 2 件，未迁移 1 件" in page.locator("#migration-result").inner_text()
    moved = page.locator(f"tr[data-business-no='{on_v1['审核']['business_no']}']")
    assert "已迁移" in moved.inner_text()
