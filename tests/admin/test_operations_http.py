"""运维管理 on plain HTML forms as the demo operator ``ops``: people (create, edit, disable, reset password),
institution accounts, roles (add, edit, delete refused while held or named by a lane — saying which),
the permission catalogue, the organisation tree and district tenants (a disabled district's staff cannot
sign in)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import select
from support.cases import file_application

from app.identifiers import make_unit_code
from app.identity.models import OrgUnit, Role, Tenant, User
from app.identity.permissions import PERMISSIONS
from app.identity.seed import load_roles
from app.security.models import AuditEntry

ROOT = Path(__file__).resolve().parents[2]


def _user(db: Any, username: str) -> User:
    with db.unit_of_work() as session:
        return session.execute(select(User).where(User.username == username)).scalar_one()


def test_ops_creates_edits_disables_and_resets_a_staff_member(seeded: Any, db: Any, page_login: Any,
                                                              client: Any) -> None:
    ops = page_login("ops")
    with db.unit_of_work() as session:
        section = session.execute(select(OrgUnit).where(OrgUnit.code == "330106-SH")).scalar_one()
    weak = ops.post_form("/admin/users/new", {"kind": "staff", "username": "xh_new", "password": "aaxh_newaa",
                                              "tenant_id": "330106", "roles": ["reviewer"]})
    html = weak.get_data(as_text=True)
    assert weak.status_code == 422 and "不能包含用户名" in html and "至少 3 类" in html

    created = ops.post_form("/admin/users/new", {"kind": "staff", "username": "xh_new", "password": "Kq7#wz2Lp",
                                                 "real_name": "周新", "tenant_id": "330106",
                                                 "org_unit_id": section.id, "roles": ["reviewer"]})
    assert created.status_code == 302
    user = _user(db, "xh_new")
    assert (user.tenant_id, user.org_unit_id, user.role_codes) == ("330106", section.id, ["reviewer"])

    wrong_section = ops.post_form(f"/admin/users/{user.id}", {"tenant_id": "330110", "org_unit_id": section.id,
                                                              "roles": ["reviewer"]})
    assert wrong_section.status_code == 422 and "科室须属于该人员所在辖区" in wrong_section.get_data(as_text=True)
    edited = ops.post_form(f"/admin/users/{user.id}", {"tenant_id": "330106", "org_unit_id": section.id,
                                                       "real_name": "周新", "roles": ["reviewer", "recorder"]})
    assert edited.status_code == 302 and _user(db, "xh_new").role_codes == ["recorder", "reviewer"]
    assert "xh_new" in ops.get("/admin/users?tenant=330106").get_data(as_text=True)

    assert ops.post_form(f"/admin/users/{user.id}/active", {"active": "0"}).status_code == 302
    assert client.post("/api/v1/auth/token", json={"username": "xh_new", "password": "Kq7#wz2Lp"}).status_code == 401
    assert ops.post_form(f"/admin/users/{user.id}/active", {"active": "1"}).status_code == 302
    assert ops.post_form(f"/admin/users/{user.id}/password", {"password": "Nw8$rtY5q"}).status_code == 302
    assert client.post("/api/v1/auth/token", json={"username": "xh_new", "password": "Kq7#wz2Lp"}).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "xh_new", "password": "Nw8$rtY5q"}).status_code == 200
    applicant = ops.get(f"/admin/users/{_user(db, 'zhangsan').id}").get_data(as_text=True)
    assert "张三" not in applicant and "13800000001" not in applicant and "来自身份核验" in applicant
    with db.unit_of_work() as session:
        actions = session.execute(select(AuditEntry.action).where(AuditEntry.object_id == user.id)
                                  .order_by(AuditEntry.seq)).scalars().all()
    assert actions == ["user.create", "user.update", "user.disable", "user.enable", "user.password_reset"]


def test_institution_accounts_carry_a_uscc_and_a_type(seeded: Any, db: Any, page_login: Any) -> None:
    ops = page_login("ops")
    listing = ops.get("/admin/institutions").get_data(as_text=True)
    assert 'data-username="bank"' in listing and "银行" in listing and 'data-username="xh_acceptor"' not in listing
    missing = ops.post_form("/admin/users/new", {"kind": "institution", "username": "agent1", "password": "Ag3nt#2026x",
                                                 "roles": ["institution"], "institution_type": "agent"})
    assert missing.status_code == 422 and "统一社会信用代码" in missing.get_data(as_text=True)
    from app.identifiers import make_uscc

    created = ops.post_form("/admin/users/new", {"kind": "institution", "username": "agent1", "password": "Ag3nt#2026x",
                                                 "roles": ["institution"], "institution_type": "agent",
                                                 "real_name": "杭州示范房产经纪有限公司",
                                                 "id_number": make_uscc("91", "330106", "MA2AGT01")})
    assert created.status_code == 302
    agent = _user(db, "agent1")
    assert (agent.kind, agent.institution_type, agent.tenant_id) == ("institution", "agent", None)


def test_roles_are_classified_edited_and_deleted_only_when_unused(seeded: Any, db: Any, page_login: Any) -> None:
    ops = page_login("ops")
    listing = ops.get("/admin/roles").get_data(as_text=True)
    assert re.search(r'data-category="management".*data-code="admin"', listing, re.S)

    bad = ops.post_form("/admin/roles/new", {"code": "Surveyor", "name": "", "category": "business",
                                             "scope": "tenant", "permissions": ["case:read", "case:fly"]})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "小写字母" in html and "请填写角色名称" in html and "未知权限：case:fly" in html
    assert ops.post_form("/admin/roles/new", {"code": "surveyor", "name": "测绘审核员", "category": "business",
                                              "scope": "tenant", "permissions": ["case:read", "unit:read"]}
                         ).status_code == 302
    assert ops.post_form("/admin/roles/surveyor", {"name": "测绘审核人员", "category": "business", "scope": "city",
                                                    "permissions": ["case:read"]}).status_code == 302
    with db.unit_of_work() as session:
        role = session.get(Role, "surveyor")
        assert (role.name, role.scope, role.permissions) == ("测绘审核人员", "city", ["case:read"])
    grants = ["case:read", "task:read", "task:claim", "task:complete", "unit:read"]  # the reviewer's own
    assert ops.post_form("/admin/roles/reviewer", {"name": "审核人员", "category": "business", "scope": "tenant",
                                                   "permissions": [*grants, "pii:unmask"]}).status_code == 302
    with db.unit_of_work() as session:
        load_roles(session)  # `flask setup` on the next deployment keeps the operator's grant
    with db.unit_of_work() as session:
        assert "pii:unmask" in session.get(Role, "reviewer").permissions
        assert session.get(Role, "recorder").customised is False

    held = ops.post_form("/admin/roles/recorder/delete", {})
    message = ops.get("/admin/roles").get_data(as_text=True)
    assert held.status_code == 302 and "不能删除角色“登簿人员”" in message and "xh_recorder" in message
    assert "流程泳道仍指定该角色" in message and "存量房转移登记" in message

    assert ops.post_form("/admin/roles/surveyor/delete", {}).status_code == 302
    with db.unit_of_work() as session:
        assert session.get(Role, "surveyor") is None and session.get(Role, "recorder") is not None


def test_the_permission_catalogue_lists_every_enforced_and_granted_code(seeded: Any, page_login: Any) -> None:
    import yaml

    enforced = set()
    for path in (ROOT / "app").rglob("*.py"):
        enforced |= set(re.findall(r"\.(?:require|has)\(\"([a-z_]+:[a-z_]+)\"\)", path.read_text(encoding="utf-8")))
    granted = {p for r in yaml.safe_load((ROOT / "dictionaries" / "roles.yaml").read_text(encoding="utf-8"))["roles"]
               for p in r["permissions"]}
    assert enforced and not (enforced | granted) - set(PERMISSIONS)
    page = page_login("ops").get("/admin/permissions").get_data(as_text=True)
    assert "查看完整个人信息（留痕）" in page and "pii:unmask" in page and "科室负责人" in page
    row = r'data-stage="登簿" data-role="recorder"><td>登簿</td><td>登簿人员（recorder）</td><td>[^<]*存量房转移登记'
    assert re.search(row, page)


def test_org_tree_and_district_tenants(seeded: Any, db: Any, page_login: Any, client: Any, login: Any) -> None:
    ops = page_login("ops")
    tree = ops.get("/admin/orgs").get_data(as_text=True)
    assert tree.index("杭州市不动产登记中心") < tree.index("西湖区不动产登记机构") < tree.index("受理科")

    bad = ops.post_form("/admin/tenants", {"code": "320102", "name": "滨江区", "parent_code": "330100"})
    assert bad.status_code == 422 and "应以上级 3301 开头" in bad.get_data(as_text=True)
    assert ops.post_form("/admin/tenants", {"code": "330108", "name": "滨江区", "parent_code": "330100"}
                         ).status_code == 302
    with db.unit_of_work() as session:
        office = session.execute(select(OrgUnit).where(OrgUnit.code == "330108")).scalar_one()
        assert office.kind == "district" and office.tenant_id == "330108"
    added = ops.post_form("/admin/orgs", {"code": "330108-SL", "name": "受理科", "parent_id": office.id})
    assert added.status_code == 302
    with db.unit_of_work() as session:
        section = session.execute(select(OrgUnit).where(OrgUnit.code == "330108-SL")).scalar_one()
        assert (section.kind, section.tenant_id, section.parent_id) == ("section", "330108", office.id)

    yh_clerk = client.post("/api/v1/auth/token", json={"username": "yh_acceptor", "password": "Demo@2026"})
    yh_headers = {"Authorization": f"Bearer {yh_clerk.get_json()['access_token']}"}
    assert ops.post_form("/admin/tenants/330110/enabled", {"enabled": "0"}).status_code == 302
    assert client.get("/api/v1/tasks", headers=yh_headers).status_code == 401  # a token from before, too
    form = {"unit_code": make_unit_code("330110", 1, 2, "GB", 200, 1, 201), "use": "住宅",
            "land_cert_no": "浙(2024)余杭区不动产权第0009001号", "planning_permit_no": "建字第330110202400123号",
            "completion_filing_no": "JB330110-2026-0042", "surveyed_area_m2": 89.12}
    refused_case = file_application(login, "developer", "first_registration", form)
    assert refused_case.status_code == 409 and "余杭区登记机构已停用" in refused_case.get_json()["detail"]
    refused = client.post("/api/v1/auth/token", json={"username": "yh_acceptor", "password": "Demo@2026"})
    assert refused.status_code == 401 and "余杭区" in refused.get_json()["detail"]
    allowed = client.post("/api/v1/auth/token", json={"username": "xh_acceptor", "password": "Demo@2026"})
    assert allowed.status_code == 200
    assert ops.post_form("/admin/tenants/330110/enabled", {"enabled": "1"}).status_code == 302
    with db.unit_of_work() as session:
        assert session.get(Tenant, "330110").enabled


def test_operations_pages_refuse_staff_without_the_permission(seeded: Any, page_login: Any) -> None:
    clerk = page_login("xh_acceptor")
    for path in ("/admin/users", "/admin/roles", "/admin/orgs", "/admin/tenants", "/admin/permissions"):
        assert clerk.get(path).status_code == 403, path
    analyst = page_login("analyst")
    assert analyst.get("/admin/users").status_code == 403
