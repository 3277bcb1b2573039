"""Interface management pages: the operator lists every interface with its health, edits the policy and the
credential (encrypted, write-only, audited) and makes a test call through the real adapter to the
simulator; the call log is filtered per interface. Other staff are refused."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from support.servers import simulator_control

from app.integrations.interfaces import DEFAULTS
from app.integrations.models import Interface, InterfaceCallLog
from app.security.models import AuditEntry

FORM = {"base_url": "", "timeout_ms": "2500", "max_retries": "2", "breaker_threshold": "4",
        "breaker_cooldown_s": "60", "enabled": "1"}


def test_every_interface_is_listed_with_its_health(page_login: Any) -> None:
    ops = page_login("ops")
    html = ops.get("/admin/interfaces").get_data(as_text=True)
    for d in DEFAULTS:
        assert f'data-code="{d.code}"' in html and d.name in html
    assert "熔断" in html and "错误率" in html


@pytest.mark.parametrize("code", ["gongan", "zhujian", "shuiwu", "fayuan", "express", "province", "sms",
                                  "bank_receiver"])
def test_a_test_call_reaches_the_department_through_its_adapter(page_login: Any, db: Any, code: str) -> None:
    ops = page_login("ops")
    resp = ops.post_form(f"/admin/interfaces/{code}/test", {})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="probe-result"' in html and "测试调用成功" in html, html
    with db.unit_of_work() as session:
        line = session.execute(select(InterfaceCallLog).where(InterfaceCallLog.interface_code == code)).scalar_one()
        assert line.outcome == "ok" and line.actor_id is not None
        assert session.execute(select(AuditEntry).where(AuditEntry.action == "interface.test_call",
                                                        AuditEntry.object_id == code)).scalar_one()
    listed = ops.get("/admin/interfaces").get_data(as_text=True)
    row = listed.split(f'data-code="{code}"')[1].split("</tr>")[0]
    assert "0.0%" in row and ">ok<" in row


def test_a_failing_department_shows_the_failure_and_counts_for_the_breaker(page_login: Any, db: Any,
                                                                          simulator: Any) -> None:
    simulator_control(simulator, "gongan", "fail")
    ops = page_login("ops")
    html = ops.post_form("/admin/interfaces/gongan/test", {}).get_data(as_text=True)
    assert "测试调用失败" in html and "服务暂不可用" in html and "HTTP 503" in html
    with db.unit_of_work() as session:
        iface = session.execute(select(Interface).where(Interface.code == "gongan")).scalar_one()
        assert iface.failure_count == 1
        iface.breaker_state = "open"
        from app.db import utcnow
        iface.opened_at = utcnow()
    listed = ops.get("/admin/interfaces").get_data(as_text=True)
    row = listed.split('data-code="gongan"')[1].split("</tr>")[0]
    assert "熔断中" in row and "100.0%" in row and "重置熔断" in row
    assert ops.post_form("/admin/interfaces/gongan/reset-breaker", {}).status_code == 302
    with db.unit_of_work() as session:
        assert session.execute(select(Interface.breaker_state).where(Interface.code == "gongan")).scalar() == "closed"


def test_edits_are_validated_audited_and_the_credential_is_write_only(page_login: Any, db: Any,
                                                                      simulator: Any) -> None:
    ops = page_login("ops")
    bad = ops.post_form("/admin/interfaces/minzheng", {**FORM, "base_url": "ftp://x", "timeout_ms": "5"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "http:// 或 https://" in html and "100–60000" in html

    secret = "new-secret-credential-123"
    saved = ops.post_form("/admin/interfaces/minzheng", {**FORM, "base_url": simulator.url, "credential": secret})
    assert saved.status_code == 302
    page = ops.get("/admin/interfaces/minzheng").get_data(as_text=True)
    assert secret not in page and "已设置（加密保存" in page and 'value="2500"' in page
    with db.unit_of_work() as session:
        iface = session.execute(select(Interface).where(Interface.code == "minzheng")).scalar_one()
        assert (iface.timeout_ms, iface.max_retries, iface.breaker_threshold) == (2500, 2, 4)
        assert secret.encode() not in iface.credential_enc and iface.credential == secret
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "interface.update")).scalar_one()
        assert entry.after["timeout_ms"] == 2500 and entry.after["credential"] == "已更换"
        assert secret not in str(entry.after) + str(entry.before)

    # The simulator refuses the new credential: the test call says so (the real adapter sent it).
    assert "测试调用失败" in ops.post_form("/admin/interfaces/minzheng/test", {}).get_data(as_text=True)
    # Left empty, the credential is kept; unticked, the interface is disabled and a test call is refused.
    ops.post_form("/admin/interfaces/minzheng", {**FORM, "base_url": simulator.url, "enabled": ""})
    with db.unit_of_work() as session:
        iface = session.execute(select(Interface).where(Interface.code == "minzheng")).scalar_one()
        assert iface.credential == secret and iface.enabled is False
    assert "已停用" in ops.post_form("/admin/interfaces/minzheng/test", {}).get_data(as_text=True)


def test_the_call_log_is_filtered_by_interface(page_login: Any) -> None:
    ops = page_login("ops")
    ops.post_form("/admin/interfaces/gongan/test", {})
    ops.post_form("/admin/interfaces/fayuan/test", {})
    html = ops.get("/admin/logs?kind=calls&type=fayuan").get_data(as_text=True)
    assert "共 1 条" in html and "法律文书查询" in html and "身份核验" not in html  # operations in words


@pytest.mark.parametrize("username", ["xh_acceptor", "analyst", "zhangsan"])
def test_others_may_not_manage_interfaces(page_login: Any, username: str) -> None:
    user = page_login(username)
    assert user.get("/admin/interfaces").status_code == 403
    assert user.post_form("/admin/interfaces/gongan/test", {}).status_code == 403
    assert user.post_form("/admin/interfaces/gongan", FORM).status_code == 403


def test_the_administrator_sees_interfaces_but_may_not_change_them(page_login: Any) -> None:
    admin = page_login("admin")
    html = admin.get("/admin/interfaces").get_data(as_text=True)
    assert 'data-code="gongan"' in html and "配置与测试" not in html
    assert admin.post_form("/admin/interfaces/gongan/test", {}).status_code == 403
