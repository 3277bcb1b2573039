"""Bad input is a 400 with a Chinese ``detail``, never a 500 nor an exception-log entry (issue 14 §2).

Found before the guard: NUL bytes and lone surrogates gave 500 on PostgreSQL in login, search, verify and
path ids; JSON nested thousands deep gave 500 (RecursionError) on every JSON endpoint.
"""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.input_guard import MAX_JSON_DEPTH, json_depth
from app.supervision.models import ExceptionLog

NUL = "ab\x00cd"
SURROGATE_JSON = '{"username": "zhang\\ud800san", "password": "x"}'


def _exceptions_logged(db: Any) -> int:
    with db.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(ExceptionLog)) or 0)


def _assert_problem_400(resp: Any) -> None:
    assert resp.status_code == 400, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body


def test_nul_bytes_in_login_search_verify_and_path_ids_are_400(client: Any, login: Any, db: Any) -> None:
    _assert_problem_400(client.post("/api/v1/auth/token", json={"username": NUL, "password": "x"}))
    clerk = login("xh_acceptor")
    _assert_problem_400(clerk.get("/api/v1/units/search", query_string={"location": NUL}))
    _assert_problem_400(clerk.get("/api/v1/tasks", query_string={"business_no": NUL}))
    _assert_problem_400(client.get("/api/v1/certificates/verify", query_string={"code": NUL}))
    _assert_problem_400(clerk.get("/api/v1/applications/ab%00cd"))
    applicant = login("zhangsan")
    _assert_problem_400(applicant.post("/api/v1/applications", json={"business_type": "transfer_resale",
                                                                     "form": {"buyer_name": NUL}}))
    assert _exceptions_logged(db) == 0


def test_lone_surrogates_in_json_are_400(client: Any, db: Any) -> None:
    resp = client.post("/api/v1/auth/token", data=SURROGATE_JSON, content_type="application/json")
    _assert_problem_400(resp)
    assert resp.get_json()["code"] == "bad_characters"
    assert _exceptions_logged(db) == 0


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/applications"])
def test_json_nested_thousands_deep_is_400(client: Any, login: Any, db: Any, path: str) -> None:
    body = '{"form": ' + "[" * 50_000 + "]" * 50_000 + "}"
    headers = login("zhangsan").headers if path != "/api/v1/auth/token" else {}
    resp = client.post(path, data=body, content_type="application/json", headers=headers)
    _assert_problem_400(resp)
    assert resp.get_json()["code"] == "json_too_deep"
    assert _exceptions_logged(db) == 0


def test_pages_answer_bad_input_with_the_html_error_page(client: Any, db: Any) -> None:
    resp = client.post("/login", data={"username": NUL, "password": "x"}, headers={"Accept": "text/html"})
    assert resp.status_code == 400
    assert "无效字符" in resp.get_data(as_text=True)
    resp = client.get("/verify/ab%00cd", headers={"Accept": "text/html"})
    assert resp.status_code == 400
    assert _exceptions_logged(db) == 0


def test_depth_counting_skips_brackets_inside_strings() -> None:
    assert json_depth('{"a": "[[[[[[", "b": [1, {"c": "\\"]]"}]}') == 3
    assert json_depth("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)) > MAX_JSON_DEPTH
