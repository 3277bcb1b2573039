"""Tenant isolation: a 余杭区 clerk never sees 西湖区 cases, tasks, units or certificates — not in any list
(API and pages), not by id in any detail view (the answer is 404, as for a row that does not exist) — and a
city-level operator sees both districts' rows with the district shown.

Operations pages: interfaces (with their call log and outbox) and the audit chain carry no district, so they
are city-level only (``CITY_ONLY`` permissions have no effect on an account bound to a district: 403). Logs,
the business-number trace and statistics are open to a district account granted log:* / stats:*, showing
its own district's rows only; a city-level operator sees every district's.

Each district gets one case taken through to a certificate: the demo developer's 首次登记 of a new flat,
handled by that district's own clerks."""
from __future__ import annotations

from typing import Any

import pytest
from support.cases import complete_stage, file_application

from app.identifiers import make_unit_code

DISTRICTS = {"330106": ("xh", "西湖区", "文三路"), "330110": ("yh", "余杭区", "文一西路")}


def _first_registration(login: Any, district: str, flat: int, through: bool) -> dict[str, Any]:
    prefix, area, _ = DISTRICTS[district]
    unit_code = make_unit_code(district, 1, 2, "GB", 200, 1, 200 + flat)
    form = {"unit_code": unit_code, "use": "住宅", "land_cert_no": f"浙(2024){area}不动产权第{9000 + flat:07d}号",
            "planning_permit_no": f"建字第{district}202400123号", "completion_filing_no": f"JB{district}-2026-0042",
            "surveyed_area_m2": 89.12}
    submitted = file_application(login, "developer", "first_registration", form)
    assert submitted.status_code == 200, submitted.get_json()
    business_no = submitted.get_json()["business_no"]
    if not through:  # left waiting at 受理: an open task in the office's queue
        return {"case_id": submitted.get_json()["id"], "business_no": business_no}
    for stage, role in (("受理", "acceptor"), ("审核", "reviewer"), ("登簿", "recorder"), ("缮证", "certifier")):
        resp = complete_stage(login(f"{prefix}_{role}"), business_no, stage)
        assert resp.status_code == 200, resp.get_json()
    case = login("developer").get(f"/api/v1/applications/{submitted.get_json()['id']}").get_json()
    tasks = login(f"{prefix}_acceptor").get("/api/v1/tasks", query_string={"business_no": business_no,
                                                                        "status": "completed"}).get_json()["items"]
    [certificate] = case["certificates"]
    return {"case_id": case["id"], "business_no": business_no, "unit_code": unit_code, "task_id": tasks[0]["id"],
            "certificate_id": certificate["id"], "material_id": case["materials"][0]["id"]}


@pytest.fixture
def two_districts(login: Any) -> dict[str, dict[str, Any]]:
    """Per district: one case issued its certificate, one waiting at 受理."""
    cases = {district: _first_registration(login, district, 1, through=True) for district in DISTRICTS}
    for district in DISTRICTS:
        cases[district]["open_business_no"] = _first_registration(login, district, 2, through=False)["business_no"]
    for district, person in (("330106", "zhangsan"), ("330110", "lisi")):  # a hall appointment in each district
        api = login(person)
        slot = api.get("/api/v1/appointments/slots", query_string={"tenant_id": district}).get_json()["items"][0]
        booked = api.post("/api/v1/appointments", json={"tenant_id": district, "business_type": "transfer_resale",
                                                        "day": slot["day"], "half": slot["half"]})
        assert booked.status_code == 201, booked.get_json()
        cases[district]["appointment_code"], cases[district]["appointment_day"] = (booked.get_json()["code"],
                                                                                   slot["day"])
    return cases


