"""导入其他建模工具的流程图, through the admin pages: upload → mapping form → draft (of an existing or a new
type) that the designer opens; the imported diagram, once published, runs a real case to its end; bad files
and tampered forms get a Chinese 4xx, never a 500."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from lxml import html as lxml_html
from sqlalchemy import select
from support.cases import complete_stage, file_application
from support.forms import transfer_form

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "foreign_bpmn"


def upload(analyst: Any, name: str, data: bytes | None = None, **fields: str) -> Any:
    body = {"file": (io.BytesIO(data if data is not None else (FIXTURES / name).read_bytes()), name),
            "target": "transfer_resale", **fields, "csrf_token": analyst.csrf}
    return analyst.client.post("/admin/import-bpmn", data=body, content_type="multipart/form-data",
                               headers={"Accept": "text/html"})


def form_fields(page: str) -> dict[str, str]:
    """What a browser would submit from the mapping form as shown (selected options, ticked boxes)."""
    form = lxml_html.fromstring(page).get_element_by_id("import-mapping")
    fields: dict[str, str] = {}
    for el in form.iter("input", "select"):
        name = el.get("name")
        if not name or name == "csrf_token":
            continue
        if el.tag == "select":
            options = el.findall("option")
            chosen = [o for o in options if o.get("selected") is not None] or options[:1]
            fields[name] = chosen[0].get("value", chosen[0].text or "") if chosen else ""
        elif el.get("type") == "checkbox":
            if el.get("checked") is not None:
                fields[name] = el.get("value", "on")
        else:
            fields[name] = el.get("value", "")
    return fields


def test_an_analyst_imports_a_collaboration_and_continues_in_the_designer(page_login: Any, db: Any) -> None:
    from app.catalog.models import ProcessDraft

    analyst = page_login("analyst")
    assert "导入其他建模工具的流程图" in analyst.get("/admin/").get_data(as_text=True)
    assert analyst.get("/admin/import-bpmn").status_code == 200
    mapping = upload(analyst, "C.1.0-camunda7.bpmn")
    page = mapping.get_data(as_text=True)
    assert mapping.status_code == 200, page
    for shown in ("缮证发证人员（certifier）", "综合受理窗口", "Camunda Modeler", "改选此泳池", "${!approved}"):
        assert shown in page, shown
    fields = form_fields(page)
    assert fields["lane:Lane_issue"] == "certifier" and fields["task:Task_identity:kind"] == "service"
    fields["task:Task_review:due_days"] = "3"
    done = analyst.post_form("/admin/import-bpmn/map", {**fields, "action": "apply"})
    result = done.get_data(as_text=True)
    assert done.status_code == 200, result
    assert "草稿已通过校验" in result and "已移除其他泳池 1 个" in result
    with db.unit_of_work() as session:
        draft = session.execute(select(ProcessDraft).where(
            ProcessDraft.business_type_code == "transfer_resale")).scalar_one()
        assert '<spiffworkflow:property name="dueDays" value="3"/>' in draft.bpmn_xml
    designer = analyst.get("/admin/designer/transfer_resale").get_data(as_text=True)
    assert "草稿" in designer and "Task_correction" not in designer and "Event_correction_received" in designer


def test_another_pool_can_be_picked(page_login: Any) -> None:
    analyst = page_login("analyst")
    fields = form_fields(upload(analyst, "A.3.0-trisotech.bpmn").get_data(as_text=True))
    assert fields["process"] == "_proc_center"
    repicked = analyst.post_form("/admin/import-bpmn/map", {**fields, "process": "_proc_applicant",
                                                            "action": "repick"})
    page = repicked.get_data(as_text=True)
    assert repicked.status_code == 200 and "网上提交申请" in page and "_t_accept" not in page


def test_an_import_creates_a_new_type_from_a_template(page_login: Any, login: Any, db: Any) -> None:
    from app.catalog.models import BusinessType, ProcessDraft

    analyst = page_login("analyst")
    fields = form_fields(upload(analyst, "C.1.0-camunda7.bpmn").get_data(as_text=True))
    bad = analyst.post_form("/admin/import-bpmn/map", {**fields, "target": "__new__", "new_code": "Bad Code",
                                                       "new_name": "", "template": "transfer_resale"})
    assert bad.status_code == 422 and "业务类型代码应为小写字母开头" in bad.get_data(as_text=True)
    no_template = analyst.post_form("/admin/import-bpmn/map", {**fields, "target": "__new__", "new_code": "gift",
                                                               "new_name": "赠与", "template": "nothing"})
    assert no_template.status_code == 422 and "沿用其办事指南" in no_template.get_data(as_text=True)
    done = analyst.post_form("/admin/import-bpmn/map", {
        **fields, "target": "__new__", "new_code": "gift_transfer", "new_name": "赠与转移登记",
        "template": "transfer_resale"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "草稿已通过校验" in done.get_data(as_text=True)
    with db.unit_of_work() as session:
        assert session.get(BusinessType, "gift_transfer").name == "赠与转移登记"
        draft = session.execute(select(ProcessDraft).where(
            ProcessDraft.business_type_code == "gift_transfer")).scalar_one()
        assert 'id="gift_transfer"' in draft.bpmn_xml
        xml = draft.bpmn_xml
    again = analyst.post_form("/admin/import-bpmn/map", {
        **fields, "target": "__new__", "new_code": "gift_transfer", "new_name": "赠与", "template": "transfer_resale"})
    assert again.status_code == 422 and "已存在" in again.get_data(as_text=True)

    # Not offered to applicants until its own diagram is published: until then its version is the template's route.
    applicant = login("zhangsan")
    assert applicant.get("/api/v1/business-types/gift_transfer").status_code == 404
    assert "gift_transfer" not in {t["code"] for t in applicant.get("/api/v1/business-types").get_json()["items"]}
    listing = analyst.get("/admin/").get_data(as_text=True)
    assert "未上线" in listing and "gift_transfer" in listing
    published = analyst.post_json("/admin/api/types/gift_transfer/publish", {"xml": xml})
    assert published.status_code == 200, published.get_json()
    assert "已上线" in published.get_json()["message"]
    assert applicant.get("/api/v1/business-types/gift_transfer").status_code == 200


def test_a_diagram_that_does_not_fit_the_rest_of_the_type_is_flagged_before_publishing(page_login: Any) -> None:
    analyst = page_login("analyst")
    fields = form_fields(upload(analyst, "A.2.0.bpmn").get_data(as_text=True))
    done = analyst.post_form("/admin/import-bpmn/map", {**fields, "action": "apply"})
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and "草稿尚未通过校验" in page  # saved, but publish would refuse it:
    assert "流程中没有“登簿”阶段的办理任务" in page  # transfer_resale's reports print the 登簿 stage


def test_the_imported_diagram_runs_a_real_case_to_its_end(page_login: Any, login: Any, db: Any) -> None:
    from app.casefile.models import Case
    from app.catalog.models import ProcessDraft

    analyst = page_login("analyst")
    fields = form_fields(upload(analyst, "C.1.0-camunda7.bpmn").get_data(as_text=True))
    applied = analyst.post_form("/admin/import-bpmn/map", {**fields, "action": "apply"})
    assert "草稿已通过校验" in applied.get_data(as_text=True)
    with db.unit_of_work() as session:
        xml = session.execute(select(ProcessDraft.bpmn_xml).where(
            ProcessDraft.business_type_code == "transfer_resale")).scalar_one()
    published = analyst.post_json("/admin/api/types/transfer_resale/publish", {"xml": xml})
    assert published.status_code == 200, published.get_json()
    submitted = file_application(login, "zhangsan", "transfer_resale", transfer_form(), ("lisi",))
    assert submitted.status_code == 200, submitted.get_json()
    business_no = submitted.get_json()["business_no"]
    for stage, who in (("受理", "xh_acceptor"), ("审核", "xh_reviewer"), ("登簿", "xh_recorder"),
                       ("缮证", "xh_certifier"), ("缮证", "xh_certifier")):  # 缮证, then 通知申请人领证
        done = complete_stage(login(who), business_no, stage)
        assert done.status_code == 200, (stage, done.get_json())
    with db.unit_of_work() as session:
        case = session.execute(select(Case).where(Case.business_no == business_no)).scalar_one()
        assert case.status == "completed"


def test_bad_files_are_refused_in_chinese(page_login: Any) -> None:
    analyst = page_login("analyst")
    cases = {"notes.txt": (b"hello", "不是 BPMN 文件"), "x.bpmn": (b"<html/>", "不是 BPMN 2.0 流程图"),
             "y.bpmn": (b"<definitions", "不是合法的 XML"), "z.bpmn": (b"", "文件为空")}
    for name, (data, expected) in cases.items():
        resp = upload(analyst, name, data)
        assert resp.status_code == 422 and expected in resp.get_data(as_text=True), name
    complex_gateway = (FIXTURES / "A.2.0.bpmn").read_bytes().replace(b"exclusiveGateway", b"complexGateway")
    warned = upload(analyst, "complex.bpmn", complex_gateway).get_data(as_text=True)
    assert "不支持的元素：复杂网关 sid-A1B2C3D4-0003（材料齐全？）" in warned  # shown before mapping
    fields = form_fields(warned)
    refused = analyst.post_form("/admin/import-bpmn/map", {**fields, "action": "apply"})
    assert refused.status_code == 422
    assert "不支持的元素：复杂网关 sid-A1B2C3D4-0003（材料齐全？）" in refused.get_data(as_text=True)
    tampered = analyst.post_form("/admin/import-bpmn/map", {**fields, "source": "not base64!"})
    assert tampered.status_code == 422 and "导入内容已损坏" in tampered.get_data(as_text=True)
    missing = analyst.client.post("/admin/import-bpmn", data={"csrf_token": analyst.csrf},
                                  headers={"Accept": "text/html"})
    assert missing.status_code == 422 and "请选择要导入的 .bpmn 文件" in missing.get_data(as_text=True)


def test_only_analysts_who_may_change_definitions_import(page_login: Any) -> None:
    clerk = page_login("xh_reviewer")
    assert clerk.get("/admin/import-bpmn").status_code == 403
    assert upload(clerk, "A.1.0.bpmn").status_code == 403
