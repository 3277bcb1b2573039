"""Statistics dashboard: every figure equals a plain SQL count over the seeded rows — by district, month
(Beijing time), type and channel; processing time and SLA breaches per stage; materials waived by
sharing; certificates; appointments — with filters, drill-down to the applications and export."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from stats_data import CASES, seed_statistics

SUBMITTED = "FROM reg_case WHERE submitted_at IS NOT NULL"


@pytest.fixture
def stats_db(seeded: Any, db: Any) -> Any:
    seed_statistics(db)
    return db


def sql(db: Any, query: str, **params: Any) -> Any:
    with db.unit_of_work() as session:
        return session.execute(text(query), params).all()


def data(user: Any, query: str = "") -> dict[str, Any]:
    resp = user.get(f"/admin/stats/data?{query}", accept="application/json")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()  # type: ignore[no-any-return]


def by_key(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {i["key"]: i["value"] for i in items}


def test_application_figures_equal_sql_counts(stats_db: Any, page_login: Any) -> None:
    d = data(page_login("ops"))
    assert d["total"] == sql(stats_db, f"SELECT count(*) {SUBMITTED}")[0][0] == len(CASES)
    for figure, column in (("by_district", "tenant_id"), ("by_type", "business_type_code"),
                           ("by_channel", "channel")):
        counts = dict(sql(stats_db, f"SELECT {column}, count(*) {SUBMITTED} GROUP BY {column}"))
        assert by_key(d[figure]) == counts, figure
    assert {i["label"] for i in d["by_district"]} == {"西湖区", "余杭区"}
    assert by_key(d["by_channel"]) == {"online": 3, "window": 2, "institution": 2}
    # Months in Beijing time: 2026-03-31 17:30 UTC is 1 April there.
    months = {"2026-03": (datetime(2026, 2, 28, 16), datetime(2026, 3, 31, 16)),
              "2026-04": (datetime(2026, 3, 31, 16), datetime(2026, 4, 30, 16))}
    for month, (start, end) in months.items():
        n = sql(stats_db, f"SELECT count(*) {SUBMITTED} AND submitted_at >= :s AND submitted_at < :e",
                s=start, e=end)[0][0]
        assert by_key(d["by_period"])[month] == n
    assert by_key(d["by_period"]) == {"2026-03": 2, "2026-04": 5}


def test_stage_times_breaches_waivers_certificates_and_appointments(stats_db: Any, page_login: Any) -> None:
    d = data(page_login("ops"))
    done = dict(sql(stats_db, "SELECT stage, count(*) FROM task WHERE status = 'completed' GROUP BY stage"))
    assert {i["key"]: i["tasks"] for i in d["processing_hours"]} == done == {"受理": 7, "审核": 3}
    assert by_key(d["processing_hours"]) == {"受理": 2.0, "审核": 30.0}
    open_late = sql(stats_db, "SELECT count(*) FROM task WHERE status = 'open' AND due_at < :today",
                    today=datetime.now().date())[0][0]
    assert by_key(d["sla_breaches"]) == {"受理": 0, "审核": open_late + 3}  # 3 finished a day late

    waived = sql(stats_db, "SELECT count(*) FROM material_waiver")[0][0]
    uploaded = sql(stats_db, "SELECT count(*) FROM (SELECT DISTINCT case_id, code FROM material) AS m")[0][0]
    assert d["waivers"] == {"waived": waived, "uploaded": uploaded, "share": round(waived / (waived + uploaded), 4)}
    assert (waived, uploaded) == (5, 14)

    certs = dict(sql(stats_db, "SELECT kind, count(*) FROM certificate WHERE status <> 'voided' GROUP BY kind"))
    assert by_key(d["certificates"]) == certs == {"proof": 2, "title": 1}

    statuses = dict(sql(stats_db, "SELECT status, count(*) FROM appointment GROUP BY status"))
    assert d["appointments"] == {"booked": statuses["booked"] + statuses["checked_in"], "used": statuses["checked_in"],
                                 "cancelled": statuses["cancelled"], "share": 0.75}


def test_filters_narrow_every_figure(stats_db: Any, page_login: Any) -> None:
    ops = page_login("ops")
    d = data(ops, "tenant=330110&channel=online")
    n = sql(stats_db, f"SELECT count(*) {SUBMITTED} AND tenant_id = '330110' AND channel = 'online'")[0][0]
    assert d["total"] == n == 2 and by_key(d["by_district"]) == {"330110": 2}
    assert d["waivers"]["waived"] == 2 and d["certificates"] == []

    d = data(ops, "from=2026-04-01&to=2026-04-30&type=mortgage_first")
    assert d["total"] == 2 and by_key(d["by_period"]) == {"2026-04": 2}  # incl. the 1 April (Beijing) one
    assert by_key(d["certificates"]) == {"proof": 1}
    d = data(ops, "from=2026-04-01&to=2026-04-15&granularity=day")
    assert by_key(d["by_period"]) == {"2026-04-01": 1, "2026-04-08": 1, "2026-04-09": 1}
    assert d["appointments"]["used"] == 2

    bad = ops.get("/admin/stats?from=2026-13-01&channel=fax")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.get_data(as_text=True)


def test_drill_down_lists_the_applications_behind_a_bar(stats_db: Any, page_login: Any) -> None:
    ops = page_login("ops")
    html = ops.get("/admin/stats/cases?tenant=330106&channel=institution").get_data(as_text=True)
    n = sql(stats_db, f"SELECT count(*) {SUBMITTED} AND tenant_id = '330106' AND channel = 'institution'")[0][0]
    assert f'<span id="case-count">{n}</span>' in html and n == 2 and "机构申请" in html
    html = ops.get("/admin/stats/cases?period=2026-03").get_data(as_text=True)
    assert '<span id="case-count">2</span>' in html
    resp = ops.get("/admin/stats/cases?period=2026-04&format=csv")
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert rows[0][0] == "业务号" and len(rows) == 1 + 5


def test_the_dashboard_page_and_its_export(stats_db: Any, page_login: Any) -> None:
    ops = page_login("ops")
    html = ops.get("/admin/stats").get_data(as_text=True)
    assert '<strong id="kpi-total">7</strong>' in html and "所选范围内共受理申请 <strong>7</strong> 件" in html
    embedded = json.loads(html.split('<script type="application/json" id="stats-data">')[1].split("</script>")[0])
    assert embedded["total"] == 7 and "admin/build/charts.js" in html
    book = load_workbook(io.BytesIO(ops.get("/admin/stats/export?format=xlsx").get_data())).active
    values = {(r[0], r[1]): r[2] for r in list(book.values)[1:]}
    assert values[("申请总量", "合计")] == 7 and values[("按辖区申请量", "西湖区")] == 4
    assert values[("预约", "已到场")] == 3


@pytest.mark.parametrize("username", ["xh_acceptor", "analyst", "zhangsan"])
def test_others_may_not_read_statistics(stats_db: Any, page_login: Any, username: str) -> None:
    assert page_login(username).get("/admin/stats").status_code == 403


def test_the_channel_is_recorded_by_who_applies(client: Any, login: Any, db: Any) -> None:
    """An institution's own account applies as 机构申请; an applicant on the portal or the API as 网上申请
    (window intake records 窗口受理: tests/browser/test_workbench_window.py)."""
    from support.forms import transfer_form

    bank, owner = login("bank"), login("zhangsan")
    by_bank = bank.post("/api/v1/applications", json={"business_type": "mortgage_cancel", "form": {
        "unit_code": "330106001001GB00100F00010105", "reason": "debt_repaid"}})
    by_owner = owner.post("/api/v1/applications", json={"business_type": "transfer_resale", "form": transfer_form()})
    assert by_bank.status_code == by_owner.status_code == 201, (by_bank.get_json(), by_owner.get_json())
    channels = dict(sql(db, "SELECT id, channel FROM reg_case"))
    assert channels[by_bank.get_json()["id"]] == "institution" and channels[by_owner.get_json()["id"]] == "online"
