"""Per-stage permissions on the workbench in Chromium: the 受理 clerk who claimed the task corrects the fields
the type lets acceptors edit at 受理 (the form offers only those); the fees follow the register, not the form."""
from __future__ import annotations

from typing import Any

from workbench_pages import claim_and_open, clerk_page_fixture, open_details  # noqa: F401  (fixture)


def test_the_acceptor_corrects_the_editable_fields_at_acceptance(clerk_page: Any,
                                                                 submitted_transfer: dict) -> None:
    clerk = clerk_page("xh_acceptor")
    claim_and_open(clerk, submitted_transfer["business_no"])
    open_details(clerk, "#correct-fields")
    form = clerk.locator("#correct-fields form")
    assert sorted(form.locator("[data-field]").evaluate_all("els => els.map(e => e.dataset.field)")) == \
        ["contract_no", "price", "share_mode", "use"]
    clerk.fill("#f-price", "2360000")
    clerk.check("#correct-fields input[name=use][value=非住宅]")
    with clerk.expect_navigation():  # the page that answers, not the one already shown
        clerk.click("#save-fields")
    assert "申请信息已更正" in clerk.locator(".flash").first.inner_text()
    assert clerk.locator("#application dd[data-field=price]").inner_text() == "2360000"
    fees = clerk.locator("#fees").inner_text()  # the register's recorded use (住宅) sets the tariff
    assert "80 元" in fees and "按登记簿记载的用途“住宅”计收，申请填报为“非住宅”" in fees
    assert "受理环节更正申请信息：房屋用途、成交价格（元）" in clerk.locator("#timeline").inner_text()
    clerk.screenshot(path="test-artifacts/workbench/stage-permissions.png", full_page=True)
