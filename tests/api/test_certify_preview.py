"""缮证 shows what the certificate will carry before the certifier confirms (issue 17): besides the register page's
rows, the 附记 lines and the 附图 (the unit's recorded outline, drawn inline), and the whole certificate as a
preview PDF — by the same content and renderer as the issued one, but unnumbered, unsigned, without QR code or
seal, and nothing issued or stored by looking."""
from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from sqlalchemy import func, select
from support.cases import complete_stage
from test_workbench_pages import Page, _open_task

from app.registry.models import Certificate


def _text(pdf: bytes) -> list[str]:
    return [(page.extract_text() or "").replace(" ", "") for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_certifier_sees_the_notes_and_the_plan_before_confirming(login: Any, seeded: Any,
                                                                   submitted_transfer: dict) -> None:
    no, case_id = submitted_transfer["business_no"], submitted_transfer["id"]
    for stage, clerk in (("受理", "xh_acceptor"), ("审核", "xh_reviewer"), ("登簿", "xh_recorder")):
        assert complete_stage(login(clerk), no, stage).status_code == 200
    preview_url = f"/workbench/cases/{case_id}/certificate-preview.pdf"
    recorder = Page(seeded.test_client(), "xh_recorder")
    assert recorder.get(preview_url).status_code == 403  # not his task

    certifier = Page(seeded.test_client(), "xh_certifier")
    task = _open_task(seeded, "缮证")
    assert certifier.post(f"/workbench/tasks/{task.id}/claim").status_code == 302
    html = certifier.get(f"/workbench/cases/{case_id}").get_data(as_text=True)
    card = html.split('id="certificate-preview"', 1)[1]
    notes = re.search(r'id="certificate-notes">(.*?)</ul>', card, re.S)
    assert notes and f"业务号：{no}" in notes[1] and "登簿时间" in notes[1] and "权利人：李四" in notes[1]
    plan = card.split('id="certificate-plan">', 1)[1].split("</div>", 1)[0]
    assert plan.count("<svg") == 2 and 'aria-label="宗地图"' in plan and 'aria-label="房产分户图"' in plan
    assert plan.count("<polygon") >= 2 and "建筑面积" in plan  # the recorded outline and area, not a placeholder
    assert f'href="{preview_url}"' in card

    with seeded.extensions["db"].unit_of_work() as session:
        issued = session.execute(select(func.count()).select_from(Certificate)).scalar_one()
    resp = certifier.get(preview_url)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    register, notes_page, plan_page = _text(resp.data)
    assert "不动产权证书" in register and "李四" in register and "预览件" in register
    assert "（缮证完成后编号）" in register and "扫码核验" not in register  # no QR, no number
    assert "附记" in notes_page and no in notes_page
    assert "附图" in plan_page and "宗地图" in plan_page and "比例尺1:" in plan_page
    with seeded.extensions["db"].unit_of_work() as session:
        assert session.execute(select(func.count()).select_from(Certificate)).scalar_one() == issued  # none made

    done = certifier.post(f"/workbench/tasks/{task.id}/complete", decision="approve", opinion="已核对，缮证")
    assert done.status_code == 302
    assert certifier.get(preview_url).status_code == 403  # the task is done: the issued certificate speaks now
