"""受理通知书, 不予受理告知书 (with the reasons) and 补正材料通知书: announced on the timeline when the acceptance
decision is taken, downloadable as PDFs by the applicants and the office, by nobody else."""
from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader
from support.cases import complete_stage


def _text(resp: Any) -> str:
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    return "".join(PdfReader(io.BytesIO(resp.data)).pages[0].extract_text().split())


def test_acceptance_notice_is_announced_and_downloadable(login: Any, submitted_transfer: dict) -> None:
    case_id, business_no = submitted_transfer["id"], submitted_transfer["business_no"]
    seller = login("zhangsan")
    assert seller.get(f"/api/v1/applications/{case_id}/notices").get_json()["items"] == []
    assert complete_stage(login("xh_acceptor"), business_no, "受理").status_code == 200
    items = seller.get(f"/api/v1/applications/{case_id}/notices").get_json()["items"]
    assert [(n["kind"], n["title"]) for n in items] == [("acceptance", "受理通知书")]
    text = _text(seller.get(items[0]["pdf"]))
    assert "受理通知书" in text and business_no in text and "予以受理" in text
    events = seller.get(f"/api/v1/applications/{case_id}/progress").get_json()["events"]
    assert any(e["kind"] == "notice" and "受理通知书" in e["message"] for e in events)
    assert login("lisi").get(items[0]["pdf"]).status_code == 200  # the other applicant
    assert login("yh_acceptor").get(items[0]["pdf"]).status_code == 404  # another office
    assert seller.get(f"/api/v1/applications/{case_id}/notices/rejection.pdf").status_code == 404


def test_rejection_notice_states_the_reasons(login: Any, submitted_transfer: dict) -> None:
    resp = complete_stage(login("xh_acceptor"), submitted_transfer["business_no"], "受理", decision="reject",
                          reject_reasons=["申请登记的不动产不属于本机构登记范围"])
    assert resp.status_code == 200, resp.get_json()
    text = _text(login("zhangsan").get(f"/api/v1/applications/{submitted_transfer['id']}/notices/rejection.pdf"))
    assert "不予受理告知书" in text and "不属于本机构登记范围" in text and "行政复议" in text


def test_correction_notice_lists_every_item_once(login: Any, submitted_transfer: dict) -> None:
    resp = complete_stage(login("xh_acceptor"), submitted_transfer["business_no"], "受理", decision="correct",
                          correction_items=["补充提交网签备案合同原件扫描件", "补充提交受让方婚姻状况证明"])
    assert resp.status_code == 200, resp.get_json()
    text = _text(login("lisi").get(f"/api/v1/applications/{submitted_transfer['id']}/notices/correction.pdf"))
    assert "补正材料通知书" in text and "网签备案合同" in text and "婚姻状况证明" in text
