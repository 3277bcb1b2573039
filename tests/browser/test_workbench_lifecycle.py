"""Acceptance: clerks take a 二手房转移 from the inbox through 受理, 审核, 登簿 (seeing the register diff) and
缮证 to the mailed certificate — each in their own browser session, as they would at the office."""
from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import expect
from support.cases import render_certificates
from workbench_pages import (  # noqa: F401  (fixture)
    claim_and_open,
    clerk_page_fixture,
    submit_decision,
    write_opinion,
)


def test_a_transfer_goes_from_the_inbox_to_a_mailed_certificate(clerk_page: Any, submitted_transfer: dict,
                                                                login: Any, seeded: Any) -> None:
    no = submitted_transfer["business_no"]

    acceptor = clerk_page("xh_acceptor")
    row = acceptor.locator("tr.task-row", has_text=no)
    assert row.locator(".sla").inner_text() == "剩 1 个工作日"
    assert acceptor.locator(".tabs a[data-tab=claimable] .count").inner_text() == "1"
    claim_and_open(acceptor, no)
    assert acceptor.locator("#parties .party-name").all_inner_texts() == ["张*", "李*"]
    acceptor.select_option("#opinion_template", label="申请材料齐全，符合法定形式，予以受理。")
    assert acceptor.input_value("#opinion") == "申请材料齐全，符合法定形式，予以受理。"
    assert acceptor.is_checked("input[name=decision][value=approve]")
    submit_decision(acceptor)
    acceptor.click(".tabs a[data-tab=done]")
    expect(acceptor.locator("tr.task-row", has_text=no)).to_have_count(1)

    reviewer = clerk_page("xh_reviewer")
    claim_and_open(reviewer, no)
    assert "受理通知书" in reviewer.locator("#notices").inner_text()
    reviewer.check("input[name=decision][value=approve]")
    write_opinion(reviewer, "经审核，权属来源清楚，同意登记。")
    submit_decision(reviewer)

    recorder = clerk_page("xh_recorder")
    claim_and_open(recorder, no)
    preview = recorder.locator("#record-preview")
    before, after = preview.locator("table.diff").nth(0), preview.locator("table.diff").nth(1)
    assert "张*" in before.locator("tr.ended").inner_text() and "转为历史" in before.inner_text()
    assert "李*" in after.locator("tr.created").inner_text() and "新设" in after.inner_text()
    recorder.check("input[name=decision][value=approve]")
    write_opinion(recorder, "已核对登簿内容，确认登簿。")
    recorder.click("#submit-decision")  # not yet confirmed: nothing is recorded
    assert "请先核对登簿内容" in recorder.locator("#task").inner_text()
    recorder.check("#confirm_record")
    submit_decision(recorder)

    certifier = clerk_page("xh_certifier")
    claim_and_open(certifier, no)
    rows = certifier.locator("#certificate-preview").inner_text()
    assert "李四" in rows and "杭州市文三路1号" in rows  # read from the register book
    certifier.select_option("#opinion_template", index=1)
    submit_decision(certifier)
    render_certificates(seeded)  # 制证 follows 缮证's commit (the server's trigger may be at it already)
    certifier.goto(f"/workbench/cases/{submitted_transfer['id']}")
    card = certifier.locator("#certificates .certificate")
    assert re.search(r"浙\(\d{4}\)西湖区不动产权第\d{7}号", card.inner_text())
    pdf = certifier.request.get(card.locator("a.button").get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    card.locator("input[name=tracking_no]").fill("SF1234567890")
    with certifier.expect_navigation():  # the answer page, within the navigation cap (a loaded CI took > 10 s)
        card.locator("button", has_text="标记已邮寄").click()
    assert "尚未缴纳登记费（80 元），缴费后方可发证" in certifier.locator(".flash").inner_text()
    pay_url = login("lisi").post(f"/api/v1/applications/{submitted_transfer['id']}/payment", json={}).get_json()
    assert httpx.post(pay_url["pay_url"]).status_code == 200  # the buyer pays on the gateway's page
    certifier.reload()
    card = certifier.locator("#certificates .certificate")
    card.locator("input[name=tracking_no]").fill("SF")
    with certifier.expect_navigation():  # the answer page, within the navigation cap (a loaded CI took > 10 s)
        card.locator("button", has_text="标记已邮寄").click()
    assert "快递单号" in certifier.locator("#certificates").inner_text()
    assert "正确的快递单号" in certifier.locator("#certificates .error-message").inner_text()
    certifier.locator("#certificates input[name=tracking_no]").fill("SF1234567890")
    with certifier.expect_navigation():  # the answer page, within the navigation cap (a loaded CI took > 10 s)
        certifier.locator("#certificates button", has_text="标记已邮寄").click()
    assert "已邮寄（快递单号 SF1234567890）" in certifier.locator("#certificates .delivered").inner_text()
    assert "已办结" in certifier.locator(".case-head").inner_text()
