"""In a real browser: a clerk binds an authenticator app by scanning the QR code on 账户安全 and from then on
signs in with password plus code; the operator finds the clerk on the people page and resets the binding."""
from __future__ import annotations

from typing import Any

import pyotp

from app.config import ROOT

SHOTS = ROOT / "test-artifacts" / "operations"


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_totp_enrolment_sign_in_and_reset(page: Any, sign_in: Any) -> None:
    sign_in(page, "xh_reviewer", next_path="/account/security")
    with page.expect_navigation():  # the answer page has loaded
        page.click("text=启用动态验证码")
    qr = page.locator("#totp-qr svg")
    assert qr.is_visible() and qr.bounding_box()["width"] > 100  # a QR code big enough to scan
    _shot(page, "totp-enrol")
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text().strip())
    page.fill("#code", totp.now())
    with page.expect_navigation():  # the answer page has loaded
        page.click("text=确认绑定")
    assert "已启用动态验证码" in page.content()
    with page.expect_navigation():  # the answer page has loaded
        page.click(".site-header .who button")

    sign_in(page, "xh_reviewer", next_path="/workbench/")
    assert "/login/totp" in page.url and "xh_reviewer" not in page.locator(".site-header .who").inner_text()
    page.fill("#code", totp.now())
    with page.expect_navigation():  # the answer page has loaded
        page.click("button[type=submit]")
    assert page.url.endswith("/workbench/") and "xh_reviewer" in page.locator(".site-header .who").inner_text()
    with page.expect_navigation():  # the answer page has loaded
        page.click(".site-header .who button")

    sign_in(page, "ops", next_path="/admin/users?q=xh_reviewer")
    row = page.locator('tr[data-username="xh_reviewer"]')
    assert "动态码" in row.inner_text()
    _shot(page, "people")
    row.locator("text=编辑").click()
    with page.expect_navigation():  # the answer page has loaded
        page.click("text=重置动态验证码")
    assert "已关闭 xh_reviewer 的动态验证码" in page.content()
    _shot(page, "person")
