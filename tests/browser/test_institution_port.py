"""In a real browser: the operator opens 机构监管, finds the demo bank, tries to close its port without a reason
(the form says why not), closes it with one, sees it closed with the reason in the history; the bank's next
filing over the API is refused with that reason; the operator reopens the port."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from app.config import ROOT
from app.demo import BANK

SHOTS = ROOT / "test-artifacts" / "institutions"


def test_an_operator_closes_and_reopens_the_banks_port(page: Any, sign_in: Any, login: Any) -> None:
    sign_in(page, "ops", next_path="/admin/institutions/supervision")
    row = page.locator("#institutions tr", has_text=BANK["name"])
    expect(row).to_contain_text("开放")
    with page.expect_navigation():  # the institution's page has loaded
        row.get_by_role("link").click()
    with page.expect_navigation():  # the refusal has loaded
        page.get_by_role("button", name="关闭端口").click()
    expect(page.locator("#reason-error")).to_contain_text("请填写关闭或恢复端口的原因")
    page.fill("#reason", "多次提交与登记簿不符的注销申请")
    with page.expect_navigation():  # the answer page has loaded
        page.get_by_role("button", name="关闭端口").click()
    expect(page.locator(".flash.success")).to_contain_text("已关闭")
    expect(page.locator("#port-history")).to_contain_text("多次提交与登记簿不符的注销申请")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "port-closed.png"), full_page=True)

    refused = login("bank").post("/api/v1/institutions/batches", json={"items": [
        {"idempotency_key": "B-1", "business_type": "mortgage_cancel", "form": {}}]})
    assert refused.status_code == 409 and "多次提交与登记簿不符的注销申请" in refused.get_json()["detail"]

    page.fill("#reason", "机构已整改")
    with page.expect_navigation():  # the answer page has loaded
        page.get_by_role("button", name="恢复端口").click()
    expect(page.locator("#port-history tbody tr")).to_have_count(2)
    expect(page.locator("#port-history tbody tr").first).to_contain_text("机构已整改")
