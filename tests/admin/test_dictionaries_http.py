"""Dictionaries on plain HTML forms: create, search, edit and delete with audit; a delete is refused, in
Chinese, naming what still refers to the entry (tenants, the register, child divisions, definitions)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.catalog.dictionaries import seed_dictionaries
from app.security.models import AuditEntry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dictionaries(seeded: Any, db: Any) -> Any:
    with db.unit_of_work() as session:
        added = seed_dictionaries(session, ROOT)
    assert added["divisions"] > 3000 and added["opinion_templates"] >= 5
    with db.unit_of_work() as session:
        assert seed_dictionaries(session, ROOT) == {}  # idempotent
    return db


def test_create_edit_and_delete_an_entry_with_audit(dictionaries: Any, page_login: Any) -> None:
    analyst = page_login("analyst")
    created = analyst.post_form("/admin/dictionaries/uses/new", {"code": "commercial", "name": "商业"})
    assert created.status_code == 302
    assert "商业" in analyst.get("/admin/dictionaries/uses?q=commercial").get_data(as_text=True)

    duplicate = analyst.post_form("/admin/dictionaries/uses/new", {"code": "commercial", "name": "商业"})
    assert duplicate.status_code == 422 and "已存在" in duplicate.get_data(as_text=True)
    bad = analyst.post_form("/admin/dictionaries/divisions/new",
                            {"code": "33A", "name": "", "effective_from": "2026-13-01"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "6 位数字" in html and "名称必填" in html and "YYYY-MM-DD" in html

    assert analyst.post_form("/admin/dictionaries/uses/commercial", {"name": "商业服务"}).status_code == 302
    assert "商业服务" in analyst.get("/admin/dictionaries/uses?q=commercial").get_data(as_text=True)
    deleted = analyst.post_form("/admin/dictionaries/uses/commercial/delete", {})
    assert deleted.status_code == 302
    assert "没有符合条件的条目" in analyst.get("/admin/dictionaries/uses?q=commercial").get_data(as_text=True)
    with dictionaries.unit_of_work() as session:
        actions = session.execute(select(AuditEntry.action).where(AuditEntry.object_id == "commercial")
                                  .order_by(AuditEntry.seq)).scalars()
        assert list(actions) == ["dictionary.create", "dictionary.update", "dictionary.delete"]


@pytest.mark.parametrize(("kind", "code", "expected"), [
    ("divisions", "330106", ["登记机构“西湖区", "不动产单元"]),
    ("divisions", "330100", ["下级区划"]),
    ("right_types", "mortgage", ["登记簿中", "条权利", "抵押权注销"]),
    ("uses", "residential", ["不动产单元", "表单"]),
    ("material_types", "application_form", ["材料清单"]),
])
def test_a_referenced_entry_cannot_be_deleted(dictionaries: Any, page_login: Any, kind: str, code: str,
                                              expected: list[str]) -> None:
    analyst = page_login("analyst")
    resp = analyst.client.post(f"/admin/dictionaries/{kind}/{code}/delete", data={"csrf_token": analyst.csrf},
                               follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "仍被引用，不能删除" in html
    for text in expected:
        assert text in html
    assert f'data-code="{code}"' in html  # still there


def test_clerks_cannot_edit_dictionaries(dictionaries: Any, page_login: Any) -> None:
    assert page_login("xh_acceptor").get("/admin/dictionaries/uses").status_code == 403


def test_an_opinion_template_edited_in_the_dictionary_is_offered_on_the_workbench(
        dictionaries: Any, page_login: Any, client: Any, login: Any, submitted_transfer: dict) -> None:
    from app.demo import DEMO_PASSWORD

    analyst = page_login("analyst")
    bad = analyst.post_form("/admin/dictionaries/opinion_templates/new", {"code": "x1", "name": "坏", "text": "x"})
    assert bad.status_code == 422 and "review_approve_1" in bad.get_data(as_text=True)
    created = analyst.post_form("/admin/dictionaries/opinion_templates/new", {
        "code": "accept_approve_9", "name": "受理·通过（窗口）", "text": "窗口核验原件一致，予以受理。"})
    assert created.status_code == 302
    assert analyst.post_form("/admin/dictionaries/opinion_templates/accept_approve_1/delete", {}).status_code == 302

    task = login("xh_acceptor").get("/api/v1/tasks", query_string={"stage": "受理"}).get_json()["items"][0]
    clerk = client.application.test_client()
    clerk.application.config["WTF_CSRF_ENABLED"] = False
    assert clerk.post("/login", data={"username": "xh_acceptor", "password": DEMO_PASSWORD}).status_code == 302
    assert clerk.post(f"/workbench/tasks/{task['id']}/claim").status_code == 302
    page = clerk.get(f"/workbench/cases/{submitted_transfer['id']}").get_data(as_text=True)
    picker = page.split('id="opinion_template"')[1].split("</select>")[0]
    assert "窗口核验原件一致，予以受理。" in picker
    assert "申请材料齐全，符合法定形式，予以受理。" not in picker  # accept_approve_1, deleted
    assert "经查验，申请人身份与申请材料一致，予以受理。" in picker  # accept_approve_2, shipped
