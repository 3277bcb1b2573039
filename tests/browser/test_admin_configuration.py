"""Acceptance in Chromium for configuration: a form edit appears in the generated form preview as it is
typed, is saved as a new version and appears in the portal's generated application form; dictionary CRUD,
with the delete of a referenced entry refused."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from support.forms import transfer_form

from app.catalog.dictionaries import seed_dictionaries

ROOT = Path(__file__).resolve().parents[2]


def test_a_form_edit_appears_in_the_generated_preview(page: Any, sign_in: Any) -> None:
    sign_in(page, "analyst", next_path="/admin/forms/transfer_resale_application")
    preview = page.locator("#form-preview")
    assert preview.locator("label[for='f-preview-remarks']").inner_text() == "备注"
    page.fill("tr[data-row='remarks'] input[aria-label='标题']", "备注（可选填写）")
    page.wait_for_function(
        "() => document.querySelector(\"label[for='f-preview-remarks']\").textContent.includes('可选填写')")
    page.fill("tr[data-row='new'] input[aria-label='新字段名']", "elevator")
    page.fill("tr[data-row='new'] input[aria-label='标题']", "是否有电梯")
    page.select_option("tr[data-row='new'] select[aria-label='控件']", "radio")
    page.fill("tr[data-row='new'] textarea[aria-label='选项']", "yes=有\nno=无")
    page.wait_for_function("() => document.querySelector('#form-preview').textContent.includes('是否有电梯')")
    expect(preview.locator("input[name='preview-elevator'][value='yes']")).to_have_count(1)

    with page.expect_navigation():  # the answer page has loaded

        page.click("button[value=save]")
    assert "表单已保存：transfer_resale: 新版本 v2" in page.locator(".flash").inner_text()
    assert "备注（可选填写）" in preview.inner_text()

    # the portal's generated application form is the same renderer over the new version
    page.context.clear_cookies()
    sign_in(page, "zhangsan", next_path=f"/apply/transfer_resale?unit_code={transfer_form()['unit_code']}")
    assert page.locator("label[for='f-remarks']").inner_text() == "备注（可选填写）"
    expect(page.locator("input[name='elevator'][value='yes']")).to_have_count(1)
    assert "是否有电梯" in page.locator("[data-field='elevator']").inner_text()
    page.screenshot(path="test-artifacts/admin/form-edit-in-portal.png", full_page=True)


def test_dictionary_crud_and_a_refused_delete(page: Any, sign_in: Any, db: Any) -> None:
    with db.unit_of_work() as session:
        seed_dictionaries(session, ROOT)
    sign_in(page, "analyst", next_path="/admin/dictionaries")
    page.click("text=用途")
    page.click("text=新增")
    page.fill("#code", "commercial")
    page.fill("#name", "")
    page.click("main button[type=submit]")
    assert "名称必填" in page.locator(".field.has-error").inner_text()
    page.fill("#name", "商业")
    with page.expect_navigation():  # the answer page has loaded
        page.click("main button[type=submit]")
    assert "已新增：commercial 商业" in page.locator(".flash").inner_text()

    page.click("tr[data-code='commercial'] a:text('编辑')")
    page.fill("#name", "商业服务")
    with page.expect_navigation():  # the answer page has loaded
        page.click("main button[type=submit]")
    assert page.locator("tr[data-code='commercial'] td").nth(1).inner_text() == "商业服务"

    with page.expect_navigation():  # the answer page has loaded

        page.click("tr[data-code='commercial'] button.danger")
    assert "已删除：commercial" in page.locator(".flash").inner_text()

    page.goto("/admin/dictionaries/uses")
    with page.expect_navigation():  # the answer page has loaded
        page.click("tr[data-code='residential'] button.danger")
    message = page.locator(".flash.error").inner_text()
    assert "“住宅”（residential）仍被引用，不能删除" in message and "不动产单元" in message
    expect(page.locator("tr[data-code='residential']")).to_have_count(1)
