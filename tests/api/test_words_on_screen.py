"""No code or English word reaches a user: the case page, the logs and the trace of a full demo transfer show
actions, object types, details, register entries and materials by their Chinese names; a material waived by
shared data says 免提交（已由公安共享核验）, not 必交 · 缺 (found: ``definition.publish``, ``seller_identity``
and ``initial_ownership`` on screen; waived items in red)."""
from __future__ import annotations

import re
from typing import Any

from support.cases import complete_stage, take_through
from support.personas import STAFF

from app.supervision.log_labels import ACTIONS

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")
USERNAME = re.compile(r"\b[xy]h_(acceptor|reviewer|recorder|certifier|leader|archivist)\b")  # sign-in names are names


def visible(html: str) -> str:
    """The text a reader sees: no scripts, styles or tags (attributes and URLs may keep codes)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return USERNAME.sub(" ", re.sub(r"<[^>]+>", " ", html))


def _no_codes(html: str) -> None:
    text = visible(html)
    assert CODE.findall(text) == []
    assert [a for a in ACTIONS if a in text] == []


def test_a_full_transfer_is_told_in_words(submitted_transfer: dict[str, Any], login: Any, page_login: Any) -> None:
    take_through(login, submitted_transfer["business_no"])
    case_page = page_login(STAFF["审核"]).get(f"/workbench/cases/{submitted_transfer['id']}").get_data(as_text=True)
    _no_codes(case_page)
    ops = page_login("ops")
    for path in ("/admin/logs?kind=audit", "/admin/logs?kind=access", "/admin/logs?kind=calls",
                 f"/admin/logs/trace?business_no={submitted_transfer['business_no']}"):
        _no_codes(ops.get(path).get_data(as_text=True))


def test_a_waived_material_says_so_with_the_department(submitted_transfer: dict[str, Any], page_login: Any) -> None:
    page = page_login(STAFF["受理"]).get(f"/workbench/cases/{submitted_transfer['id']}").get_data(as_text=True)
    row = page.split('id="material-seller_identity"')[1].split("</tr>")[0]
    assert "免提交（已由公安共享核验）" in row and "缺" not in row and "必交" not in row
    contract = page.split('id="material-sale_contract"')[1].split("</tr>")[0]
    assert "免提交（已由住建共享核验）" in contract
    waived = page.split('id="waived-materials"')[1].split("</p>")[0]
    assert "seller_identity" not in visible(waived) and "（公安）" in waived



def test_the_applicant_sees_the_waiver_when_the_case_comes_back(submitted_transfer: dict[str, Any], login: Any,
                                                                  page_login: Any) -> None:
    """Back for 补正, the material list says which items shared data stood in for, not 必交."""
    business_no = submitted_transfer["business_no"]
    assert complete_stage(login(STAFF["受理"]), business_no, "受理").status_code == 200
    resp = complete_stage(login(STAFF["审核"]), business_no, "审核", "correct", correction_items=["请补充说明"])
    assert resp.get_json()["case_status"] == "correcting"
    page = page_login("zhangsan").get(f"/my/applications/{submitted_transfer['id']}/edit").get_data(as_text=True)
    row = page.split('id="material-seller_identity"')[1].split("</tr>")[0]
    assert "免提交（已由公安共享核验）" in row and "必交" not in row and "seller_identity" not in visible(row)


def test_every_recorded_action_has_a_chinese_label() -> None:
    """A new ``audit.record(action=…)`` without a word in app/supervision/log_labels.py fails here."""
    from pathlib import Path

    import app as package

    pattern = re.compile(r"""action=["']([a-z_]+\.[a-z_.]+)["']|_audit\(session, user, ["']([a-z_]+\.[a-z_.]+)["']""")
    recorded = {a or b for path in Path(package.__file__).parent.rglob("*.py")
                for a, b in pattern.findall(path.read_text(encoding="utf-8"))}
    assert len(recorded) > 80 and sorted(recorded - set(ACTIONS)) == []
