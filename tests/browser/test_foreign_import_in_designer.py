"""Every imported fixture (tests/fixtures/foreign_bpmn) opens in the real designer (bpmn-js with our moddle
extension, Chromium) without an import warning, with every kept element drawn, and saves back with the
properties the engine reads."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.catalog import designer
from app.catalog.foreign_bpmn import read_foreign
from app.catalog.foreign_import import convert
from app.catalog.foreign_mapping import decision_choices, propose

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "foreign_bpmn"

IMPORT = """async (xml) => {
  const m = window.bdcModeler;
  const { warnings } = await m.importXML(xml);
  const { xml: saved } = await m.saveXML({ format: true });
  return { warnings: warnings.map(w => w.message), ids: m.get('elementRegistry').getAll().map(e => e.id), saved };
}"""


def test_each_imported_diagram_opens_and_saves_in_the_designer(page: Any, sign_in: Any) -> None:
    sign_in(page, "analyst", next_path="/admin/designer/transfer_resale")
    page.wait_for_function("() => window.bdcModeler && window.bdcModeler.get('elementRegistry').getAll().length > 5")
    palette = designer.palette_vocabulary(ROOT)
    for path in sorted(p for p in FIXTURES.glob("*.bpmn") if not p.name.startswith("B.1.0")):
        diagram = read_foreign(path.read_bytes(), path.name)
        plan = propose(diagram, None, palette, choices=decision_choices(ROOT / "forms"))
        result = convert(diagram, plan.mapping, "transfer_resale", "导入测试")
        opened = page.evaluate(IMPORT, result.xml)
        assert opened["warnings"] == [], (path.name, opened["warnings"])
        drawn = set(opened["ids"])
        for element_id in json.loads(json.dumps(_flow_elements(result.xml))):
            assert element_id in drawn, (path.name, element_id)
        assert opened["saved"].count("spiffworkflow:property") == result.xml.count("spiffworkflow:property")
        assert designer.validate(ROOT, "transfer_resale", opened["saved"]) == [], path.name


def _flow_elements(xml: str) -> list[str]:
    from lxml import etree

    root = etree.fromstring(xml.encode("utf-8"))
    bpmn = "http://www.omg.org/spec/BPMN/20100524/MODEL"
    process = root.find(f"{{{bpmn}}}process")
    return [el.get("id") for el in process if el.get("id") and etree.QName(el).localname not in (
        "laneSet", "dataObject")]


def test_an_analyst_imports_a_camunda_diagram_through_the_pages(page: Any, sign_in: Any) -> None:
    """Upload, pick a lane's role by its Chinese name, import, continue in the designer."""
    sign_in(page, "analyst", next_path="/admin/")
    page.click("text=导入其他建模工具的流程图")
    page.set_input_files("input[name=file]", str(FIXTURES / "C.1.0-camunda7.bpmn"))
    page.select_option("select[name=target]", "transfer_resale")
    page.click("text=读取并生成映射")
    assert page.locator("select[name='lane:Lane_issue']").input_value() == "certifier"  # 发证窗口
    page.select_option("select[name='lane:Lane_record']", label="登簿人员（recorder）")
    page.select_option("select[name='task:Task_notify_result:form']", label="缮证意见（decision_certify）")
    page.click("text=导入并保存为草稿")
    assert "草稿已通过校验" in page.locator("#import-ok").inner_text()
    assert "camunda" in page.locator("#import-notes").inner_text()
    page.click("text=在流程设计器中继续")
    page.wait_for_function("() => window.bdcModeler && window.bdcModeler.get('elementRegistry').get('Task_review')")
    lane_name = page.evaluate("() => window.bdcModeler.get('elementRegistry').get('Lane_record').businessObject.name")
    assert lane_name == "recorder"
