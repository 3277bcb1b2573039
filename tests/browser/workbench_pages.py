"""Helpers for the workbench browser tests: clerks signed in each in their own browser context."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from browser_fixtures import open_context
from playwright.sync_api import expect

from app.demo import DEMO_PASSWORD


@pytest.fixture(name="clerk_page")
def clerk_page_fixture(browser: Any, live_server: str) -> Iterator[Any]:
    """``clerk_page(username)``: a fresh browser context signed in as that clerk, on the 待领 tab."""
    contexts = []

    def open_as(username: str) -> Any:
        context = open_context(browser, live_server, viewport={"width": 1400, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto("/login?next=/workbench/?tab=claimable")
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/workbench/"))
        return page

    yield open_as
    for context in contexts:
        context.close()


def claim_and_open(page: Any, business_no: str) -> None:
    row = page.locator("tr.task-row", has_text=business_no)
    row.locator("button.claim").click()
    page.wait_for_url(re.compile(r"/workbench/cases/"))
    assert "已领取" in page.locator(".flash").first.inner_text()
    wait_for_diagram(page)


# The case page's diagram is drawn after the page has loaded (fetch + render), which moves what lies below it:
# a click aimed before it is drawn can land elsewhere (found: the 更正申请信息 summary missed under load).
# Images (signatures, material previews) and web fonts change the layout when they arrive, too: the page is
# settled when all three are in.
DIAGRAM_DRAWN = """() => [...document.querySelectorAll('.bpmn-viewer[data-xml-url]')]
  .every(b => b.classList.contains('bpmn-viewer-ready'))
  && [...document.images].every(i => i.complete) && document.fonts.status === 'loaded'"""


def wait_for_diagram(page: Any) -> None:
    page.wait_for_function(DIAGRAM_DRAWN)


SENT_FIELDS = """() => Object.fromEntries([...new FormData(document.getElementById('decision-form')).entries()]
  .filter(([k]) => k !== 'csrf_token'))"""


FOCUS = """() => { const a = document.activeElement; return a ? `${a.tagName}#${a.id}.${a.className}` : 'none'; }"""


def write_opinion(page: Any, text: str) -> None:
    """Type the opinion as a clerk does (click into the box, type) and wait until the box holds it.

    Seen twice on a loaded machine: the box empty after ``fill`` with no request made in between — the text
    went to whatever had the focus when it was inserted. The second attempt is made only then, and says what
    had the focus, so that a page that steals focus shows up in the log instead of as a flaky test."""
    box = page.locator("#opinion")
    box.click()
    box.fill(text)
    if box.input_value() != text:
        print(f"write_opinion: the box was empty after typing; focus was on {page.evaluate(FOCUS)}")
        box.click()
        box.fill(text)
    expect(box).to_have_value(text)


def submit_decision(page: Any) -> None:
    """Complete the open task; a refusal fails the test with what the page said, not with a timeout."""
    sent = page.evaluate(SENT_FIELDS)  # what the form holds when it is sent: names a lost value if refused
    with page.expect_navigation():
        page.click("#submit-decision")
    if not re.search(r"/workbench/$|/workbench/\?", page.url):
        said = page.locator(".flash, .error-message, .errors, [role=alert]").all_inner_texts()
        raise AssertionError(f"decision refused at {page.url}: {said}; the form held {sent}")
    assert "已办理" in page.locator(".flash").first.inner_text()


def open_details(page: Any, selector: str) -> None:
    """Open a <details> by clicking its summary, as a clerk does, and wait until it is open."""
    details = page.locator(selector)
    details.locator("summary").click()
    expect(details).to_have_attribute("open", "")
