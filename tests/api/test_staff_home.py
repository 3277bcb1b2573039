"""After /login staff land on their own desk — clerks on the workbench inbox, analysts on the designer,
operators on operations — with a menu for their roles; applicants keep the citizens' hall; an explicit safe
``next`` still wins (found: clerks landed on the hall, whose menu offered 我的申请 and 实名认证)."""
from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from app.demo import DEMO_PASSWORD


def _sign_in(client: FlaskClient, username: str, query: str = "") -> str:
    page = client.get(f"/login{query}").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    resp = client.post(f"/login{query}", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return str(resp.headers["Location"])


def _menu(html: str) -> str:
    return re.search(r'<nav aria-label="主导航">(.*?)</nav>', html, re.S).group(1)  # type: ignore[union-attr]


@pytest.mark.parametrize(("username", "home"), [
    ("xh_acceptor", "/workbench/"), ("xh_leader", "/workbench/"), ("analyst", "/admin/"),
    ("ops", "/admin/interfaces"), ("zhangsan", "/"), ("bank", "/"),
])
def test_each_account_lands_on_its_own_home(client: FlaskClient, username: str, home: str) -> None:
    assert _sign_in(client, username) == home


def test_a_safe_next_still_wins_and_an_unsafe_one_falls_back_to_the_home(client: FlaskClient) -> None:
    assert _sign_in(client, "xh_acceptor", "?next=/workbench/window") == "/workbench/window"
    assert _sign_in(client, "xh_acceptor", "?next=//evil.example/x") == "/workbench/"


def test_the_staff_menus_show_their_roles_entries_and_link_the_desks(client: FlaskClient) -> None:
    _sign_in(client, "xh_acceptor")
    inbox = _menu(client.get("/workbench/").get_data(as_text=True))
    assert "待办箱" in inbox and "业务配置" not in inbox and "运维监管" not in inbox
    hall = _menu(client.get("/").get_data(as_text=True))
    assert "我的申请" not in hall and "实名认证" not in hall and 'href="/workbench/"' in hall

    _sign_in(client, "ops")  # 账户管理员 + 运维人员: both admin menus, each linking to the other
    config = _menu(client.get("/admin/users").get_data(as_text=True))
    assert "人员" in config and 'href="/admin/interfaces" class="desk">运维监管' in config
    ops = _menu(client.get("/admin/logs").get_data(as_text=True))
    assert "操作日志" in ops and ">业务配置</a>" in ops and "工作台" in ops

    _sign_in(client, "analyst")  # configuration only: no operations entries, no link there
    analyst = _menu(client.get("/admin/").get_data(as_text=True))
    assert "流程与业务类型" in analyst and "运维监管" not in analyst and "人员" not in analyst
