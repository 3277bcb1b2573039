"""Lanes are roles picked by their Chinese names: the designer labels each lane with its role's name, the
lane's role is chosen from a select of role names (no code typed anywhere), and the stored lane name stays
the role code the engine routes tasks by."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from test_process_designer import LANE_HEADER, open_registration_group

LANE_LABEL = "(id) => document.querySelector(`.djs-element[data-element-id='${id}'] .djs-visual text`).textContent"
LANE_NAME = "(id) => window.bdcModeler.get('elementRegistry').get(id).businessObject.name"
HEADER = ".bio-properties-panel-header-label"
LANES = "() => window.bdcModeler.get('elementRegistry').filter(e => e.type === 'bpmn:Lane').map(e => e.id)"


def test_a_lane_shows_and_picks_its_role_by_chinese_name(page: Any, sign_in: Any) -> None:
    sign_in(page, "analyst", next_path="/admin/designer/transfer_resale")
    page.wait_for_selector("body[data-designer-ready=true]")
    assert page.evaluate(LANE_LABEL, "lane_reviewer") == "审核人员"
    assert page.evaluate(LANE_LABEL, "lane_acceptor") == "受理人员"

    point = page.evaluate(LANE_HEADER, "lane_reviewer")
    page.mouse.dblclick(point["x"], point["y"])  # a double click selects; it never opens a text box on the code
    assert page.locator(".djs-direct-editing-parent").is_hidden()
    assert page.evaluate("() => window.bdcModeler.get('selection').get().map(e => e.id)") == ["lane_reviewer"]
    expect(page.locator("#bio-properties-panel-name")).to_have_count(0)  # no free-text name for a lane

    open_registration_group(page)
    select = page.locator("#bio-properties-panel-bdc-lane-role")
    labels = select.locator("option").all_inner_texts()
    assert "审核人员" in labels and "登簿人员" in labels
    assert not any(code in labels for code in ("reviewer", "recorder"))
    assert select.locator("option:checked").inner_text() == "审核人员"
    assert page.locator(HEADER).inner_text() == "审核人员"  # the panel's header too

    select.select_option(label="缮证发证人员")
    page.wait_for_function(f"() => ({LANE_NAME})('lane_reviewer') === 'certifier'")
    assert page.evaluate(LANE_LABEL, "lane_reviewer") == "缮证发证人员"
    page.wait_for_function(f"() => document.querySelector('{HEADER}').textContent === '缮证发证人员'")
    page.screenshot(path="test-artifacts/designer/lane-roles.png")
    xml = page.evaluate("async () => (await window.bdcModeler.saveXML()).xml")
    assert '<bpmn:lane id="lane_reviewer" name="certifier">' in xml


def test_a_lane_named_by_no_known_role_says_so_in_the_select(page: Any, sign_in: Any, page_login: Any) -> None:
    shipped = Path(__file__).resolve().parents[2] / "processes" / "transfer_resale" / "process.bpmn"
    bpmn = shipped.read_text(encoding="utf-8").replace('<bpmn:lane id="lane_reviewer" name="reviewer"',
                                                      '<bpmn:lane id="lane_reviewer" name="Clerk"')
    assert page_login("analyst").post_json("/admin/api/types/transfer_resale/draft", {"xml": bpmn}).status_code == 200
    sign_in(page, "analyst", next_path="/admin/designer/transfer_resale")
    page.wait_for_selector("body[data-designer-ready=true]")
    assert page.evaluate(LANE_LABEL, "lane_reviewer") == "Clerk"
    point = page.evaluate(LANE_HEADER, "lane_reviewer")
    page.mouse.click(point["x"], point["y"])
    open_registration_group(page)
    select = page.locator("#bio-properties-panel-bdc-lane-role")
    assert "未知角色：Clerk" in select.locator("option:checked").inner_text()
    select.select_option(label="审核人员")
    page.wait_for_function(f"() => ({LANE_NAME})('lane_reviewer') === 'reviewer'")
    assert page.evaluate(LANE_LABEL, "lane_reviewer") == "审核人员"


def test_a_new_lane_gets_its_role_from_the_select(page: Any, sign_in: Any) -> None:
    sign_in(page, "analyst", next_path="/admin/designer/transfer_resale")
    page.wait_for_selector("body[data-designer-ready=true]")
    before = set(page.evaluate(LANES))
    point = page.evaluate(LANE_HEADER, "lane_certifier")
    page.mouse.click(point["x"], point["y"])
    page.click(".djs-context-pad .entry[data-action='lane-insert-below']")
    (new_lane,) = set(page.evaluate(LANES)) - before
    assert page.evaluate(LANE_NAME, new_lane) is None
    point = page.evaluate(LANE_HEADER, new_lane)
    page.mouse.click(point["x"], point["y"])
    open_registration_group(page)
    page.locator("#bio-properties-panel-bdc-lane-role").select_option(label="科室负责人")
    page.wait_for_function(f"() => ({LANE_NAME})('{new_lane}') === 'team_leader'")
    assert page.evaluate(LANE_LABEL, new_lane) == "科室负责人"
