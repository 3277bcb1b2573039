"""The province's view of what it collects (逐级归集): its operators' page ``/admin/federation/collected`` and the JSON
twin under /api/v1/federation/collected show the cases, certificates and register-log checkpoints the city really
reported (the city's outbox delivered, signed, to the province's live server), with filters, pages and each city's
reporting health, including the relay backlog to the national platform. Three platforms, each its own app and
database (tests/support/federation_platforms.py)."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support.cases import complete_stage, submit_transfer
from support.federation_platforms import CITY, NATIONAL, PROVINCE, Platforms, three_platforms
from support.forms import PDF
from support.personas import STAFF, Api

from app.clock import beijing_today
from app.demo import DEMO_PASSWORD, ZHANG_SAN
from app.federation import applications
from app.federation.assertion import Subject
from app.identifiers import make_unit_code
from app.integrations.outbox import deliver_pending

PAGE = "/admin/federation/collected"
API = "/api/v1/federation/collected"


@pytest.fixture
def platforms(seeded: Flask, base_database_url: str, database_templates: dict[str, str],
              tmp_path: Path) -> Iterator[Platforms]:
    with three_platforms(seeded, base_database_url, database_templates, tmp_path) as platforms:
        yield platforms


def _deliver(app: Flask) -> None:
    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        report = deliver_pending(session)
    assert report.dead == 0, str(report)


def _sign_in(client: FlaskClient, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page[:300]
    resp = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]


def _national_application(p: Platforms, ref: str) -> str:
    """A 变更登记 filed at the national platform, routed by the province to the city; its 业务号."""
    unit_code = make_unit_code("330106", 1, 1, "GB", 100, 1, 101)
    form = {"holder_name": ZHANG_SAN["name"], "holder_id_number": ZHANG_SAN["id_number"], "new_name": "张叁",
            "new_id_number": ZHANG_SAN["id_number"], "reason": "name_change"}
    uploads = [applications.Upload(code, f"{code}.pdf", PDF)
               for code in ("holder_identity", "title_certificate", "change_proof")]
    body = applications.build_body(origin=NATIONAL, ref=ref, business_type="holder_change", unit_code=unit_code,
                                   form=form, uploads=uploads, agreed_at="2026-12-06T10:00:00+08:00",
                                   statement="本人承诺", applicant=Subject(ZHANG_SAN["name"], ZHANG_SAN["id_number"],
                                                                       "face", "2026-12-01T08:00:00+00:00"))
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    sent = p.post_signed(p.province_url, "/federation/applications", raw, key=p.national_key, sender=NATIONAL,
                         audience=PROVINCE)
    assert sent.status_code == 200, sent.text
    return str(sent.json()["business_no"])


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-business-no="([^"]+)"', html)


def test_the_province_sees_what_its_city_reported(platforms: Platforms, login: Any) -> None:
    from app.registry.checkpoints import make_checkpoint

    national_no = _national_application(platforms, "REF-collected-1")
    for stage in ("受理", "审核", "登簿", "缮证"):  # the national application to its certificate at the city
        resp = complete_stage(login(STAFF[stage]), national_no, stage)
        assert resp.status_code == 200, resp.get_json()
    local_no = submit_transfer(login)["business_no"]  # a case filed at the city's own portal, just submitted
    with platforms.city.app_context(), platforms.city.extensions["db"].unit_of_work() as session:
        make_checkpoint(session)
    _deliver(platforms.city)  # signed reports and the checkpoint reach the province's live server

    ops = platforms.province.test_client()
    _sign_in(ops, "ops")
    page = ops.get(PAGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:500]
    assert set(_rows(html)) == {national_no, local_no}
    national_row = html.split(f'data-business-no="{national_no}"')[1].split("</tr>")[0]
    assert "杭州市" in national_row and '<td class="status">已办结</td>' in national_row
    assert 'data-origin="national"' in national_row and "全国平台" in national_row
    assert "核验</a>" in national_row and re.search(r"<code title=\"[0-9a-f]{64}\">", national_row)
    local_row = html.split(f'data-business-no="{local_no}"')[1].split("</tr>")[0]
    assert 'data-origin="city"' in local_row and "本市门户" in local_row and "核验</a>" not in local_row
    checkpoints = html.split('id="collected-checkpoints"')[1].split("</table>")[0]
    assert f'data-city="{CITY}"' in checkpoints and "#1" in checkpoints and "签名与内容一致" in checkpoints
    assert f'<a href="{PAGE}">各市归集</a>' in html  # the operators' menu links the page at a province
    assert ZHANG_SAN["name"] not in html and ZHANG_SAN["id_number"] not in html  # no personal data

    api = Api(platforms.province.test_client(), "ops", DEMO_PASSWORD)
    health = api.get(f"{API}/health").get_json()
    [city] = [c for c in health["cities"] if c["city"] == CITY]
    assert city["connected"] and city["cases"] == 2 and city["reports_24h"] >= 3 and city["last_report_at"]
    assert city["relay_pending"] > 0 and health["relay"]["pending"] == city["relay_pending"]  # not yet relayed
    assert health["counts"][CITY]["completed"] == 1 and sum(health["counts"][CITY].values()) == 2
    [checkpoint] = health["checkpoints"]
    assert (checkpoint["city"], checkpoint["seq"], checkpoint["consistent"]) == (CITY, 1, True)
    health_line = html.split('id="city-health"')[1].split("</table>")[0]
    assert f'<td class="relay-pending">{city["relay_pending"]}</td>' in health_line

    listed = api.get(API).get_json()
    assert listed["total"] == 2 and {r["business_no"] for r in listed["items"]} == {national_no, local_no}
    [filed] = [r for r in listed["items"] if r["business_no"] == national_no]
    assert (filed["origin"], filed["status"], filed["business_type"]) == ("national", "completed", "holder_change")
    [cert] = filed["certificates"]
    assert cert["certificate_no"] and len(cert["sha256"]) == 64 and cert["verify_url"]

    # filters, the same on the page and in the API
    today = beijing_today()
    for query, expected in (({"business_no": local_no}, {local_no}), ({"status": "completed"}, {national_no}),
                            ({"business_type": "transfer_resale"}, {local_no}), ({"city": "330200"}, set()),
                            ({"date_from": today.isoformat(), "date_to": today.isoformat()}, {national_no, local_no}),
                            ({"date_from": (today + timedelta(days=1)).isoformat()}, set()),
                            ({"date_to": (today - timedelta(days=1)).isoformat()}, set())):
        assert {r["business_no"] for r in api.get(API, query_string=query).get_json()["items"]} == expected, query
        assert set(_rows(ops.get(PAGE, query_string=query).get_data(as_text=True))) == expected, query
    bad = ops.get(PAGE, query_string={"date_from": "2026-13-01"})
    assert bad.status_code == 422 and "日期格式应为" in bad.get_data(as_text=True)
    assert api.get(API, query_string={"date_from": "nope"}).status_code == 422

    # pages: one row a page, newest report first, together the two
    first = api.get(API, query_string={"per_page": 1}).get_json()
    second = api.get(API, query_string={"per_page": 1, "page": 2}).get_json()
    assert (first["pages"], first["total"], second["page"]) == (2, 2, 2)
    assert {first["items"][0]["business_no"], second["items"][0]["business_no"]} == {national_no, local_no}
    assert first["items"][0]["updated_at"] >= second["items"][0]["updated_at"]
    paged = ops.get(PAGE, query_string={"per_page": 1, "city": CITY}).get_data(as_text=True)
    assert _rows(paged) == [first["items"][0]["business_no"]] and "第 1/2 页" in paged
    following = re.search(r'href="\?([^"]+)" rel="next"', paged)
    assert following and "city=330100" in following.group(1)
    then = ops.get(PAGE + "?" + following.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert _rows(then) == [second["items"][0]["business_no"]] and 'rel="prev"' in then and 'rel="next"' not in then

    _deliver(platforms.province)  # the relay reaches the national platform: the backlog empties
    health = api.get(f"{API}/health").get_json()
    assert health["relay"]["pending"] == 0 and [c["relay_pending"] for c in health["cities"]] == [0]


def test_only_the_provinces_operators_see_it(platforms: Platforms) -> None:
    clerk = platforms.province.test_client()
    _sign_in(clerk, "xh_acceptor")
    assert clerk.get(PAGE).status_code == 403
    assert Api(platforms.province.test_client(), "xh_acceptor", DEMO_PASSWORD).get(API).status_code == 403
    anonymous = platforms.province.test_client().get(PAGE)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert platforms.province.test_client().get(API).status_code == 401
    ops = platforms.province.test_client()
    _sign_in(ops, "ops")
    empty = ops.get(PAGE).get_data(as_text=True)
    assert "尚未归集到办件" in empty and "从未上报" in empty  # the configured city, before any report
    spec = platforms.province.test_client().get("/api/openapi.json").get_json()
    assert {"get"} == set(spec["paths"][API]) == set(spec["paths"][f"{API}/health"])  # documented, read-only
    assert {p["name"] for p in spec["paths"][API]["get"]["parameters"]} >= {"city", "status", "date_from", "page"}
    at_city = platforms.city.test_client()  # below the province the page and the API do not exist
    _sign_in(at_city, "ops")
    assert at_city.get(PAGE).status_code == 404
    refused = Api(platforms.city.test_client(), "ops", DEMO_PASSWORD).get(API)
    assert refused.status_code == 404 and refused.get_json()["code"] == "not_province"
