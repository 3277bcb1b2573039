"""The form editor: a field table over a JSON-Schema form, previewed with the shared renderer, saved as a new
version of every type that uses the form; mistakes come back next to the row, nothing is published."""
from __future__ import annotations

import re
from typing import Any

FORM = "/admin/forms/transfer_resale_application"


def table_of(html: str) -> dict[str, str]:
    """The editor's form fields exactly as the page renders them (what a browser would submit)."""
    data: dict[str, str] = {}
    for m in re.finditer(r'<input type="(hidden|text|number)" name="(rows-[^"]+|row_count)" value="([^"]*)"', html):
        data[m.group(2)] = m.group(3)
    for m in re.finditer(r'<input type="checkbox" name="(rows-[^"]+)" value="1" checked', html):
        data[m.group(1)] = "1"
    for m in re.finditer(r'<select name="(rows-[^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', m.group(2))
        data[m.group(1)] = chosen.group(1) if chosen else ""
    for m in re.finditer(r'<textarea name="(rows-[^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[m.group(1)] = m.group(2).replace("&#34;", '"')
    return data


def row_index(data: dict[str, str], field: str) -> str:
    return next(k.split("-")[1] for k, v in data.items() if k.endswith("-name") and v == field)


def test_the_editor_previews_and_saves_a_new_version(page_login: Any) -> None:
    analyst = page_login("analyst")
    page = analyst.get(FORM).get_data(as_text=True)
    assert "使用该表单的业务类型：transfer_resale" in page
    assert 'name="preview-unit_code"' in page and "不动产信息" in page  # groups from x-ui

    data = table_of(page)
    data[f"rows-{row_index(data, 'remarks')}-title"] = "备注说明"
    data.update({"rows-new-name": "elevator", "rows-new-title": "是否有电梯", "rows-new-type": "string",
                 "rows-new-widget": "radio", "rows-new-choices": "yes=有\nno=无"})
    preview = analyst.post_form(f"{FORM}/preview", data).get_data(as_text=True)
    assert "备注说明" in preview and "是否有电梯" in preview and 'value="yes"' in preview

    saved = analyst.post_form(FORM, {**data, "action": "save"})
    assert saved.status_code == 302
    assert "新版本 v2" in analyst.get(FORM).get_data(as_text=True)
    page = analyst.get(FORM).get_data(as_text=True)
    assert "备注说明" in page and 'name="preview-elevator"' in page


def test_bad_rows_are_refused_next_to_the_row(page_login: Any) -> None:
    analyst = page_login("analyst")
    data = table_of(analyst.get(FORM).get_data(as_text=True))
    data[f"rows-{row_index(data, 'price')}-title"] = ""
    data.update({"rows-new-name": "Bad Name", "rows-new-title": "x"})
    resp = analyst.post_form(FORM, {**data, "action": "save"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "标题必填" in html and "字段名只能包含小写字母" in html
    assert "表单已保存" not in html
    versions = analyst.get("/admin/api/types/transfer_resale/versions", accept="application/json").get_json()
    assert [v["version_no"] for v in versions["items"]] == [1]


def test_deleting_a_field_a_party_needs_is_refused(page_login: Any) -> None:
    analyst = page_login("analyst")
    data = table_of(analyst.get(FORM).get_data(as_text=True))
    data[f"rows-{row_index(data, 'buyer_name')}-delete"] = "1"
    resp = analyst.post_form(FORM, {**data, "action": "save"})
    assert resp.status_code == 422
    assert "buyer_name" in resp.get_data(as_text=True)
