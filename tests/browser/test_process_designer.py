"""Acceptance of the process designer in Chromium: an analyst opens transfer_resale, adds a user task in the
审核 (reviewer) lane with a form, picks the lane's role by its Chinese name, sees a bad gateway condition marked
on its flow, fixes it in the condition builder without typing, dry-runs from the generated form and
publishes; a case created afterwards runs on the new version while a case already running completes on
the old one."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from playwright.sync_api import expect
from support.cases import complete_stage
from support.forms import transfer_form, upload_missing

from app.identifiers import make_unit_code

LANE_HEADER = """(id) => {
  const m = window.bdcModeler, el = m.get('elementRegistry').get(id), vb = m.get('canvas').viewbox();
  const box = document.querySelector('#canvas').getBoundingClientRect();
  return { x: box.left + (el.x + 12 - vb.x) * vb.scale, y: box.top + (el.y + el.height / 2 - vb.y) * vb.scale };
}"""
LANE_NAME_IS = "([id, name]) => window.bdcModeler.get('elementRegistry').get(id).businessObject.name === name"
BUILDER = "[data-group-id='group-bdc-registration'] .bdc-condition-builder"
SCREEN_POINT = """(id) => {
  const m = window.bdcModeler, el = m.get('elementRegistry').get(id), vb = m.get('canvas').viewbox();
  const box = document.querySelector('#canvas').getBoundingClientRect();
  let x, y;
  if (el.waypoints) {
    let best = 0;
    for (let i = 1; i < el.waypoints.length; i++) {
      const a = el.waypoints[i - 1], b = el.waypoints[i], len = Math.hypot(b.x - a.x, b.y - a.y);
      if (len > best) { best = len; x = (a.x + b.x) / 2; y = (a.y + b.y) / 2; }
    }
  } else { x = el.x + el.width / 2; y = el.y + el.height / 2; }
  return { x: box.left + (x - vb.x) * vb.scale, y: box.top + (y - vb.y) * vb.scale };
}"""


# A flow's label edits the same flow in the properties panel, so clicking either selects the flow.
SELECTED = "(id) => window.bdcModeler.get('selection').get().some(e => e.id === id || e.id === id + '_label')"


def click_element(page: Any, element_id: str) -> None:
    """Select by clicking, as a person would; a click on an already selected element deselects it."""
    if page.evaluate(SELECTED, element_id):
        return
    box = page.locator("#canvas").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 10)  # empty space: clear the context pad
    point = page.evaluate(SCREEN_POINT, element_id)
    page.mouse.click(point["x"], point["y"])
    assert page.evaluate(SELECTED, element_id), f"{element_id} not selected by the click"


def open_registration_group(page: Any) -> None:
    header = page.locator("[data-group-id='group-bdc-registration'] .bio-properties-panel-group-header")
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


# The properties panel writes typed text to the model after a short debounce: wait for the model, not the clock.
CONDITION_IS = """([id, text]) => { const e = window.bdcModeler.get('elementRegistry').get(id)
  .businessObject.conditionExpression; return (e ? e.body : '') === text; }"""
PROPERTY_IS = """([id, name, value]) => {
  const bo = window.bdcModeler.get('elementRegistry').get(id).businessObject;
  const props = ((bo.extensionElements && bo.extensionElements.values) || [])
    .find(v => v.$type === 'spiffworkflow:Properties');
  const found = props && (props.properties || []).find(p => p.name === name);
  return (found ? found.value : null) === value; }"""
PARAMETER_IS = """([id, name, value]) => {
  const bo = window.bdcModeler.get('elementRegistry').get(id).businessObject;
  const op = ((bo.extensionElements && bo.extensionElements.values) || [])
    .find(v => v.$type === 'spiffworkflow:ServiceTaskOperator');
  const found = op && op.parameterList && (op.parameterList.parameters || []).find(p => p.id === name);
  return !!found && found.value === value; }"""
TIMER_IS = """([id, text]) => { const d = window.bdcModeler.get('elementRegistry').get(id).businessObject
  .eventDefinitions[0]; const t = d.timeDuration || d.timeDate || d.timeCycle; return !!t && t.body === text; }"""


def add_row(page: Any, scope: str, field: str, value: str | None = None, op: str | None = None) -> None:
    """One row of the condition builder: field — operator — value, picked from its selects."""
    index = page.locator(f"{scope} .bdc-cond-row").count()
    page.click(f"{scope} .bdc-cond-add")
    row = page.locator(f"{scope} .bdc-cond-row[data-row='{index}']")
    row.locator(".bdc-cond-field").select_option(field)
    if op:
        row.locator(".bdc-cond-op").select_option(op)
    if value is not None:
        row.locator("select.bdc-cond-value").select_option(value)


def wait_condition(page: Any, flow_id: str, text: str) -> None:
    page.wait_for_function(CONDITION_IS, arg=[flow_id, text])


def set_condition(page: Any, flow_id: str, text: str) -> None:
    click_element(page, flow_id)
    open_registration_group(page)
    field = page.locator("#bio-properties-panel-bdc-condition")
    field.fill(text)
    wait_condition(page, flow_id, text)


def test_analyst_adds_a_review_step_validates_dry_runs_and_publishes(
        page: Any, sign_in: Any, login: Any, db: Any, submitted_transfer: dict[str, Any]) -> None:
    sign_in(page, "analyst", next_path="/admin/designer/transfer_resale")
    page.wait_for_selector("body[data-designer-ready=true]")
    assert "bpmn.io" in page.locator(".bjs-powered-by").get_attribute("href")  # the licence watermark stays

    # A new task dropped on the flow from 审核 to its gateway lands in the reviewer lane, in the flow.
    page.click(".djs-palette .entry[data-action='create.task']")
    point = page.evaluate(SCREEN_POINT, "flow_review_decide")
    page.mouse.move(point["x"] - 5, point["y"])
    page.mouse.move(point["x"], point["y"])
    page.mouse.click(point["x"], point["y"])
    page.keyboard.type("复核")
    box = page.locator("#canvas").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 10)  # ends label editing
    new_id = page.evaluate("""() => window.bdcModeler.get('elementRegistry')
        .filter(e => e.type === 'bpmn:Task').map(e => e.id)[0]""")
    click_element(page, new_id)
    page.click(".djs-context-pad .entry[data-action='replace']")
    page.click(".djs-popup [data-id='replace-with-user-task']")
    new_id = page.evaluate("""() => window.bdcModeler.get('elementRegistry')
        .filter(e => e.type === 'bpmn:UserTask' && e.businessObject.name === '复核').map(e => e.id)[0]""")
    click_element(page, new_id)
    open_registration_group(page)
    page.select_option("#bio-properties-panel-bdc-formKey", "decision_review")
    page.select_option("#bio-properties-panel-bdc-stage", "审核")
    page.fill("#bio-properties-panel-bdc-dueDays", "2")
    page.wait_for_function(PROPERTY_IS, arg=[new_id, "dueDays", "2"])
    lane = page.evaluate("(id) => window.bdcModeler.get('elementRegistry').get(id).businessObject"
                         ".lanes.map(l => l.id)", new_id)
    assert lane == ["lane_reviewer"]
    # The step's role is its lane's, picked by Chinese name (the lane keeps the code the engine routes by).
    point = page.evaluate(LANE_HEADER, "lane_reviewer")
    page.mouse.click(point["x"], point["y"])
    open_registration_group(page)
    role = page.locator("#bio-properties-panel-bdc-lane-role")
    assert role.locator("option:checked").inner_text() == "审核人员"
    role.select_option(label="缮证发证人员")
    page.wait_for_function(LANE_NAME_IS, arg=["lane_reviewer", "certifier"])
    role.select_option(label="审核人员")
    page.wait_for_function(LANE_NAME_IS, arg=["lane_reviewer", "reviewer"])

    # A condition that is not in the safe language is refused and marked on its flow.
    set_condition(page, "flow_review_reject", '__import__("os")')
    page.click("#btn-validate")
    badge = page.locator(".bdc-error-badge[data-element='flow_review_reject']")
    badge.wait_for()
    assert "校验未通过" in page.locator("#designer-status").inner_text()
    assert "flow_review_reject" in page.locator("#problems").inner_text()
    assert "bdc-error" in page.locator("[data-element-id='flow_review_reject']").first.get_attribute("class")

    # Fixed without typing an expression: clear the text, build 审核结论 等于 不予登记 in the condition builder.
    set_condition(page, "flow_review_reject", "")
    add_row(page, BUILDER, "decision", "reject")
    wait_condition(page, "flow_review_reject", 'decision == "reject"')
    page.click("#btn-validate")
    page.wait_for_function("() => document.querySelector('#designer-status').textContent.includes('校验通过')")
    expect(page.locator(".bdc-error-badge")).to_have_count(0)

    # The dry run starts from the generated application form, with a choice per user task (复核 included).
    assert page.locator("#trial-field-use").input_value() == "住宅"
    expect(page.locator(f"#trial-decision-{new_id}-decision")).to_have_count(1)
    page.click("#btn-dryrun")
    page.wait_for_function("() => document.querySelector('#designer-status').textContent.includes('试运行')")
    assert "end_registered" in page.locator("#designer-status").inner_text()
    assert "bdc-visited" in page.locator(f"[data-element-id='{new_id}']").first.get_attribute("class")
    assert "复核" in page.locator("#trial-result").inner_text()

    page.click("#btn-publish")
    page.wait_for_function("() => document.querySelector('#designer-status').textContent.includes('已发布')")
    assert "新版本 v2" in page.locator("#designer-status").inner_text()
    assert page.locator("#versions tr[data-version='1'] .running").inner_text() == "1"

    # A case created now runs on v2 (two 审核 steps); the one already running finishes on v1.
    seller, buyer = login("zhangsan"), login("lisi")
    form = transfer_form(unit_code=make_unit_code("330106", 1, 1, "GB", 100, 1, 102))
    created = seller.post("/api/v1/applications", json={"business_type": "transfer_resale", "form": form})
    case_id = created.get_json()["id"]
    upload_missing(seller, case_id)
    for party in (seller, buyer):
        assert party.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    new_no = seller.post(f"/api/v1/applications/{case_id}/submit").get_json()["business_no"]
    reviewer = login("xh_reviewer")
    assert complete_stage(login("xh_acceptor"), new_no, "受理").status_code == 200
    assert complete_stage(reviewer, new_no, "审核").status_code == 200
    tasks = reviewer.get("/api/v1/tasks", query_string={"business_no": new_no}).get_json()["items"]
    assert [t["title"] for t in tasks] == ["复核"]

    old_no = submitted_transfer["business_no"]
    for stage, who in (("受理", "xh_acceptor"), ("审核", "xh_reviewer"), ("登簿", "xh_recorder"),
                       ("缮证", "xh_certifier")):
        # Off the test thread: certificate signing runs asyncio, and Playwright's sync API holds this
        # thread's event loop.
        with ThreadPoolExecutor(1) as worker:
            done = worker.submit(complete_stage, login(who), old_no, stage).result()
        assert done.status_code == 200, done.get_json()
    old = login("zhangsan").get(f"/api/v1/applications/{submitted_transfer['id']}").get_json()
    assert old["status"] == "completed"


def test_service_task_connector_parameters_and_timer_are_edited_in_the_panel(page: Any, sign_in: Any) -> None:
    sign_in(page, "analyst", next_path="/admin/designer/transfer_resale")
    page.wait_for_selector("body[data-designer-ready=true]")
    click_element(page, "service_record")
    open_registration_group(page)
    assert page.locator("#bio-properties-panel-bdc-connector").input_value() == "registry.record"
    assert page.locator("#bio-properties-panel-bdc-result").input_value() == "record_result"
    page.fill("#bio-properties-panel-bdc-params", 'note = "自动登簿"')
    page.wait_for_function(PARAMETER_IS, arg=["service_record", "note", '"自动登簿"'])
    xml = page.evaluate("async () => (await window.bdcModeler.saveXML()).xml")
    assert '<spiffworkflow:parameter id="note" type="any" value="&#34;自动登簿&#34;" />' in xml
    assert "<spiffworkflow:parameters>" in xml

    # A timer on the 登簿 task: the panel offers its kind and expression; a bare P3D is refused on the event.
    page.evaluate("""() => {
      const m = window.bdcModeler, task = m.get('elementRegistry').get('task_record');
      const def = m.get('moddle').create('bpmn:TimerEventDefinition');
      m.get('modeling').createShape({ type: 'bpmn:BoundaryEvent', eventDefinitionType: 'bpmn:TimerEventDefinition',
        businessObject: m.get('bpmnFactory').create('bpmn:BoundaryEvent', { id: 'timer_record', eventDefinitions: [def],
          cancelActivity: false }) }, { x: task.x + task.width, y: task.y + task.height }, task, { attach: true });
    }""")
    click_element(page, "timer_record")
    open_registration_group(page)
    page.select_option("#bio-properties-panel-bdc-timer-kind", "timeDuration")
    page.wait_for_function(TIMER_IS, arg=["timer_record", '"P1D"'])  # the kind's default is written first …
    page.fill("#bio-properties-panel-bdc-timer", "P3D")  # … so typing after it is never overwritten
    page.wait_for_function(TIMER_IS, arg=["timer_record", "P3D"])
    page.click("#btn-validate")
    page.locator(".bdc-error-badge[data-element='timer_record']").first.wait_for()  # with its dead end, listed too
    assert "加引号" in page.locator("#problems").inner_text()


def test_dry_run_with_a_simulated_timeout_and_draft_compare_on_the_canvas(page: Any, sign_in: Any) -> None:
    sign_in(page, "analyst", next_path="/admin/designer/transfer_resale")
    page.wait_for_function("() => window.bdcModeler && document.querySelector('#canvas .djs-element')")
    page.fill("#trial-timeouts", "timer_tax_overdue")
    page.click("#btn-dryrun")
    page.wait_for_selector("#trial-result li")
    assert "模拟超时" in page.locator("#trial-result li[data-element=timer_tax_overdue]").inner_text()
    assert "bdc-timeout" in page.locator(".djs-element[data-element-id=timer_tax_overdue]").get_attribute("class")
    assert "bdc-visited" in page.locator(".djs-element[data-element-id=task_tax_overdue]").get_attribute("class")

    page.evaluate("""() => { const m = window.bdcModeler, el = m.get('elementRegistry').get('task_review');
                             m.get('modeling').updateLabel(el, '审核（草稿）'); }""")
    page.select_option("#cmp-b", "draft")
    page.click("#btn-compare")
    page.wait_for_selector("#compare-result ul.changed li")
    assert "当前编辑内容" in page.locator("#compare-result p").inner_text()
    assert "task_review" in page.locator("#compare-result ul.changed").inner_text()
    assert "bdc-changed" in page.locator(".djs-element[data-element-id=task_review]").get_attribute("class")
    page.screenshot(path="test-artifacts/designer/draft-compare.png")
