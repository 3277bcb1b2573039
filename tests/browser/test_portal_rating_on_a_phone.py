"""好差评 on a 360×740 phone: 张三's application was not accepted (不予受理); its page now asks for his rating. A
submit without a level puts the error summary first and keeps his comment; a 差评 shows that the office's
follow-up has begun, and the form is gone (one rating per case and party)."""
from __future__ import annotations

from typing import Any

from phone_taps import PHONE, phone_page
from playwright.sync_api import expect
from support.cases import complete_stage, submit_transfer


def test_the_seller_rates_his_finished_case_on_a_phone(browser: Any, live_server: str, sign_in: Any,
                                                       login: Any) -> None:
    case = submit_transfer(login)
    refused = complete_stage(login("xh_acceptor"), case["business_no"], "受理", "reject",
                             reject_reasons=["申请材料与登记簿记载不一致"])
    assert refused.status_code == 200, refused.get_json()
    page = phone_page(browser, live_server)
    sign_in(page, "zhangsan", next_path=f"/my/applications/{case['id']}")
    expect(page.locator("#case-status")).to_have_text("不予受理")
    expect(page.locator("#rating")).to_have_text("服务评价（好差评）")

    page.fill("#comment", "窗口没有一次告知需要的材料")
    page.click("#submit-rating")  # no level chosen
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("a[href='#level']")).to_contain_text("请选择评价等级")
    assert summary.bounding_box()["y"] < PHONE["height"]
    expect(page.locator("#comment")).to_have_value("窗口没有一次告知需要的材料")

    page.get_by_label("不满意", exact=True).check()
    page.click("#submit-rating")
    expect(page.locator("#rating-given")).to_contain_text("不满意")
    expect(page.locator("#rating-given")).to_contain_text("窗口没有一次告知需要的材料")
    expect(page.locator("#follow-up-status")).to_contain_text("差评核实中")
    expect(page.locator("#submit-rating")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