def _api_lists(api: Any, day: str) -> str:
    """Every list the API offers a clerk, concatenated (the business numbers and unit codes in them)."""
    bodies = []
    for status in ("open", "completed"):
        for tab in ("all", "done", "mine", "claimable"):
            resp = api.get("/api/v1/tasks", query_string={"status": status, "tab": tab, "per_page": 100})
            if not (tab == "all" and resp.status_code == 403):  # 全部 is the team leader's tab
                bodies.append(resp)
    for street in ("文三路", "文一西路", "示范花园"):
        bodies.append(api.get("/api/v1/units/search", query_string={"location": street, "purpose": "办理登记"}))
    bodies.append(api.get("/api/v1/appointments/day", query_string={"day": day}))
    assert all(b.status_code == 200 for b in bodies), [b.get_json() for b in bodies if b.status_code != 200]
    return "\n".join(b.get_data(as_text=True) for b in bodies)


def _api_details(xh: dict[str, Any]) -> list[str]:
    case = f"/api/v1/applications/{xh['case_id']}"
    return [case, f"{case}/progress", f"{case}/notices", f"{case}/verifications", f"/api/v1/tasks/{xh['task_id']}",
            f"/api/v1/units/{xh['unit_code']}", f"/api/v1/certificates/{xh['certificate_id']}/pdf",
            f"{case}/inquiry", f"{case}/payment"]


def _page_details(xh: dict[str, Any]) -> list[str]:
    case = f"/workbench/cases/{xh['case_id']}"
    portal = f"/my/applications/{xh['case_id']}"  # the applicant's view, open to staff who may read the case
    return [case, f"{case}/materials/{xh['material_id']}", f"{case}/notices/acceptance.pdf",
            f"/workbench/certificates/{xh['certificate_id']}.pdf", f"/workbench/window/{xh['case_id']}",
            f"{case}/inquiry.pdf", portal, f"{portal}/edit", f"{portal}/inquiry", f"{portal}/inquiry.pdf",
            f"{portal}/contract.pdf", f"{portal}/notices/acceptance.pdf", f"{portal}/receipt.pdf", f"{portal}/paid"]


def _portal_pages_of_own_case(yh: dict[str, Any]) -> list[str]:
    """The applicant-view pages that answer a clerk of the case's own district (so their 404 above is the
    district's doing, not the page's)."""
    portal = f"/my/applications/{yh['case_id']}"
    return [portal, f"{portal}/edit", f"{portal}/inquiry", f"{portal}/notices/acceptance.pdf"]


def _inbox_pages(user: Any) -> str:
    pages = [user.get("/workbench/", query_string={"tab": tab}) for tab in ("all", "done", "mine", "claimable")]
    pages = [p for tab, p in zip(("all", "done", "mine", "claimable"), pages, strict=True)
             if not (tab == "all" and p.status_code == 403)]  # 全部 is the team leader's tab
    assert all(p.status_code == 200 for p in pages), [p.status_code for p in pages]
    return "\n".join(p.get_data(as_text=True) for p in pages)


def test_a_district_clerk_sees_only_their_district(two_districts: dict[str, Any], login: Any,
                                                   page_login: Any) -> None:
    xh, yh = two_districts["330106"], two_districts["330110"]
    for username in ("yh_acceptor", "yh_certifier", "yh_leader"):
        api = login(username)
        lists = _api_lists(api, xh["appointment_day"])
        if xh["appointment_day"] == yh["appointment_day"]:
            assert yh["appointment_code"] in lists
        assert xh["appointment_code"] not in lists
        # the check sees what it looks for: its own district's work (done, or waiting at 受理) and units
        assert (yh["business_no"] in lists or yh["open_business_no"] in lists) and yh["unit_code"] in lists
        assert xh["business_no"] not in lists and xh["open_business_no"] not in lists
        assert xh["unit_code"] not in lists and "330106" not in lists
        for path in _api_details(xh):
            assert api.get(path).status_code == 404, (username, path)
        for path in _api_details(yh):
            assert api.get(path).status_code == 200, (username, path)

        user = page_login(username)
        inbox = _inbox_pages(user)
        assert yh["business_no"] in inbox or yh["open_business_no"] in inbox
        assert xh["business_no"] not in inbox and xh["open_business_no"] not in inbox
        for path in _page_details(xh):
            assert user.get(path).status_code == 404, (username, path)
        for path in _portal_pages_of_own_case(yh):
            assert user.get(path).status_code == 200, (username, path)
        case_page = user.get(f"/workbench/cases/{yh['case_id']}").get_data(as_text=True)
        assert "辖区：余杭区" in case_page and xh["business_no"] not in case_page


