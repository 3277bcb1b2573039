"""What the condition builder and the dry run's generated form get from the server: the fields a flow or a
fee may test (Chinese labels, choices, no personal data), sample data from the application form, and a dry run
driven by a choice per task (the choice alone is enough: the rest of the task's form is simulated)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BPMN = (ROOT / "processes" / "transfer_resale" / "process.bpmn").read_text(encoding="utf-8")
API = "/admin/api/types/transfer_resale"


def designer_config(html: str) -> dict[str, Any]:
    found = re.search(r'<script id="designer-config" type="application/json">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def test_the_designer_gets_condition_fields_and_a_generated_sample_application(page_login: Any) -> None:
    config = designer_config(page_login("analyst").get("/admin/designer/transfer_resale").get_data(as_text=True))
    application = {f["name"]: f for f in config["conditions"]["application"]}
    assert application["use"]["label"] == "房屋用途"
    assert [o["value"] for o in application["use"]["options"]] == ["住宅", "非住宅"]
    assert "seller_id_number" not in application  # personal data never reaches the process data
    review = {f["name"]: f for f in config["conditions"]["forms"]["decision_review"]}
    assert {o["value"] for o in review["decision"]["options"]} >= {"approve", "reject"}

    trial = config["trial"]
    assert "seller_name" not in trial["sample"] and trial["sample"]["use"] == "住宅"
    assert {f["name"] for f in trial["fields"]} >= {"use", "price", "remarks"}
    schema = json.loads((ROOT / "forms" / "transfer_resale_application.json").read_text(encoding="utf-8"))
    assert {f["name"]: f for f in trial["fields"]}["price"]["label"] == schema["properties"]["price"]["title"]


def test_the_generated_sample_runs_and_a_bare_choice_per_task_decides_the_path(page_login: Any) -> None:
    analyst = page_login("analyst")
    sample = designer_config(analyst.get("/admin/designer/transfer_resale").get_data(as_text=True))["trial"]["sample"]
    approved = analyst.post_json(f"{API}/dry-run", {"xml": BPMN, "data": sample}).get_json()
    assert approved["finished"] and approved["end_event"] == "end_registered"

    refused = analyst.post_json(f"{API}/dry-run", {"xml": BPMN, "data": sample,
                                                   "decisions": {"task_review": {"decision": "reject"}}}).get_json()
    assert refused["end_event"] == "end_refused"
    review = next(s for s in refused["steps"] if s["element"] == "task_review")
    assert review["data"]["decision"] == "reject" and review["data"]["opinion"]  # the form's opinion simulated


def test_the_type_page_offers_the_fee_condition_builder(page_login: Any) -> None:
    html = page_login("analyst").get("/admin/types/transfer_resale").get_data(as_text=True)
    found = re.search(r'<script id="fee-condition-fields" type="application/json">(.*?)</script>', html, re.S)
    assert found and "admin/build/conditions.js" in html
    fields = {f["name"]: f for f in json.loads(found.group(1))}
    assert fields["use"]["options"][1] == {"value": "非住宅", "label": "非住宅"}
    assert "remarks" in fields and "buyer_name" not in fields

