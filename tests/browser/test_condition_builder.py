"""An analyst routes by form fields without typing an expression: in the designer she builds the conditions of
the 审核 gateway's flows from form field, operator and value (the expression text follows as the advanced view),
validates, dry-runs from the generated application form with a choice per task, and publishes; on the type page
she adds a fee whose condition she builds the same way."""
from __future__ import annotations

import html
from typing import Any

from playwright.sync_api import expect
from test_process_designer import BUILDER, add_row, click_element, open_registration_group, wait_condition


def condition_text(page: Any, flow_id: str) -> str:
    return page.evaluate("(id) => { const e = window.bdcModeler.get('elementRegistry').get(id)"
                         ".businessObject.conditionExpression; return e ? e.body : ''; }", flow_id)


def dry_run(page: Any) -> str:
    page.evaluate("() => { document.querySelector('#designer-status').textContent = ''; }")
    page.click("#btn-dryrun")
    page.wait_for_function("() => document.querySelector('#designer-status').textContent.includes('试运行')")
    return page.locator("#designer-status").inner_text()


def test_an_analyst_builds_conditions_and_dry_runs_from_the_generated_form(page: Any, sign_in: Any) -> None:
    sign_in(page, "analyst", next_path="/admin/designer/transfer_resale")
    page.wait_for_selector("body[data-designer-ready=true]")

    # The shipped condition opens in the builder as one row: 审核结论 等于 审核通过.
    click_element(page, "flow_review_approve")
    open_registration_group(page)
    first = page.locator(f"{BUILDER} .bdc-cond-row[data-row='0']")
    assert first.locator(".bdc-cond-field").input_value() == "decision"
    assert first.locator("select.bdc-cond-value").input_value() == "approve"
    assert "房屋用途（申请表）" in first.locator(".bdc-cond-field").inner_text()  # fields by their Chinese labels

    add_row(page, BUILDER, "use", "住宅")  # 且 房屋用途 等于 住宅
    wait_condition(page, "flow_review_approve", 'decision == "approve" and use == "住宅"')
    advanced = page.locator("#bio-properties-panel-bdc-condition")
    assert advanced.input_value() == 'decision == "approve" and use == "住宅"'

    click_element(page, "flow_review_reject")
    open_registration_group(page)
    decision = page.locator(f"{BUILDER} .bdc-cond-row[data-row='0'] select.bdc-cond-value option:checked")
    assert decision.inner_text() == "不予登记"  # the label of 审核's form, the task just before the gateway
    add_row(page, BUILDER, "use", "非住宅")
    page.locator(f"{BUILDER} .bdc-cond-join").select_option("or")
    wait_condition(page, "flow_review_reject", 'decision == "reject" or use == "非住宅"')

    # A value of the wrong kind is explained and never written.
    add_row(page, BUILDER, "price", op=">")
    page.fill(f"{BUILDER} .bdc-cond-row[data-row='2'] input.bdc-cond-value", "很多")
    page.keyboard.press("Tab")
    assert "应填写数字" in page.locator(f"{BUILDER} .bdc-cond-problem").inner_text()
    assert condition_text(page, "flow_review_reject") == 'decision == "reject" or use == "非住宅"'
    page.click(f"{BUILDER} .bdc-cond-row[data-row='2'] .bdc-cond-remove")
    page.wait_for_selector(f"{BUILDER} .bdc-cond-row[data-row='2']", state="detached")
    wait_condition(page, "flow_review_reject", 'decision == "reject" or use == "非住宅"')

    # Text typed in the advanced view shows in the builder when it can, and only there when it cannot.
    click_element(page, "flow_review_correct")
    open_registration_group(page)
    advanced.fill('decision == "correct" or has_mortgage == True')
    page.wait_for_selector(f"{BUILDER} .bdc-cond-row[data-row='1']")
    assert page.locator(f"{BUILDER} .bdc-cond-join").input_value() == "or"
    advanced.fill('(decision == "correct")')
    page.wait_for_selector(f"{BUILDER} .bdc-cond-advanced")
    advanced.fill('decision == "correct"')
    page.wait_for_selector(f"{BUILDER} .bdc-cond-row[data-row='0']")
    wait_condition(page, "flow_review_correct", 'decision == "correct"')

    page.click("#btn-validate")
    page.wait_for_function("() => document.querySelector('#designer-status').textContent.includes('校验')")
    assert "校验通过" in page.locator("#designer-status").inner_text()

    # The dry run's input is the application form with sample data and a choice per user task.
    assert page.locator("#trial-field-use").input_value() == "住宅"
    expect(page.locator("#trial-field-seller_name")).to_have_count(0)  # personal data is not process data
    assert page.locator("label[for=trial-decision-task_review-decision]").inner_text().startswith("审核")
    assert "end_registered" in dry_run(page)
    page.select_option("#trial-field-use", "非住宅")
    assert "end_refused" in dry_run(page)
    assert "bdc-visited" in page.locator("[data-element-id='flow_review_reject']").first.get_attribute("class")
    page.select_option("#trial-field-use", "住宅")
    page.select_option("#trial-decision-task_review-decision", "reject")
    assert "end_refused" in dry_run(page)
    page.screenshot(path="test-artifacts/designer/condition-builder.png")

    page.click("#btn-publish")
    page.wait_for_function("() => document.querySelector('#designer-status').textContent.includes('已发布')")
    versions = page.evaluate("async () => (await (await fetch('/admin/api/types/transfer_resale/versions')).json())")
    current = next(v for v in versions["items"] if v["current"])
    xml = page.evaluate("async (id) => (await (await fetch(`/admin/api/types/transfer_resale/versions/${id}/xml`))"
                        ".json()).xml", current["id"])
    assert 'decision == "reject" or use == "非住宅"' in html.unescape(xml)


def test_a_fee_condition_is_built_on_the_type_page(page: Any, sign_in: Any) -> None:
    sign_in(page, "analyst", next_path="/admin/types/transfer_resale")
    shipped = "tr[data-fee='registration_residential']"
    assert page.locator(f"{shipped} .bdc-cond-row select.bdc-cond-value").input_value() == "住宅"

    new = "tr[data-fee='new']"
    for field, value in (("code", "large_deal_service"), ("name", "大额交易核验服务费"), ("amount_yuan", "20"),
                         ("basis", "示例依据"), ("payer_role", "buyer")):
        page.fill(f"{new} input[name$='-{field}']", value)
    add_row(page, new, "price", op=">")
    page.fill(f"{new} .bdc-cond-row[data-row='0'] input.bdc-cond-value", "3000000")
    page.keyboard.press("Tab")
    add_row(page, new, "use", op="in")
    page.check(f"{new} .bdc-cond-row[data-row='1'] .bdc-cond-value input[value='非住宅']")
    assert page.locator(f"{new} input[name$='-when']").input_value() == 'price > 3000000 and use in ["非住宅"]'
    page.click("form[action$='/business'] button[type=submit]")
    page.wait_for_selector(".flash.success")
    saved = page.locator("tr[data-fee='large_deal_service']")
    assert saved.locator("input[name$='-when']").input_value() == 'price > 3000000 and use in ["非住宅"]'
    expect(saved.locator(".bdc-cond-row")).to_have_count(2)  # and it opens in the builder again
