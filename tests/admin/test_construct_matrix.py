"""Acceptance matrix (issue 15 §1): each BPMN construct SpiffWorkflow can parse, inserted into the shipped
transfer_resale diagram, is either refused by the designer with a Chinese message on its element, or
publishes and carries a real case to 已办结 through the real runtime — never a 500, never a stranded case.
Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

import re
from typing import Any

import pytest
from construct_matrix import REFUSED, RUNS
from support.cases import file_application, take_through
from support.forms import transfer_form

API = "/admin/api/types/transfer_resale"
_NOT_FOR_ANALYSTS = re.compile(r"0x[0-9a-f]+|<Element |Element '|\{http|Traceback|Exception|Error:")


def _readable(message: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", message)) and not _NOT_FOR_ANALYSTS.search(message)


def test_each_refused_construct_is_refused_on_its_element_in_chinese(page_login: Any) -> None:
    analyst = page_login("analyst")
    wrong: list[str] = []
    for construct, (make, elements) in REFUSED.items():
        xml = make()
        checked = analyst.post_json(f"{API}/validate", {"xml": xml})
        body = checked.get_json()
        if checked.status_code != 200 or body["ok"]:
            wrong.append(f"{construct}: validate {checked.status_code} ok={body.get('ok')}")
            continue
        if not any(e["element"] in elements for e in body["errors"]):
            wrong.append(f"{construct}: no error on {elements}: {body['errors']}")
        wrong += [f"{construct}: unreadable {e}" for e in body["errors"] if not _readable(e["message"])]
        published = analyst.post_json(f"{API}/publish", {"xml": xml})
        if published.status_code != 422 or published.get_json()["errors"] != body["errors"]:
            wrong.append(f"{construct}: publish {published.status_code}, not the same refusal as validate")
        tried = analyst.post_json(f"{API}/dry-run", {"xml": xml})
        if tried.status_code != 422:
            wrong.append(f"{construct}: dry run {tried.status_code}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("construct", list(RUNS))
def test_each_supported_construct_runs_a_real_case_to_its_end(construct: str, page_login: Any, login: Any) -> None:
    xml = RUNS[construct]()
    analyst = page_login("analyst")
    checked = analyst.post_json(f"{API}/validate", {"xml": xml}).get_json()
    assert checked["ok"], checked
    tried = analyst.post_json(f"{API}/dry-run", {"xml": xml}).get_json()
    assert tried["finished"] and tried["end_event"] == "end_registered", tried
    published = analyst.post_json(f"{API}/publish", {"xml": xml})
    assert published.status_code == 200, published.get_json()

    submitted = file_application(login, "zhangsan", "transfer_resale", transfer_form(), confirmers=("lisi",))
    assert submitted.status_code == 200, submitted.get_json()
    take_through(login, submitted.get_json()["business_no"])
    case = login("zhangsan").get(f"/api/v1/applications/{submitted.get_json()['id']}").get_json()
    assert case["status"] == "completed", case