def test_the_other_way_round(two_districts: dict[str, Any], login: Any) -> None:
    xh, yh = two_districts["330106"], two_districts["330110"]
    api = login("xh_reviewer")
    lists = _api_lists(api, yh["appointment_day"])
    assert yh["appointment_code"] not in lists
    assert xh["business_no"] in lists  # 已办 by this reviewer
    assert yh["business_no"] not in lists and yh["open_business_no"] not in lists and yh["unit_code"] not in lists
    for path in _api_details(yh):
        assert api.get(path).status_code == 404, path


def test_city_level_sees_both_districts_with_the_district_shown(two_districts: dict[str, Any], login: Any,
                                                                page_login: Any) -> None:
    ops = login("ops")
    tasks = ops.get("/api/v1/tasks", query_string={"tab": "all", "per_page": 100}).get_json()  # every open task
    districts = {t["business_no"]: t["tenant_id"] for t in tasks["items"]}
    for code, row in two_districts.items():
        assert districts[row["open_business_no"]] == code
        assert ops.get(f"/api/v1/applications/{row['case_id']}").get_json()["tenant_id"] == code
        assert ops.get(f"/api/v1/units/{row['unit_code']}").get_json()["tenant_id"] == code
        assert ops.get(f"/api/v1/tasks/{row['task_id']}").status_code == 200
        day = ops.get("/api/v1/appointments/day", query_string={"day": row["appointment_day"]}).get_json()
        assert {a["code"]: a["tenant_id"] for a in day["items"]}[row["appointment_code"]] == code

    user = page_login("ops")
    inbox = user.get("/workbench/", query_string={"tab": "all"}).get_data(as_text=True)  # every open task
    for code, (_, name, _) in DISTRICTS.items():
        row = two_districts[code]
        cells = inbox.split(row["open_business_no"], 1)[1].split("</tr>", 1)[0]
        assert f'<td class="district">{name}</td>' in cells
        page = user.get(f"/workbench/cases/{row['case_id']}").get_data(as_text=True)
        assert f"辖区：{name}" in page
        assert user.get(f"/workbench/certificates/{row['certificate_id']}.pdf").status_code == 200
    only_yh = user.get("/workbench/", query_string={"tab": "all", "district": "330110"}).get_data(as_text=True)
    assert two_districts["330110"]["open_business_no"] in only_yh
    assert two_districts["330106"]["open_business_no"] not in only_yh


@pytest.fixture
def district_operator(db: Any) -> str:
    """余杭区's own operator (a 区局 supervisor): the 运维 role on an account bound to the district."""
    from app.demo import DEMO_PASSWORD
    from app.identity.service import create_user

    with db.unit_of_work() as session:
        create_user(session, username="yh_ops", password=DEMO_PASSWORD, roles=["ops"], tenant_id="330110")
    return "yh_ops"


def _csv_rows(resp: Any) -> list[list[str]]:
    import csv
    import io

    assert resp.status_code == 200, resp.status_code
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))[1:]  # without the header


def _exports(user: Any, business_no: str) -> dict[str, list[list[str]]]:
    """Per log kind, the rows about ``business_no``; and the trace of it; every row as CSV."""
    rows = {kind: _csv_rows(user.get("/admin/logs/export", query_string={"kind": kind, "business_no": business_no,
                                                                         "format": "csv"}))
            for kind in ("audit", "calls", "exceptions", "access")}
    rows["trace"] = _csv_rows(user.get("/admin/logs/trace", query_string={"business_no": business_no,
                                                                          "format": "csv"}))
    return rows


