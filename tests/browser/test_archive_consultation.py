"""The archivist at 1280 px: signs in and lands on 电子档案, finds a registered case's package by the holder's ID
number, is stopped without a purpose, consults it with one and reads it read-only (the file list), each page
checked by axe-core. Screenshots: test-artifacts/workbench/archive-*.png."""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from support.cases import take_through

from app.config import ROOT
from app.demo import DEMO_PASSWORD, LI_SI

SHOTS = ROOT / "test-artifacts" / "workbench"


def test_the_archivist_finds_and_consults_a_package(page: Any, seeded: Any, login: Any,
                                                    submitted_transfer: dict[str, Any]) -> None:
    from app.archives.building import build_pending
    from app.registry.certificates import issuing_config

    SHOTS.mkdir(parents=True, exist_ok=True)
    business_no = submitted_transfer["business_no"]
    take_through(login, business_no)
    with seeded.app_context():
        session = seeded.extensions["db"].session_factory()
        try:
            assert build_pending(session, seeded.extensions["storage"], issuing_config().font) == 1
        finally:
            session.close()

    page.goto("/login")  # no ``next``: the archivist's own start page
    page.fill("#username", "xh_archivist")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/workbench/archives$"))
    expect(page.locator("header nav")).not_to_contain_text("待办箱")
    expect(page.locator("[data-figure=total]")).to_have_text("1")
    expect(page.locator("[data-figure=failed]")).to_have_text("0")
    page.fill("input[name=holder_id_number]", LI_SI["id_number"])  # the buyer, now the holder
    page.click("form[role=search] button[type=submit]")
    row = page.locator(f'tr[data-business-no="{business_no}"]')
    expect(row).to_contain_text("永久")
    expect(row).to_contain_text("登记类")
    page.screenshot(path=str(SHOTS / "archive-search.png"), full_page=True)

    purpose = row.locator("input[name=purpose]")
    row.locator("button", has_text="调阅").click()
    assert purpose.evaluate("el => !el.validity.valid")  # the browser asks for the purpose first
    purpose.fill("核实原始登记资料")
    row.locator("button", has_text="调阅").click()
    expect(page.locator("h1")).to_contain_text("档案调阅")
    expect(page.locator("main")).to_contain_text("调阅目的：核实原始登记资料")
    files = page.locator("table.archive-files tbody tr")
    expect(files).to_have_count(int(page.locator("main").inner_text().split("件数 / 页数")[1].split("件")[0]))
    expect(page.locator("tr[data-kind=certificate]")).to_have_count(1)
    expect(page.locator("tr[data-kind=history]")).to_contain_text("办理过程")
    expect(page.locator("main form")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "archive-consultation.png"), full_page=True)
