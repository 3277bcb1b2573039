"""机构监管 on the operator's pages: the institutions with their figures, closing a port needs a reason (the
form says so, nothing changes), a closed port shows with its reason and history, and the bank's next filing is
refused with the message until the port is reopened."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from app.demo import BANK
from app.identity.models import Institution


def test_an_operator_closes_and_reopens_a_port_on_the_page(seeded: Any, db: Any, page_login: Any,
                                                           login: Any) -> None:
    with db.unit_of_work() as session:
        bank_id = session.execute(select(Institution.id).where(Institution.uscc == BANK["id_number"])).scalar_one()
    ops = page_login("ops")
    listing = ops.get("/admin/institutions/supervision").get_data(as_text=True)
    assert BANK["name"] in listing and "申报量" in listing and "平均办理时长" in listing
    assert re.search(rf'data-id="{bank_id}".*?开放', listing, re.S)

    page = f"/admin/institutions/supervision/{bank_id}"
    blank = ops.post_form(f"{page}/port", {"open": "0", "reason": " "})
    assert blank.status_code == 422 and "请填写关闭或恢复端口的原因" in blank.get_data(as_text=True)
    assert ops.post_form(f"{page}/port", {"open": "0", "reason": "登记不规范，限期整改"}).status_code == 302
    shown = ops.get(page).get_data(as_text=True)
    assert "已关闭" in shown and "登记不规范，限期整改" in shown and "ops" in shown

    refused = login("bank").post("/api/v1/applications", json={"business_type": "mortgage_cancel", "form": {}})
    assert refused.status_code == 409 and "登记不规范，限期整改" in refused.get_json()["detail"]
    assert ops.post_form(f"{page}/port", {"open": "1", "reason": "已整改"}).status_code == 302
    history = ops.get(page).get_data(as_text=True)
    assert history.index("已整改") < history.index("登记不规范，限期整改")  # newest first
