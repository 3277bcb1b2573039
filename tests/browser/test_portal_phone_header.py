"""Issue 17 on a 360×740 phone in Debian's Chromium: the page header is one line (≤ 64 px) on the hall (before
and after signing in), an application page and the clerk's workbench, its menu behind 菜单 (opened without
script); and the invited co-applicant's read-only view of what he is asked to sign, the seller masked.
Screenshots go to test-artifacts/portal/ (h…)."""
from __future__ import annotations

from typing import Any

from browser_fixtures import open_context
from playwright.sync_api import expect
from support.forms import transfer_form, upload_missing
from test_portal_journey import shot

from app.demo import LI_SI, ZHANG_SAN
from app.security.masking import mask_id_number

SMALL_PHONE = {"width": 360, "height": 740}
MAX_HEADER_PX = 64


def _phone(browser: Any, live_server: str) -> Any:
    return open_context(browser, live_server, viewport=SMALL_PHONE, is_mobile=True, has_touch=True).new_page()


def _header_is_one_line(page: Any, name: str) -> None:
    header = page.locator("header.site-header")
    height = header.evaluate("h => h.getBoundingClientRect().height")
    shot(page, name)
    assert height <= MAX_HEADER_PX, f"{name}: header {height} px"
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"] + 1


def test_the_header_is_one_line_on_a_phone_and_the_co_applicant_reads_masked(
        browser: Any, live_server: str, sign_in: Any, login: Any) -> None:
    seller_api = login("zhangsan")
    created = seller_api.post("/api/v1/applications", json={"business_type": "transfer_resale",
                                                            "form": transfer_form()})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(seller_api, case_id)
    assert seller_api.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200

    page = _phone(browser, live_server)
    page.goto("/")
    _header_is_one_line(page, "h1-hall-signed-out")
    expect(page.locator("header nav")).to_be_hidden()
    expect(page.locator("header >> text=注册")).to_be_visible()

    sign_in(page, "zhangsan", next_path="/")
    _header_is_one_line(page, "h2-hall-signed-in")
    page.click("header >> text=菜单")  # a link to #site-menu: the menu opens under the header, no script
    menu = page.locator("#site-menu")
    expect(menu.locator("text=我的申请")).to_be_visible()
    assert page.locator("header.site-header").evaluate("h => h.getBoundingClientRect().height") <= MAX_HEADER_PX
    shot(page, "h3-menu-open")
    page.click("#site-menu >> text=我的申请")
    page.wait_for_url("**/my/applications")
    expect(page.locator("#site-menu nav")).to_be_hidden()  # closed again on the next page
    page.goto(f"/my/applications/{case_id}/edit")
    _header_is_one_line(page, "h4-application")
    page.context.close()

    buyer = _phone(browser, live_server)
    sign_in(buyer, "lisi", next_path=f"/my/applications/{case_id}/edit")
    expect(buyer.locator("#read-only")).to_contain_text("本申请由创建人填写")
    expect(buyer.locator("text=申请表（可修改）")).to_have_count(0)
    expect(buyer.locator("input[type=file][name=file]")).to_have_count(0)
    answers = buyer.locator("dl.answers")
    expect(answers).to_contain_text(mask_id_number(ZHANG_SAN["id_number"]))
    expect(answers).to_contain_text(LI_SI["id_number"])  # his own, whole
    expect(buyer.locator("main")).not_to_contain_text(ZHANG_SAN["id_number"])
    expect(buyer.locator("main")).not_to_contain_text(ZHANG_SAN["name"])
    expect(buyer.locator("#sign")).to_be_visible()
    _header_is_one_line(buyer, "h5-co-applicant-read-only")
    buyer.context.close()

    clerk = _phone(browser, live_server)
    sign_in(clerk, "xh_acceptor")
    clerk.goto("/workbench/")
    _header_is_one_line(clerk, "h6-workbench")
    clerk.context.close()
