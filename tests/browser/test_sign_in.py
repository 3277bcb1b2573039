"""The shared sign-in page: wrong password stays on the form with a Chinese message; right one signs in,
goes back to where the user was heading, and logging out ends the session."""
from __future__ import annotations

from typing import Any


def test_sign_in_and_out(page: Any, sign_in: Any) -> None:
    sign_in(page, "xh_acceptor", password="wrong")
    assert page.locator("[role=alert]").inner_text() == "用户名或密码错误"
    assert "/login" in page.url

    sign_in(page, "xh_acceptor")
    assert "xh_acceptor" in page.locator(".site-header .who").inner_text()

    with page.expect_navigation():  # the answer page has loaded

        page.click(".site-header .who button")
    assert "您已安全退出" in page.content()
    assert page.locator(".site-header .who").inner_text().strip() == "登录"


def test_next_never_leaves_the_site(page: Any, live_server: str, sign_in: Any) -> None:
    sign_in(page, "xh_acceptor", next_path="//evil.example/x")
    assert page.url.startswith(live_server)
