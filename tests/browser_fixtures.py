"""Fixtures for tests/browser: the seeded app served by a real WSGI server on a free loopback port, driven by
Playwright in Debian's Chromium (no browser download is possible here; `make install` apt-installs it)."""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from support.accessibility import AxeChecker, report

from app.demo import DEMO_PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

# Caps on waits, not waits: an action (click, fill) gives up after ACTION_MS, a page load after NAVIGATION_MS.
# A navigation includes the server's answer and the new page's assets; on a 2-core machine running the other
# xdist worker and CI's own load, 10 s was seen to run out on a plain form POST (found: the 更正申请信息 save),
# and a read right after a click waits under the action cap for the answer page (found: 标记已邮寄, > 10 s
# with two busy loops on the cores): both caps are 30 s.
ACTION_MS = 30_000
NAVIGATION_MS = 30_000
expect.set_options(timeout=ACTION_MS)  # Playwright's expect(...) waits under the same cap (default 5 s)

# axe-core on every page kind this worker loads (support/accessibility.py; tests/README.md "Accessibility").
AXE = AxeChecker()


def open_context(browser: Any, base_url: str, **options: Any) -> Any:
    """A zh-CN browser context on ``base_url`` with the suite's caps on waits and axe-core on its pages (every
    browser test opens its contexts here, so the caps and the check live in one place)."""
    context = browser.new_context(locale="zh-CN", base_url=base_url, **options)
    context.set_default_timeout(ACTION_MS)
    context.set_default_navigation_timeout(NAVIGATION_MS)
    AXE.watch(context)
    return context


@pytest.fixture(autouse=True)
def axe_check() -> Iterator[AxeChecker]:
    """Fails a test whose pages have serious or critical axe-core violations, listing rule, impact, targets and
    address. A test that means to load a faulty page (the checker's own test) takes the findings itself."""
    AXE.take()  # nothing found before this test counts against it
    yield AXE
    AXE.settle()
    found, errors = AXE.take()
    if found or errors:
        pytest.fail(report(found, errors), pytrace=False)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """With AXE_STATS=<file>, each worker appends what its checks cost: the seconds per kind checked, the time
    spent in the checker in all, and the kinds whose every check was cut short (left unchecked)."""
    if (path := os.environ.get("AXE_STATS")) and (AXE.checked or AXE.cut_short):
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
                                  "seconds": round(AXE.seconds, 1), "checked": AXE.checked,
                                  "unchecked": sorted(AXE.cut_short - set(AXE.checked))}, ensure_ascii=False) + "\n")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(seeded: Flask) -> Iterator[str]:
    """The seeded app's own loopback server (tests/conftest.py ``app``): the address it calls itself
    (PUBLIC_BASE_URL: payment return, verification links) is the one the browser uses."""
    yield seeded.config["LIVE_URL"]


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    context = open_context(browser, live_server, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


def _sign_in(page: Any, username: str, password: str = DEMO_PASSWORD, next_path: str = "/") -> None:
    page.goto(f"/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():  # the answer page has loaded
        page.click("button[type=submit]")


@pytest.fixture
def sign_in() -> Any:
    """``sign_in(page, username, password=…, next_path=…)``: through the real login form, as a person would."""
    return _sign_in
