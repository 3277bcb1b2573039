"""The applicant's journey on a phone (360 px) in Debian's Chromium: a seized unit is refused before the
form; 张三 fills the generated form, uploads from the file picker, pledges and confirms; 李四 confirms in a
second browser; 张三 submits; clerks move the case on (API); 张三 follows every step, downloads the
certificate; the progress lookup works without an account. Screenshots of each page go to test-artifacts/."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import PDF, take_through, transfer_form
from playwright.sync_api import expect

from app.config import ROOT
from app.registry.codes import make_unit_code

PHONE = {"width": 360, "height": 780}
SHOTS = ROOT / "test-artifacts" / "portal"


def unit(n: int) -> str:
    return make_unit_code("330106", 1, 1, "GB", 100, 1, 100 + n)


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def phone(browser: Any, live_server: str) -> Any:
    context = browser.new_context(locale="zh-CN", base_url=live_server, viewport=PHONE, is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(10_000)
    return context.new_page()


def test_apply_on_a_phone_with_a_co_applicant(browser: Any, live_server: str, sign_in: Any, login: Any,
                                              tmp_path: Path) -> None:
    seller = phone(browser, live_server)
    sign_in(seller, "zhangsan", next_path="/guide/transfer_resale")
    shot(seller, "01-guide")
    assert seller.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1  # no sideways scroll
    seller.click("text=在线申请")
    seller.fill("#unit_code", unit(4))
    seller.click("text=核对并继续")
    assert "已被查封" in seller.locator("[role=alert]").inner_text()
    shot(seller, "02-seized-unit-refused")

    seller.fill("#unit_code", unit(1))
    seller.click("text=核对并继续")
    form = transfer_form()
    seller.fill("#f-buyer_name", form["buyer_name"])
    seller.fill("#f-buyer_id_number", "330110199007081234")  # wrong check digit
    seller.fill("#f-price", str(form["price"]))
    seller.fill("#f-contract_no", form["contract_no"])
    shot(seller, "03-form")
    seller.click("text=保存并继续")
    assert seller.locator(".field.has-error[data-field=buyer_id_number]").count() == 1
    shot(seller, "04-form-error")
    seller.fill("#f-buyer_id_number", form["buyer_id_number"])
    seller.click("text=保存并继续")
    expect(seller.locator("main")).to_contain_text("草稿已保存")  # waits for the next page, unlike content()
    edit_url = seller.url

    sample = tmp_path / "scan.pdf"
    sample.write_bytes(PDF)
    for row in seller.locator("tr[id^=material-]:has(.badge.bad)").all():
        code = row.get_attribute("id").removeprefix("material-")  # type: ignore[union-attr]
        seller.set_input_files(f"#material-{code} input[type=file]", str(sample))
        seller.click(f"#material-{code} button:has-text('上传')")
        seller.wait_for_load_state("networkidle")
    assert seller.locator("tr[id^=material-] .badge.warn:has-text('未上传')").count() == 0
    assert seller.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shot(seller, "05-materials")
    seller.check("input[name=pledge]")
    seller.click("text=确认申请")

    buyer = phone(browser, live_server)
    sign_in(buyer, "lisi", next_path=edit_url.replace(live_server, ""))
    buyer.check("input[name=pledge]")
    buyer.click("text=确认申请")
    expect(buyer.locator("main")).to_contain_text("您已确认申请")

    seller.goto(edit_url)
    seller.click("text=提交申请")
    expect(seller.locator("main")).to_contain_text("申请已提交，业务号")
    business_no = seller.locator("main p strong").first.inner_text()
    shot(seller, "06-submitted")

    take_through(login, business_no)
    seller.reload()
    timeline = seller.locator("ol.timeline").inner_text()
    for stage in ("受理", "审核", "登簿", "缮证"):
        assert stage in timeline
    assert seller.locator("a:has-text('下载 PDF')").count() == 0  # the title is the buyer's, not the seller's
    buyer.goto(seller.url.replace(live_server, ""))
    href = buyer.locator("a:has-text('下载 PDF')").first.get_attribute("href")
    pdf = buyer.context.request.get(f"{live_server}{href}")  # with the signed-in browser's cookies
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    shot(seller, "07-completed")

    anonymous = phone(browser, live_server)
    anonymous.goto("/track")
    anonymous.fill("#business_no", business_no)
    anonymous.fill("#name", "李四")
    anonymous.fill("#id_number", form["buyer_id_number"])
    anonymous.click("button:has-text('查询')")
    assert "已办结" in anonymous.locator("#track-result").inner_text()
    shot(anonymous, "08-track")
