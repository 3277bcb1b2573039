"""Logs and supervision (综合监管): the operation, interface-call and exception logs queried by time, user,
business number and type; one business number traced across everything that touched it; CSV and XLSX
exports of exactly what was queried; unhandled errors captured without personal data; the audit chain
verified from the admin page and by command."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from page_fixtures import PageUser
from sqlalchemy import create_engine, func, select, update
from support.cases import complete_stage, take_through
from support.personas import STAFF

from app.demo import ZHANG_SAN
from app.integrations.models import InterfaceCallLog
from app.security.models import AuditEntry
from app.supervision.models import ExceptionLog


@pytest.fixture
def accepted_case(submitted_transfer: dict[str, Any], login: Any) -> str:
    """A 张三 → 李四 transfer, submitted (identity, contract and tax checked with departments) and accepted."""
    business_no = submitted_transfer["business_no"]
    assert complete_stage(login(STAFF["受理"]), business_no, "受理").status_code == 200
    return business_no


def _count(db: Any, stmt: Any) -> int:
    with db.unit_of_work() as session:
        return int(session.execute(stmt).scalar_one())


def test_the_operation_log_is_queried_by_user_type_business_number_and_time(accepted_case: str, page_login: Any,
                                                                           db: Any) -> None:
    ops = page_login("ops")
    everything = ops.get("/admin/logs?kind=audit").get_data(as_text=True)
    assert f"共 {_count(db, select(func.count()).select_from(AuditEntry))} 条" in everything

    by_user = ops.get("/admin/logs?kind=audit&user=xh_acceptor").get_data(as_text=True)
    with db.unit_of_work() as session:
        from app.identity.models import User
        acceptor = session.execute(select(User.id).where(User.username == "xh_acceptor")).scalar_one()
    n = _count(db, select(func.count()).where(AuditEntry.actor_id == acceptor))
    assert n >= 1 and f"共 {n} 条" in by_user and "办理任务" in by_user and "提交申请" not in by_user

    by_type = ops.get("/admin/logs?kind=audit&type=case.").get_data(as_text=True)
    n = _count(db, select(func.count()).where(AuditEntry.action.like("case.%")))
    assert f"共 {n} 条" in by_type and "提交申请" in by_type and "办理任务" not in by_type
    confirms = _count(db, select(func.count()).where(AuditEntry.action == "case.confirm"))
    stats = by_type.split('id="log-stats"')[1].split("</details>")[0]  # the query's rows counted by action
    assert confirms == 2 and f'<td data-code="case.confirm">确认申请</td><td>{confirms}</td>' in stats

    by_case = ops.get(f"/admin/logs?kind=audit&business_no={accepted_case}").get_data(as_text=True)
    assert "提交申请" in by_case and "办理任务" in by_case and "新增人员" not in by_case

    today = date.today()
    assert "共 0 条" in ops.get(f"/admin/logs?kind=audit&to={today - timedelta(days=2)}").get_data(as_text=True)
    around_today = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"
    assert "共 0 条" not in ops.get(f"/admin/logs?kind=audit&{around_today}").get_data(as_text=True)
    bad = ops.get("/admin/logs?kind=audit&from=2026-02-30")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.get_data(as_text=True)


def test_the_interface_call_log_by_business_number_and_outcome(accepted_case: str, page_login: Any, db: Any) -> None:
    ops = page_login("ops")
    html = ops.get(f"/admin/logs?kind=calls&business_no={accepted_case}").get_data(as_text=True)
    n = _count(db, select(func.count()).where(InterfaceCallLog.business_no == accepted_case))
    assert n >= 2 and "身份核验" in html and "推送税务案件" in html
    ok = _count(db, select(func.count()).where(InterfaceCallLog.outcome == "ok"))
    assert f"共 {ok} 条" in ops.get("/admin/logs?kind=calls&type=ok").get_data(as_text=True)
    # No personal data in the call log: ID numbers are masked by the adapters.
    assert ZHANG_SAN["id_number"] not in html and ZHANG_SAN["name"] not in html


def test_an_unhandled_error_is_captured_without_personal_data(seeded: Any, own_app: Any, page_login: Any,
                                                               db: Any) -> None:
    number = "2026330106200000042"[:18]

    @own_app.get("/workbench/boom/<business_no>")  # a route of the test's own: the shared app has served requests
    def boom(business_no: str) -> Any:
        raise RuntimeError(f"{ZHANG_SAN['name']} {ZHANG_SAN['id_number']} {business_no}")

    clerk = PageUser(own_app.test_client(), "xh_acceptor")
    resp = clerk.get(f"/workbench/boom/{number}?id_number={ZHANG_SAN['id_number']}")
    assert resp.status_code == 500 and ZHANG_SAN["id_number"] not in resp.get_data(as_text=True)
    with db.unit_of_work() as session:
        row = session.execute(select(ExceptionLog)).scalar_one()
        stored = str({c.name: getattr(row, c.name) for c in ExceptionLog.__table__.columns})
    assert row.exc_type == "builtins.RuntimeError" and row.business_no == number and row.actor_id
    assert row.path == f"/workbench/boom/{number}" and row.frames[-1]["function"] == "boom"
    assert ZHANG_SAN["name"] not in stored and ZHANG_SAN["id_number"] not in stored

    ops = page_login("ops")
    html = ops.get("/admin/logs?kind=exceptions&type=RuntimeError&user=xh_acceptor").get_data(as_text=True)
    assert "共 1 条" in html and "test_logs_admin.py" in html
    assert "共 0 条" in ops.get("/admin/logs?kind=exceptions&type=KeyError").get_data(as_text=True)
    trace = ops.get(f"/admin/logs/trace?business_no={number}").get_data(as_text=True)
    assert 'data-source="异常"' in trace


def test_one_business_number_is_traced_across_everything(accepted_case: str, page_login: Any) -> None:
    ops = page_login("ops")
    html = ops.get(f"/admin/logs/trace?business_no={accepted_case}").get_data(as_text=True)
    for source in ("操作日志", "办理进度", "接口调用", "消息外发"):
        assert f'data-source="{source}"' in html, source
    assert "提交申请" in html and "推送税务案件" in html and "办理进度（" in html
    assert ZHANG_SAN["id_number"] not in html
    # Oldest first: the submission comes before the acceptance.
    assert html.index("提交申请") < html.index("办理任务")
    assert "没有找到" in ops.get("/admin/logs/trace?business_no=2026999999000000").get_data(as_text=True)


def test_reads_are_in_the_access_log_and_the_trace(accepted_case: str, page_login: Any, db: Any) -> None:
    """Plain reads go to the unchained access log (no wait on the audit head); operators still find them."""
    from app.casefile.models import Case

    with db.unit_of_work() as session:
        case = session.execute(select(Case).where(Case.business_no == accepted_case)).scalar_one()
        case_id, material_id = case.id, case.materials[0].id
    clerk = page_login(STAFF["审核"])
    assert clerk.get(f"/workbench/cases/{case_id}/materials/{material_id}").status_code == 200
    ops = page_login("ops")
    html = ops.get(f"/admin/logs?kind=access&business_no={accepted_case}").get_data(as_text=True)
    assert "查看材料" in html and STAFF["审核"] in html
    assert "查看材料" not in ops.get(f"/admin/logs?kind=access&business_no={accepted_case}&user=nobody"
                                          ).get_data(as_text=True)
    trace = ops.get(f"/admin/logs/trace?business_no={accepted_case}").get_data(as_text=True)
    assert 'data-source="访问日志"' in trace and "查看材料" in trace


def test_the_trace_of_a_recorded_case_includes_its_register_entry(submitted_transfer: dict[str, Any], login: Any,
                                                                 page_login: Any) -> None:
    business_no = submitted_transfer["business_no"]
    take_through(login, business_no, ("受理", "审核", "登簿"))
    html = page_login("ops").get(f"/admin/logs/trace?business_no={business_no}").get_data(as_text=True)
    assert 'data-source="登记簿"' in html and "<td>登簿</td>" in html
    assert "国有建设用地使用权/房屋所有权登记 第 2 条记载" in html
    assert html.index("<td>登簿</td>") > html.index("提交申请")




def test_exports_carry_exactly_the_queried_rows(accepted_case: str, page_login: Any, db: Any) -> None:
    ops = page_login("ops")
    query = f"kind=audit&business_no={accepted_case}"
    listed = ops.get(f"/admin/logs?{query}").get_data(as_text=True)
    total = int(listed.split("共 ")[1].split(" 条")[0])

    resp = ops.get(f"/admin/logs/export?{query}&format=csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert rows[0][:5] == ["序号", "时间", "用户", "辖区", "操作"] and len(rows) == total + 1
    assert {r[4] for r in rows[1:]} >= {"提交申请", "办理任务"}

    resp = ops.get(f"/admin/logs/export?{query}&format=xlsx")
    sheet = load_workbook(io.BytesIO(resp.get_data())).active
    values = list(sheet.values)
    assert values[0][4] == "操作" and len(values) == total + 1

    trace = ops.get(f"/admin/logs/trace?business_no={accepted_case}&format=xlsx")
    lines = list(load_workbook(io.BytesIO(trace.get_data())).active.values)
    assert lines[0] == ("时间", "来源", "事项", "用户", "详情")
    assert {line[1] for line in lines[1:]} == {"操作日志", "办理进度", "接口调用", "消息外发"}
    with db.unit_of_work() as session:  # the export itself is on the record
        assert session.execute(select(func.count()).where(AuditEntry.action == "log.export")).scalar_one() == 2


def test_log_pages_need_the_log_permissions(page_login: Any) -> None:
    for username in ("xh_acceptor", "analyst"):
        user = page_login(username)
        assert user.get("/admin/logs?kind=audit").status_code == 403
        assert user.get("/admin/logs/trace?business_no=1").status_code == 403
    admin = page_login("admin")  # reads logs, but exporting is the operator's
    assert admin.get("/admin/logs?kind=calls").status_code == 200
    assert admin.get("/admin/logs/export?kind=calls&format=csv").status_code == 403


def test_the_audit_chain_is_verified_from_the_page_and_by_command(accepted_case: str, page_login: Any, db: Any,
                                                                 seeded: Any, owner_database_url: str) -> None:
    ops = page_login("ops")
    html = ops.post_form("/admin/logs/audit-chain", {}).get_data(as_text=True)
    assert "校验通过" in html
    runner = seeded.test_cli_runner()
    result = runner.invoke(args=["logs", "verify-audit"])
    assert result.exit_code == 0 and "审计链校验通过" in result.output

    owner = create_engine(owner_database_url)  # the tables' owner: on PostgreSQL the app's role may not UPDATE
    with owner.begin() as conn:  # someone edits an old entry behind the application's back
        entry = conn.execute(select(AuditEntry.seq, AuditEntry.after).where(AuditEntry.action == "case.submit")).one()
        conn.execute(update(AuditEntry).where(AuditEntry.seq == entry.seq)
                     .values(after={**(entry.after or {}), "status": "tampered"}))
        seq = entry.seq
    owner.dispose()
    html = ops.post_form("/admin/logs/audit-chain", {}).get_data(as_text=True)
    assert "发现 1 处断裂" in html and f"<td>{seq}</td>" in html
    result = runner.invoke(args=["logs", "verify-audit"])
    assert result.exit_code == 1 and f"第 {seq} 条" in result.output


def test_the_operation_log_is_filtered_by_the_actions_chinese_name(accepted_case: str, page_login: Any,
                                                                  db: Any) -> None:
    ops = page_login("ops")
    by_word = ops.get("/admin/logs?kind=audit&type=提交申请").get_data(as_text=True)
    n = _count(db, select(func.count()).where(AuditEntry.action == "case.submit"))
    assert n >= 1 and f"共 {n} 条" in by_word and "办理任务" not in by_word.split('id="log-rows"')[1]