def test_a_district_operator_sees_its_own_district_in_logs_and_statistics(
        two_districts: dict[str, Any], submitted_transfer: dict[str, Any], login: Any, page_login: Any,
        district_operator: str) -> None:
    """西湖区's rows include 张三's transfer, whose submission called 公安, 住建 and 税务 (interface calls
    and a 完税 callback tied to the case): none of it reaches 余杭区's operator."""
    xh, yh = two_districts["330106"], two_districts["330110"]
    transfer = {"case_id": submitted_transfer["id"], "business_no": submitted_transfer["business_no"]}
    api = login(district_operator)
    for path in ("/api/v1/interfaces", "/api/v1/interfaces/calls", "/api/v1/outbox"):  # no district in them
        assert api.get(path).status_code == 403, path
    user = page_login(district_operator)
    for path in ("/admin/interfaces", "/admin/interfaces/gongan", "/admin/logs/audit-chain"):
        assert user.get(path).status_code == 403, path

    # every row first (the exports below are audited with their filters, which name the business numbers)
    everything = "\n".join(user.get("/admin/logs/export", query_string={"kind": kind, "format": "csv"})
                           .get_data(as_text=True) for kind in ("audit", "calls", "exceptions", "access"))
    assert yh["case_id"] in everything
    first_page = user.get("/admin/logs", query_string={"kind": "audit"}).get_data(as_text=True)
    assert xh["business_no"] not in first_page and transfer["business_no"] not in first_page
    for other in (xh, transfer):
        assert other["case_id"] not in everything and other["business_no"] not in everything
    for other in (xh, transfer):
        theirs = _exports(user, other["business_no"])
        assert all(not rows for rows in theirs.values()), theirs
    own = _exports(user, yh["business_no"])
    assert own["audit"] and own["trace"]  # the check sees what it looks for

    drill = user.get("/admin/stats/cases").get_data(as_text=True)
    assert yh["business_no"] in drill and xh["business_no"] not in drill
    exported = _csv_rows(user.get("/admin/stats/cases", query_string={"format": "csv"}))
    assert {r[0] for r in exported} >= {yh["business_no"], yh["open_business_no"]}
    assert {r[0] for r in exported}.isdisjoint({xh["business_no"], xh["open_business_no"]})
    data = user.get("/admin/stats/data", accept="application/json").get_json()
    assert [d["key"] for d in data["by_district"]] == ["330110"]
    assert "西湖区" not in user.get("/admin/stats/export", query_string={"format": "csv"}).get_data(as_text=True)


def test_a_city_operator_sees_every_district_in_logs_and_statistics(
        two_districts: dict[str, Any], submitted_transfer: dict[str, Any], login: Any, page_login: Any) -> None:
    api = login("ops")
    for path in ("/api/v1/interfaces", "/api/v1/interfaces/calls", "/api/v1/outbox"):
        assert api.get(path).status_code == 200, path
    user = page_login("ops")
    for path in ("/admin/interfaces", "/admin/interfaces/gongan", "/admin/logs/audit-chain"):
        assert user.get(path).status_code == 200, path
    exported = _csv_rows(user.get("/admin/stats/cases", query_string={"format": "csv"}))
    district_of = {r[0]: r[2] for r in exported}
    data = user.get("/admin/stats/data", accept="application/json").get_json()
    assert {d["key"] for d in data["by_district"]} >= set(DISTRICTS)
    for code, (_, name, _) in DISTRICTS.items():
        row = two_districts[code]
        assert district_of[row["business_no"]] == name and district_of[row["open_business_no"]] == name
        rows = _exports(user, row["business_no"])
        assert rows["audit"] and rows["trace"]
        assert {r[3] for r in rows["audit"]} == {code}  # 辖区 of each operation
    transfer = _exports(user, submitted_transfer["business_no"])  # the department calls a district cannot see
    assert transfer["calls"] and any(r[1] == "接口调用" for r in transfer["trace"])
