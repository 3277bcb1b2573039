"""Report templates (business.yaml ``reports``): 审批表 / 审核意见表 printed as PDF from the case data,
edited by the analyst on the type page (a new version; bad sources refused), for clerks only, audited."""
from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select
from support.cases import take_through
from test_workbench_pages import Page

from app.security.models import AuditEntry

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "admin"))
from test_type_config_http import form_values  # noqa: E402


def _text(pdf: bytes) -> str:
    return "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def test_the_approval_form_is_printed_from_the_case(seeded: Any, login: Any, submitted_transfer: dict) -> None:
    no, case_id = submitted_transfer["business_no"], submitted_transfer["id"]
    take_through(login, no, ("受理", "审核"))
    clerk = Page(seeded.test_client(), "xh_acceptor")
    page = clerk.get(f"/workbench/cases/{case_id}").get_data(as_text=True)
    assert 'data-report="approval_form"' in page and "不动产登记审核意见表" in page
    resp = clerk.get(f"/workbench/cases/{case_id}/reports/approval_form.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = _text(resp.data)
    assert "不动产登记审批表" in text and no in text and "2350000" in text
    assert "审核意见：符合规定" in text and "xh_reviewer" in text and "通过" in text
    assert "张*" in text and "张三" not in text  # masked: the acceptor may not unmask
    assert "随申请材料一并归入不动产登记档案" in text
    leader = Page(seeded.test_client(), "xh_leader")
    assert "张三" in _text(leader.get(f"/workbench/cases/{case_id}/reports/approval_form.pdf").data)
    with seeded.extensions["db"].unit_of_work() as session:
        entries = session.execute(select(AuditEntry).where(AuditEntry.object_id == case_id)).scalars()
        assert sorted(e.action for e in entries if "report" in (e.after or {})) == ["pii.unmask", "report.print"]
    assert clerk.get(f"/workbench/cases/{case_id}/reports/nope.pdf").status_code == 404
    applicant = login("zhangsan")
    assert applicant.get(f"/workbench/cases/{case_id}/reports/approval_form.pdf").status_code == 302


def test_the_analyst_edits_a_report_template_and_bad_sources_are_refused(seeded: Any, page_login: Any,
                                                                        login: Any, submitted_transfer: dict) -> None:
    analyst = page_login("analyst")
    action = "/admin/types/transfer_resale/reports"
    data = form_values(analyst.get("/admin/types/transfer_resale").get_data(as_text=True), action)
    assert data["report-1-code"] == "review_opinion" and "审核意见 = stage.审核.opinion" in data["report-1-rows"]
    data["report-1-title"] = "审核意见表（修订）"
    data["report-1-rows"] += "\n备注 = form.no_such_field\n没有等号"
    refused = analyst.post_form(action, data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "应写作“标签 = 来源”" in html
    data["report-1-rows"] = data["report-1-rows"].replace("\n没有等号", "")
    refused = analyst.post_form(action, data)
    assert refused.status_code == 422 and "申请表单中没有字段 no_such_field" in refused.get_data(as_text=True)
    data["report-1-rows"] = data["report-1-rows"].replace("form.no_such_field", "form.remarks")
    data["report-1-text"] = "经办人签字：________"
    assert analyst.post_form(action, data).status_code == 302

    from app.catalog.service import current_version

    with seeded.extensions["db"].unit_of_work() as session:
        report = current_version(session, "transfer_resale").definition["reports"][1]
    assert report["title"] == "审核意见表（修订）" and report["text"] == "经办人签字：________\n"
    assert {"label": "备注", "value": "form.remarks"} in report["rows"]
    case_id = submitted_transfer["id"]  # runs on the version it started with: the old template
    old = Page(seeded.test_client(), "xh_acceptor").get(f"/workbench/cases/{case_id}/reports/review_opinion.pdf")
    assert "不动产登记审核意见表" in _text(old.data) and "修订" not in _text(old.data)
