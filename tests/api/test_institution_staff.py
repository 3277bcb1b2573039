"""Institutions as organisations (issue 19 §1): the bank's administrator manages its own branch and officer
accounts — creates, disables, re-enables, resets — and nothing beyond its organisation; an officer cannot act
as administrator; a new officer files in the bank's name."""
from __future__ import annotations

from typing import Any

from support.personas import Api

from app.demo import BANK

STRONG = "Officer#2026pass"


def test_the_institution_administrator_manages_its_own_staff(client: Any, login: Any) -> None:
    admin = login("bankadmin")
    created = admin.post("/api/v1/institutions/staff", json={"username": "bank_xixi_officer", "password": STRONG,
                                                             "role": "officer", "branch": "西溪支行"})
    assert created.status_code == 201, created.get_json()
    officer_id = created.get_json()["id"]
    assert created.get_json()["roles"] == ["institution"]
    listed = {s["username"] for s in admin.get("/api/v1/institutions/staff").get_json()["items"]}
    assert {"bank", "bankadmin", "bank_xixi_officer"} <= listed and "developer" not in listed

    officer = Api(client, "bank_xixi_officer", STRONG)
    # the officer acts in the bank's name: a 注销 of the bank's mortgage is prefilled with the bank's USCC
    from app.identifiers import make_unit_code

    filed = officer.post("/api/v1/applications", json={"business_type": "mortgage_cancel", "form": {
        "unit_code": make_unit_code("330106", 1, 1, "GB", 100, 1, 105), "reason": "debt_repaid"}})
    assert filed.status_code == 201, filed.get_json()
    assert filed.get_json()["form"]["mortgagee_uscc"] == BANK["id_number"]
    # an officer is no administrator
    denied = officer.post("/api/v1/institutions/staff", json={"username": "x_officer", "password": STRONG})
    assert denied.status_code == 403
    assert officer.post(f"/api/v1/institutions/staff/{officer_id}/disable").status_code == 403

    reset = admin.post(f"/api/v1/institutions/staff/{officer_id}/password", json={"password": "Another#2026pw"})
    assert reset.status_code == 200, reset.get_json()
    assert officer.get("/api/v1/applications").status_code == 401  # the old token died with the password
    officer = Api(client, "bank_xixi_officer", "Another#2026pw")
    assert admin.post(f"/api/v1/institutions/staff/{officer_id}/disable").get_json()["active"] is False
    assert officer.get("/api/v1/applications").status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "bank_xixi_officer",
                                                   "password": "Another#2026pw"}).status_code in (401, 403)
    assert admin.post(f"/api/v1/institutions/staff/{officer_id}/enable").get_json()["active"] is True


def test_another_organisations_accounts_cannot_be_touched(login: Any) -> None:
    admin, ops = login("bankadmin"), login("ops")
    developer_id = next(u["id"] for u in ops.get("/api/v1/institutions/supervision").get_json()["items"]
                        if u["type"] == "developer")  # an organisation id, not an account: not found either
    assert admin.post(f"/api/v1/institutions/staff/{developer_id}/disable").status_code == 404
    from sqlalchemy import select

    from app.identity.models import User

    with admin.client.application.extensions["db"].unit_of_work() as session:  # the accounts' ids
        dev_id = session.execute(select(User.id).where(User.username == "developer")).scalar_one()
        court_id = session.execute(select(User.id).where(User.username == "court")).scalar_one()
    for target in (dev_id, court_id):
        assert admin.post(f"/api/v1/institutions/staff/{target}/disable").status_code == 404
        assert admin.post(f"/api/v1/institutions/staff/{target}/password",
                          json={"password": "Another#2026pw"}).status_code == 404
    assert login("developer").get("/api/v1/applications").status_code == 200  # untouched
    assert login("developer").get("/api/v1/institutions/staff").status_code == 403  # no admin of its own
    assert login("zhangsan").get("/api/v1/institutions/staff").status_code == 403
    assert login("ops").get("/api/v1/institutions/staff").status_code == 403  # operators manage via /admin


def test_an_operators_new_institution_account_belongs_to_the_organisation_of_its_uscc(seeded: Any, page_login: Any,
                                                                                     login: Any) -> None:
    from app.identifiers import make_uscc

    ops, uscc = page_login("ops"), make_uscc("91", "330106", "MA2AGT02")
    for username in ("agent_a", "agent_b"):
        created = ops.post_form("/admin/users/new", {"kind": "institution", "username": username,
                                                     "password": "Ag3nt#2026x", "roles": ["institution"],
                                                     "institution_type": "agent", "id_number": uscc,
                                                     "real_name": "杭州示范登记代理有限公司"})
        assert created.status_code == 302, created.get_data(as_text=True)[:500]
    orgs = [o for o in login("ops").get("/api/v1/institutions/supervision").get_json()["items"] if o["uscc"] == uscc]
    assert len(orgs) == 1 and orgs[0]["accounts"] == 2 and orgs[0]["type"] == "agent"
    assert orgs[0]["name"] == "杭州示范登记代理有限公司"
