"""Link navigation in a real browser (Chromium): 张三 chooses 浙江省 → 杭州市 → 西湖区 and a business type at the
national entrance and presses 去办理; the browser itself posts the signed assertion to the province and the
province's to the city (script-submitted forms, each allowed by that page's CSP form-action only), and he lands on
杭州's application page for that type, signed in and not asked to verify again."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import open_context
from flask import Flask
from playwright.sync_api import expect
from support.federation_nav import CITY, PROVINCE, Federation, three_platforms


@pytest.fixture
def federation(seeded: Flask, base_database_url: str, database_templates: dict[str, str],
               tmp_path: Path) -> Iterator[Federation]:
    with three_platforms(seeded, base_database_url, database_templates, tmp_path) as platforms:
        yield platforms


def test_go_from_the_national_entrance_to_the_city_application(browser: Any, federation: Federation,
                                                                 sign_in: Any) -> None:
    context = open_context(browser, federation.national.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, "zhangsan", next_path="/national")
        with page.expect_navigation():
            page.select_option("#province", PROVINCE)  # the form submits itself on change
        with page.expect_navigation():
            page.select_option("#city", CITY)
        page.select_option("#target", "330106")
        page.select_option("#business_type", "transfer_resale")
        page.get_by_role("button", name="去办理").first.click()
        page.wait_for_url(re.compile(re.escape(federation.city.url) + r"/apply/transfer_resale$"))
        expect(page.locator("h1")).to_contain_text("二手房转移登记")
        expect(page.locator(".site-header .who")).not_to_contain_text("登录")  # signed in at the city
    finally:
        context.close()
