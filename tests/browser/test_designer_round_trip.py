"""The designer keeps everything it does not edit: a diagram opened in the real designer in Chromium and saved
with no edit says exactly what it said before (tests/bpmn_semantics.py), for a diagram carrying every
SpiffWorkflow extension the engine reads and for every shipped diagram; and what bpmn-js cannot read is
shown to the analyst when the diagram opens."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bpmn_semantics import differences
from lxml import etree
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SPIFF_XSD, SpiffBpmnParser
from SpiffWorkflow.spiff.parser.process import VALIDATOR as SPIFF_VALIDATOR
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from sqlalchemy import select

from app.catalog.models import BusinessType, ProcessDraft, ProcessVersion

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "bpmn"
EVERY_EXTENSION = (FIXTURES / "every_spiff_extension.bpmn").read_text(encoding="utf-8")
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
SHIPPED = sorted(p.name for p in (ROOT / "processes").iterdir() if (p / "process.bpmn").is_file())
# Names the installed SpiffWorkflow's spiff parser looks up in its own code (not only in its XSD).
PARSER_SOURCES = [Path(SPIFF_XSD).parents[1] / name for name in ("task_spec.py", "event_parsers.py")]


def engine_view(xml: str, process_id: str) -> dict[str, Any]:
    """The spec SpiffWorkflow builds from the diagram, as its serializer writes it: what the engine runs."""
    parser = SpiffBpmnParser(validator=SPIFF_VALIDATOR)
    parser.add_bpmn_str(xml.encode("utf-8"))
    parser.add_dmn_file(str(FIXTURES / "fee_decision.dmn"))
    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    return registry.convert(parser.get_spec(process_id))


def open_and_save(page: Any, db: Any, code: str) -> str:
    """Open the type in the designer, press 保存草稿 without touching anything, return the saved draft."""
    page.goto(f"/admin/designer/{code}")
    page.wait_for_selector("body[data-designer-ready=true]")
    page.click("#btn-save")
    page.wait_for_function("() => document.querySelector('#designer-status').textContent.includes('草稿已保存')")
    with db.unit_of_work() as session:
        return session.execute(select(ProcessDraft.bpmn_xml)
                               .where(ProcessDraft.business_type_code == code)).scalar_one()


def current_xml(db: Any, code: str) -> str:
    with db.unit_of_work() as session:
        return session.execute(select(ProcessVersion.bpmn_xml).join(
            BusinessType, BusinessType.current_version_id == ProcessVersion.id)
            .where(BusinessType.code == code)).scalar_one()


def spiff_names_in(root: etree._Element) -> set[str]:
    """Local names of the ``spiffworkflow:`` elements and attributes of a diagram."""
    elements = [n for n in root.iter() if isinstance(n.tag, str)]
    return ({etree.QName(n).localname for n in elements if etree.QName(n).namespace == SPIFF_NS}
            | {etree.QName(a).localname for n in elements for a in n.attrib if etree.QName(a).namespace == SPIFF_NS})


def test_the_fixture_carries_every_extension_the_engine_reads() -> None:
    """Guards the fixture against a SpiffWorkflow upgrade: each element of the engine's XSD and each
    ``spiffworkflow`` name its parser code looks for appears in the fixture."""
    xsd = etree.parse(SPIFF_XSD).getroot()
    wanted = {e.get("name") for e in xsd.iter("{http://www.w3.org/2001/XMLSchema}element")}
    for source in PARSER_SOURCES:
        code = source.read_text(encoding="utf-8")
        wanted |= set(re.findall(r"spiffworkflow:([A-Za-z]+)", code))
        wanted |= {name for pair in re.findall(r"name == '([A-Za-z]+)'|_by_tag_name\(\w+, '([A-Za-z]+)'\)", code)
                   for name in pair if name}
    assert {"preScript", "postScript", "taskMetadataValue", "retry", "processVariableCorrelation"} <= wanted
    assert wanted - spiff_names_in(etree.fromstring(EVERY_EXTENSION.encode("utf-8"))) == set()
    extensions = engine_view(EVERY_EXTENSION, "every_extension")["task_specs"]["task_accept"]["extensions"]
    assert extensions["postScript"].startswith('if decision == "reject"')


def test_a_diagram_with_every_spiffworkflow_extension_survives_open_and_save(
        page: Any, sign_in: Any, db: Any, page_login: Any) -> None:
    saved = page_login("analyst").post_json("/admin/api/types/transfer_resale/draft", {"xml": EVERY_EXTENSION})
    assert saved.status_code == 200, saved.get_json()
    sign_in(page, "analyst", next_path="/admin/designer/transfer_resale")
    after = open_and_save(page, db, "transfer_resale")
    assert page.is_hidden("#import-warnings")
    assert differences(EVERY_EXTENSION, after) == {"lost": [], "added": []}
    assert engine_view(after, "every_extension") == engine_view(EVERY_EXTENSION, "every_extension")


def test_every_shipped_diagram_survives_open_and_save_without_import_warnings(
        page: Any, sign_in: Any, db: Any) -> None:
    sign_in(page, "analyst", next_path="/admin/")
    for code in SHIPPED:
        before = current_xml(db, code)
        after = open_and_save(page, db, code)
        assert page.is_hidden("#import-warnings"), (code, page.locator("#import-warnings").inner_text())
        assert differences(before, after) == {"lost": [], "added": []}, code


def test_what_bpmn_js_cannot_read_is_shown_to_the_analyst(page: Any, sign_in: Any, page_login: Any) -> None:
    unknown = "<spiffworkflow:somethingNew>x = 1</spiffworkflow:somethingNew>"
    xml = (ROOT / "processes" / "transfer_resale" / "process.bpmn").read_text(encoding="utf-8").replace(
        "<spiffworkflow:properties>", unknown + "<spiffworkflow:properties>", 1).replace(
        '<bpmn:userTask id="task_review"', '<bpmn:userTask spiffworkflow:somethingElse="1" id="task_review"', 1)
    assert page_login("analyst").post_json("/admin/api/types/transfer_resale/draft", {"xml": xml}).status_code == 200
    sign_in(page, "analyst", next_path="/admin/designer/transfer_resale")
    page.wait_for_selector("body[data-designer-ready=true]")
    warning = page.locator("#import-warnings")
    assert warning.is_visible()
    items = warning.locator("li").all_inner_texts()
    assert len(items) == 2, items
    element = next(i for i in items if "spiffworkflow:somethingNew" in i)
    attribute = next(i for i in items if "spiffworkflow:somethingElse" in i)
    assert element.startswith("无法识别的元素（保存后将丢失）")
    assert attribute.startswith("无法识别的属性（保存时原样保留）") and "task_review" in attribute
    assert "设计器无法识别" in warning.inner_text()

