"""Business-type configuration on plain HTML forms: metadata, fees and the material checklist are saved as
new versions, refused with the loader's own messages next to the field, and exported to / imported from the
definition files (git stays the source of truth)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from app.catalog.definitions import check_definitions

ROOT = Path(__file__).resolve().parents[2]
PAGE = "/admin/types/transfer_resale"


def form_values(html: str, action: str) -> dict[str, Any]:
    """What the browser would submit from the form posting to ``action`` (inputs, selects, textareas)."""
    form = html.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    data: dict[str, Any] = {}
    for m in re.finditer(r'<input type="(?:text|number|hidden)" (?:id="[^"]*" )?name="([^"]+)" value="([^"]*)"', form):
        data[m.group(1)] = m.group(2).replace("&#34;", '"').replace("&amp;", "&")
    for m in re.finditer(r'<input type="checkbox" name="([^"]+)" value="([^"]+)" checked', form):
        data.setdefault(m.group(1), []).append(m.group(2))
    for m in re.finditer(r'<textarea (?:id="[^"]*" )?name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[m.group(1)] = m.group(2).replace("&#34;", '"').replace("&amp;", "&")
    for m in re.finditer(r'<select (?:id="[^"]*" )?name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option(?: value="([^"]*)")? selected>([^<]*)', m.group(2))
        data[m.group(1)] = (chosen.group(1) or chosen.group(2)) if chosen else ""
    data.pop("csrf_token", None)
    return data


def test_metadata_and_fees_are_saved_as_a_new_version(page_login: Any, client: Any) -> None:
    analyst = page_login("analyst")
    data = form_values(analyst.get(PAGE).get_data(as_text=True), f"{PAGE}/business")
    assert data["time_limit_days"].isdigit()
    data["time_limit_days"] = "3"
    data["fees-0-amount_yuan"] = "90"
    resp = analyst.post_form(f"{PAGE}/business", data)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    page = analyst.get(PAGE).get_data(as_text=True)
    assert "新版本 v2" in page and 'value="90"' in page
    assert "受理后 3 个工作日" in client.get("/guide/transfer_resale").get_data(as_text=True)  # the portal guide


def test_bad_values_are_refused_next_to_their_fields(page_login: Any) -> None:
    analyst = page_login("analyst")
    data = form_values(analyst.get(PAGE).get_data(as_text=True), f"{PAGE}/business")
    too_long = analyst.post_form(f"{PAGE}/business", {**data, "time_limit_days": "45"})
    assert too_long.status_code == 422 and "30" in too_long.get_data(as_text=True)
    data["fees-0-when"] = 'usage == "住宅"'
    data["fees-1-payer_role"] = "neighbour"
    resp = analyst.post_form(f"{PAGE}/business", data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "有 2 处需要修改" in html and "usage" in html and "neighbour" in html
    assert "当前版本 v1" in analyst.get(PAGE).get_data(as_text=True)


def test_the_checklist_takes_a_conditional_material(page_login: Any) -> None:
    analyst = page_login("analyst")
    data = form_values(analyst.get(PAGE).get_data(as_text=True), f"{PAGE}/materials")
    new = max(int(k.split("-")[1]) for k in data if k.endswith("-code"))
    data.update({f"materials-{new}-code": "elevator_proof", f"materials-{new}-name": "电梯使用证明",
                 f"materials-{new}-condition": "has_elevator == True", f"materials-{new}-max_size_mb": "5",
                 f"materials-{new}-description": "有电梯的提交", f"materials-{new}-accepted_types": ["pdf"]})
    refused = analyst.post_form(f"{PAGE}/materials", data)
    assert refused.status_code == 422 and "has_elevator" in refused.get_data(as_text=True)
    data[f"materials-{new}-condition"] = "has_agent == True"
    assert analyst.post_form(f"{PAGE}/materials", data).status_code == 302
    assert 'value="elevator_proof"' in analyst.get(PAGE).get_data(as_text=True)


def test_export_writes_files_that_load_as_the_same_version(page_login: Any, seeded: Any, tmp_path: Path) -> None:
    root = tmp_path / "defs"
    for part in ("processes", "forms", "dictionaries"):
        shutil.copytree(ROOT / part, root / part)
    seeded.config["SETTINGS"].definitions_root = root
    analyst = page_login("analyst")
    data = form_values(analyst.get(PAGE).get_data(as_text=True), f"{PAGE}/business")
    data["time_limit_days"] = "4"
    assert analyst.post_form(f"{PAGE}/business", data).status_code == 302

    exported = analyst.post_form(f"{PAGE}/export", {})
    assert exported.status_code == 302
    assert "time_limit_days: 4" in (root / "processes/transfer_resale/business.yaml").read_text(encoding="utf-8")
    assert check_definitions(root) == []
    imported = analyst.post_form("/admin/import", {})
    assert imported.status_code == 302
    assert "transfer_resale: 未变化 (v2)" in analyst.get("/admin/").get_data(as_text=True)


def test_stage_permissions_are_edited_on_the_type_page_and_refused_next_to_the_row(page_login: Any,
                                                                                  seeded: Any) -> None:
    from app.catalog.service import current_version

    analyst = page_login("analyst")
    action = f"{PAGE}/stage-permissions"
    data = form_values(analyst.get(PAGE).get_data(as_text=True), action)
    assert data["perm-0-stage"] == "受理" and data["perm-0-role"] == "acceptor" and data["perm-0-act"] == ["1"]
    assert data["perm-0-editable"] == "use share_mode contract_no price"
    new = len([k for k in data if k.endswith("-stage")]) - 1  # the empty row for a new entry
    data.update({f"perm-{new}-stage": "登簿", f"perm-{new}-role": "recorder",
                 f"perm-{new}-hidden": "seller_phone、buyer_phone", f"perm-{new}-editable": "seller_name"})
    refused = analyst.post_form(action, data)
    assert refused.status_code == 422
    assert "不能在办理环节修改" in refused.get_data(as_text=True)
    data[f"perm-{new}-editable"] = ""
    saved = analyst.post_form(action, data)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    with seeded.extensions["db"].unit_of_work() as session:
        rows = current_version(session, "transfer_resale").definition["stage_permissions"]
    assert {"stage": "登簿", "role": "recorder", "hidden": ["seller_phone", "buyer_phone"]} in rows
    assert rows[0] == {"stage": "受理", "role": "acceptor", "act": True,
                       "editable": ["use", "share_mode", "contract_no", "price"]}
