"""The bpmn-js viewer (the small viewer bundle) renders the process on the workbench case page with the
current step highlighted and completed steps marked, and on the portal's guide when the reader asks for it;
without JavaScript the server-rendered SVG is what the page shows."""
from __future__ import annotations

from typing import Any

from browser_fixtures import open_context
from playwright.sync_api import expect
from support.cases import take_through
from workbench_pages import clerk_page_fixture  # noqa: F401  (fixture)


def lane_label(viewer: Any, lane_id: str) -> str:
    return viewer.locator(f".djs-element[data-element-id={lane_id}] .djs-visual text").text_content()


def test_case_page_viewer_marks_the_current_and_the_completed_steps(clerk_page: Any, login: Any,
                                                                     submitted_transfer: dict) -> None:
    take_through(login, submitted_transfer["business_no"], ("受理",))
    reviewer = clerk_page("xh_reviewer")
    reviewer.goto(f"/workbench/cases/{submitted_transfer['id']}")
    viewer = reviewer.locator("#process .bpmn-viewer.bpmn-viewer-ready")
    viewer.wait_for()
    assert viewer.locator(".bpmn-canvas svg .djs-element").count() > 10  # drawn by bpmn-js, not the fallback
    assert reviewer.is_hidden("#process .bpmn-fallback")
    current = viewer.locator(".djs-element.bdc-current")
    expect(current).to_have_count(1)
    assert current.get_attribute("data-element-id") == "task_review"
    expect(viewer.locator('.djs-element.bdc-done[data-element-id="task_accept"]')).to_have_count(1)
    assert lane_label(viewer, "lane_reviewer") == "审核人员"
    assert lane_label(viewer, "lane_certifier") == "缮证发证人员"
    stroke = current.locator(".djs-visual > :first-child").evaluate("e => getComputedStyle(e).stroke")
    assert stroke == "rgb(185, 28, 28)"
    viewer.screenshot(path="test-artifacts/workbench/process-viewer.png")


def test_guide_page_shows_the_process_with_the_viewer_and_without_javascript(browser: Any,
                                                                             live_server: str) -> None:
    for javascript in (True, False):
        context = open_context(browser, live_server, java_script_enabled=javascript)
        page = context.new_page()
        page.goto("/guide/transfer_resale")
        if javascript:  # public page: the bundle is fetched only on request (the page's weight budget)
            expect(page.locator("script[src*='viewer/build']")).to_have_count(0)
            page.click("text=可缩放查看流程图")
            page.locator(".process .bpmn-viewer-ready .djs-element[data-element-id=task_review]").wait_for()
            assert page.is_hidden(".process .bpmn-fallback")
            assert lane_label(page.locator(".process .bpmn-viewer-ready"), "lane_acceptor") == "受理人员"
        else:
            assert page.is_visible(".process .bpmn-fallback svg")
            expect(page.locator('.bpmn-fallback [data-element-id="task_review"]')).to_have_count(1)
            assert page.is_hidden("text=可缩放查看流程图")
            assert "受理人员" in page.locator(".bpmn-fallback .bpmn-lane").all_text_contents()
        context.close()
